/** Transactions: parse and serialize (BIP144 witness form), txid and wtxid. */
import { StratumV2Error } from "../errors.ts";
import { readI32LE, readU32LE, readU64LE, writeU32LE, writeU64LE } from "./bytes.ts";
import { compactSizeLength, readCompactSize, writeCompactSize } from "./compactsize.ts";
import { sha256d } from "./hash.ts";

export interface TxIn {
  /** Previous txid, internal order. */
  prevTxid: Uint8Array;
  prevVout: number;
  scriptSig: Uint8Array;
  sequence: number;
  /** Witness stack; empty when the input has none. */
  witness: Uint8Array[];
}

export interface TxOut {
  /** Satoshis. */
  value: bigint;
  script: Uint8Array;
}

export interface Transaction {
  version: number;
  inputs: TxIn[];
  outputs: TxOut[];
  locktime: number;
}

export function hasWitness(tx: Transaction): boolean {
  return tx.inputs.some((i) => i.witness.length > 0);
}

/** Cursor that fails with a clear error instead of reading past the end. */
class TxReader {
  constructor(readonly buf: Uint8Array, public pos: number) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw StratumV2Error.invalidData(`transaction truncated reading ${what} at offset ${this.pos}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = readU32LE(this.buf, this.pos);
    this.pos += 4;
    return v;
  }
  i32(what: string): number {
    this.need(4, what);
    const v = readI32LE(this.buf, this.pos);
    this.pos += 4;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = readU64LE(this.buf, this.pos);
    this.pos += 8;
    return v;
  }
  varint(what: string): number {
    try {
      const r = readCompactSize(this.buf, this.pos);
      this.pos += r.size;
      return r.value;
    } catch {
      throw StratumV2Error.invalidData(`transaction: bad length for ${what} at offset ${this.pos}`);
    }
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  varbytes(what: string): Uint8Array {
    return this.bytes(this.varint(what), what);
  }
}

export interface ParsedTransaction {
  tx: Transaction;
  /** Bytes consumed. */
  size: number;
}

/** Parses one transaction at `offset` (used for blocks). */
export function parseTransactionAt(buf: Uint8Array, offset: number): ParsedTransaction {
  const r = new TxReader(buf, offset);
  const version = r.i32("version");
  let inCount = r.varint("input count");
  let segwit = false;
  if (inCount === 0) {
    const flag = r.u8("segwit flag");
    if (flag !== 1) throw StratumV2Error.invalidData(`transaction: unknown segwit flag ${flag}`);
    segwit = true;
    inCount = r.varint("input count");
  }
  // Each input takes at least 41 bytes: refuse absurd counts before allocating.
  if (inCount * 41 > buf.length - r.pos) throw StratumV2Error.invalidData(`transaction: ${inCount} inputs cannot fit`);
  const inputs: TxIn[] = [];
  for (let i = 0; i < inCount; i++) {
    inputs.push({
      prevTxid: r.bytes(32, "prevout txid"),
      prevVout: r.u32("prevout index"),
      scriptSig: r.varbytes("scriptSig"),
      sequence: r.u32("sequence"),
      witness: [],
    });
  }
  const outCount = r.varint("output count");
  if (outCount * 9 > buf.length - r.pos) throw StratumV2Error.invalidData(`transaction: ${outCount} outputs cannot fit`);
  const outputs: TxOut[] = [];
  for (let i = 0; i < outCount; i++) outputs.push({ value: r.u64("value"), script: r.varbytes("scriptPubKey") });
  if (segwit) {
    for (const input of inputs) {
      const items = r.varint("witness item count");
      if (items > buf.length - r.pos) throw StratumV2Error.invalidData(`transaction: ${items} witness items cannot fit`);
      for (let j = 0; j < items; j++) input.witness.push(r.varbytes("witness item"));
    }
    if (!inputs.some((i) => i.witness.length > 0)) throw StratumV2Error.invalidData("transaction: superfluous witness record");
  }
  const locktime = r.u32("locktime");
  return { tx: { version, inputs, outputs, locktime }, size: r.pos - offset };
}

/** Parses exactly one transaction; trailing bytes are an error. */
export function parseTransaction(bytes: Uint8Array): Transaction {
  const { tx, size } = parseTransactionAt(bytes, 0);
  if (size !== bytes.length) throw StratumV2Error.invalidData(`transaction: ${bytes.length - size} trailing bytes`);
  return tx;
}

function serializedSize(tx: Transaction, witness: boolean): number {
  let n = 4 + compactSizeLength(tx.inputs.length) + compactSizeLength(tx.outputs.length) + 4;
  for (const i of tx.inputs) n += 32 + 4 + compactSizeLength(i.scriptSig.length) + i.scriptSig.length + 4;
  for (const o of tx.outputs) n += 8 + compactSizeLength(o.script.length) + o.script.length;
  if (witness) {
    n += 2;
    for (const i of tx.inputs) {
      n += compactSizeLength(i.witness.length);
      for (const w of i.witness) n += compactSizeLength(w.length) + w.length;
    }
  }
  return n;
}

/** Serializes; with `withWitness` (default) the BIP144 form is used when the tx has witness data. */
export function serializeTransaction(tx: Transaction, withWitness = true): Uint8Array {
  const witness = withWitness && hasWitness(tx);
  const out = new Uint8Array(serializedSize(tx, witness));
  let p = 0;
  writeU32LE(out, p, tx.version >>> 0);
  p += 4;
  if (witness) {
    out[p++] = 0;
    out[p++] = 1;
  }
  p += writeCompactSize(out, p, tx.inputs.length);
  for (const i of tx.inputs) {
    out.set(i.prevTxid, p);
    p += 32;
    writeU32LE(out, p, i.prevVout >>> 0);
    p += 4;
    p += writeCompactSize(out, p, i.scriptSig.length);
    out.set(i.scriptSig, p);
    p += i.scriptSig.length;
    writeU32LE(out, p, i.sequence >>> 0);
    p += 4;
  }
  p += writeCompactSize(out, p, tx.outputs.length);
  for (const o of tx.outputs) {
    writeU64LE(out, p, o.value);
    p += 8;
    p += writeCompactSize(out, p, o.script.length);
    out.set(o.script, p);
    p += o.script.length;
  }
  if (witness) {
    for (const i of tx.inputs) {
      p += writeCompactSize(out, p, i.witness.length);
      for (const w of i.witness) {
        p += writeCompactSize(out, p, w.length);
        out.set(w, p);
        p += w.length;
      }
    }
  }
  writeU32LE(out, p, tx.locktime >>> 0);
  return out;
}

/** txid (internal order): hash of the serialization without witness. */
export function txid(tx: Transaction): Uint8Array {
  return sha256d(serializeTransaction(tx, false));
}

/** wtxid (internal order): hash of the witness serialization (equals txid without witness). */
export function wtxid(tx: Transaction): Uint8Array {
  return sha256d(serializeTransaction(tx, true));
}
