/**
 * Builds and solves a block on a getblocktemplate answer the way a simple miner would: a BIP34
 * coinbase paying the whole coinbase value to one script (plus the witness commitment), the
 * template's transactions, the merkle root, then a nonce search. The embedded node uses it for
 * `mineBlock` ("another pool finds a block") and tests use its hooks to tamper with candidates.
 * Pure: time comes from the template or the caller.
 */
import { concatBytes, displayHexToInternal, equalBytes, hexToBytes } from "../bitcoin/bytes.ts";
import { serializeBlock } from "../bitcoin/block.ts";
import { sha256d } from "../bitcoin/hash.ts";
import { serializeHeader, type BlockHeader } from "../bitcoin/header.ts";
import { merkleRoot } from "../bitcoin/merkle.ts";
import { bip34HeightScript } from "../bitcoin/script.ts";
import { hashMeetsTarget, nbitsToTarget, targetToLeBytes } from "../bitcoin/target.ts";
import { parseTransaction, txid, wtxid, type Transaction } from "../bitcoin/tx.ts";
import { findWitnessCommitment, witnessCommitment, witnessCommitmentScript, witnessMerkleRoot } from "../bitcoin/witness.ts";
import { StratumV2Error } from "../errors.ts";
import type { GetBlockTemplateResult } from "../pool/template.ts";

/** OP_TRUE: anyone can spend; the embedded chain's default payout. */
export const OP_TRUE_SCRIPT: Uint8Array = Uint8Array.of(0x51);
const TAG = new TextEncoder().encode("/sv2pool-embedded/");

export interface CandidateOptions {
  payoutScript?: Uint8Array;
  /** Include the template's transactions (default true; without them the commitment is recomputed). */
  withTransactions?: boolean;
  /** Header time; default the template's curtime. */
  time?: number;
  /** Extra bytes in the coinbase scriptSig, to make blocks on the same template differ. */
  extraNonce?: Uint8Array;
  /**
   * Edit the transactions (coinbase first) before the merkle root is computed. The coinbase's
   * witness commitment is then recomputed for the edited list, unless `keepCommitment`.
   */
  editTransactions?: (txs: Transaction[]) => void;
  keepCommitment?: boolean;
  /** Edit the header after the merkle root is set, before the nonce search. */
  editHeader?: (header: BlockHeader) => void;
  /** Search for a hash that misses the target (a "high-hash" block). */
  missTarget?: boolean;
  /** Give up after this many nonces. */
  maxTries?: number;
}

export interface SolvedBlock {
  header: BlockHeader;
  transactions: Transaction[];
  /** Serialized block, with witnesses. */
  bytes: Uint8Array;
  /** Header hash, internal order. */
  hash: Uint8Array;
  tries: number;
}

/** The coinbase a simple miner builds for the template, paying `value`. */
export function buildCoinbase(gbt: GetBlockTemplateResult, payoutScript: Uint8Array, extraNonce: Uint8Array, value: bigint): Transaction {
  const commitment = gbt.default_witness_commitment;
  const outputs = [{ value, script: payoutScript }];
  if (commitment !== undefined && commitment.length > 0) outputs.push({ value: 0n, script: hexToBytes(commitment) });
  return {
    version: 2,
    inputs: [
      {
        prevTxid: new Uint8Array(32),
        prevVout: 0xffffffff,
        // The tag also keeps the scriptSig ≥ 2 bytes when the height is a one-byte OP_n.
        scriptSig: concatBytes(bip34HeightScript(gbt.height), Uint8Array.of(TAG.length), TAG, Uint8Array.of(extraNonce.length), extraNonce),
        sequence: 0xfffffffe,
        witness: commitment !== undefined && commitment.length > 0 ? [new Uint8Array(32)] : [],
      },
    ],
    outputs,
    locktime: Math.max(0, gbt.height - 1),
  };
}

/** Rewrites the coinbase's witness commitment output (if any) for the current transaction list. */
function recommit(transactions: Transaction[]): void {
  const coinbase = transactions[0];
  if (coinbase === undefined || findWitnessCommitment(coinbase) === null) return;
  const head = witnessCommitmentScript(new Uint8Array(32)).subarray(0, 6);
  const wtxids = [new Uint8Array(32), ...transactions.slice(1).map((t) => wtxid(t))];
  const nonce = coinbase.inputs[0]?.witness[0] ?? new Uint8Array(32);
  const script = witnessCommitmentScript(witnessCommitment(witnessMerkleRoot(wtxids), nonce));
  for (let i = coinbase.outputs.length - 1; i >= 0; i--) {
    const out = coinbase.outputs[i] as { script: Uint8Array };
    if (out.script.length >= 38 && equalBytes(out.script.subarray(0, 6), head)) {
      out.script = script;
      return;
    }
  }
}

/** Builds a block on `gbt` and searches a nonce (see CandidateOptions for the tampering hooks). */
export function solveBlock(gbt: GetBlockTemplateResult, options: CandidateOptions = {}): SolvedBlock {
  const withTransactions = options.withTransactions ?? true;
  // Without the template's transactions, their fees are not the coinbase's to claim.
  const fees = withTransactions ? 0 : gbt.transactions.reduce((sum, t) => sum + (t.fee ?? 0), 0);
  const value = BigInt(gbt.coinbasevalue - fees);
  const coinbase = buildCoinbase(gbt, options.payoutScript ?? OP_TRUE_SCRIPT, options.extraNonce ?? new Uint8Array(0), value);
  const transactions: Transaction[] = [coinbase];
  if (withTransactions) {
    for (const t of gbt.transactions) transactions.push(parseTransaction(hexToBytes(t.data)));
  }
  options.editTransactions?.(transactions);
  const changed = options.editTransactions !== undefined || (!withTransactions && gbt.transactions.length > 0);
  if (changed && !(options.keepCommitment ?? false)) recommit(transactions);
  const header: BlockHeader = {
    version: gbt.version,
    prevHash: displayHexToInternal(gbt.previousblockhash),
    merkleRoot: transactions.length === 0 ? new Uint8Array(32) : merkleRoot(transactions.map((t) => txid(t))),
    time: options.time ?? gbt.curtime,
    bits: Number.parseInt(gbt.bits, 16),
    nonce: 0,
  };
  options.editHeader?.(header);
  let targetLe: Uint8Array;
  try {
    targetLe = targetToLeBytes(nbitsToTarget(header.bits));
  } catch {
    // An invalid nBits has no target to meet: any nonce gives the "high-hash" answer.
    targetLe = new Uint8Array(32);
  }
  const want = !(options.missTarget ?? false);
  const maxTries = options.maxTries ?? 2 ** 32;
  for (let tries = 1; tries <= maxTries; tries++) {
    const hash = sha256d(serializeHeader(header));
    if (hashMeetsTarget(hash, targetLe) === want) {
      return { header, transactions, bytes: serializeBlock({ header, transactions }), hash, tries };
    }
    header.nonce = (header.nonce + 1) >>> 0;
    if (header.nonce === 0) header.time++;
  }
  throw StratumV2Error.pool(`no nonce found in ${maxTries} tries`);
}
