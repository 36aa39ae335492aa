/** Whole blocks: header + CompactSize count + transactions. */
import { StratumV2Error } from "../errors.ts";
import { concatBytes } from "./bytes.ts";
import { encodeCompactSize, readCompactSize } from "./compactsize.ts";
import { HEADER_SIZE, parseHeader, serializeHeader, type BlockHeader } from "./header.ts";
import { parseTransactionAt, serializeTransaction, type Transaction } from "./tx.ts";

export interface Block {
  header: BlockHeader;
  transactions: Transaction[];
}

export function parseBlock(bytes: Uint8Array): Block {
  const header = parseHeader(bytes, 0);
  const count = readCompactSize(bytes, HEADER_SIZE);
  let offset = HEADER_SIZE + count.size;
  if (count.value * 60 > bytes.length - offset) throw StratumV2Error.invalidData(`block: ${count.value} transactions cannot fit`);
  const transactions: Transaction[] = [];
  for (let i = 0; i < count.value; i++) {
    const { tx, size } = parseTransactionAt(bytes, offset);
    transactions.push(tx);
    offset += size;
  }
  if (offset !== bytes.length) throw StratumV2Error.invalidData(`block: ${bytes.length - offset} trailing bytes`);
  return { header, transactions };
}

export function serializeBlock(block: Block): Uint8Array {
  return concatBytes(
    serializeHeader(block.header),
    encodeCompactSize(block.transactions.length),
    ...block.transactions.map((t) => serializeTransaction(t, true)),
  );
}
