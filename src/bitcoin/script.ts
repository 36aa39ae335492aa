/** Script pushes: minimal data pushes and the BIP34 height of a coinbase scriptSig. */
import { StratumV2Error } from "../errors.ts";

const OP_0 = 0x00;
const OP_PUSHDATA1 = 0x4c;
const OP_PUSHDATA2 = 0x4d;
const OP_1NEGATE = 0x4f;
const OP_1 = 0x51;

/** A data push with the smallest push opcode (no OP_N substitution: this is for data). */
export function pushData(data: Uint8Array): Uint8Array {
  const n = data.length;
  let head: number[];
  if (n < OP_PUSHDATA1) head = [n];
  else if (n <= 0xff) head = [OP_PUSHDATA1, n];
  else if (n <= 0xffff) head = [OP_PUSHDATA2, n & 0xff, n >>> 8];
  else head = [0x4e, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
  const out = new Uint8Array(head.length + n);
  out.set(head, 0);
  out.set(data, head.length);
  return out;
}

/** CScriptNum serialization (minimal little-endian sign-magnitude). */
export function scriptNum(n: number): Uint8Array {
  if (n === 0) return new Uint8Array(0);
  const neg = n < 0;
  let abs = Math.abs(n);
  const out: number[] = [];
  while (abs > 0) {
    out.push(abs & 0xff);
    abs = Math.floor(abs / 256);
  }
  if (((out[out.length - 1] as number) & 0x80) !== 0) out.push(neg ? 0x80 : 0);
  else if (neg) out[out.length - 1] = (out[out.length - 1] as number) | 0x80;
  return Uint8Array.from(out);
}

/**
 * What BIP34 requires at the start of the coinbase scriptSig: exactly `CScript() << height`, which
 * Core writes as OP_0 / OP_1..OP_16 for small heights and a minimal CScriptNum push otherwise.
 */
export function bip34HeightScript(height: number): Uint8Array {
  if (!Number.isSafeInteger(height) || height < 0) throw StratumV2Error.invalidData(`bad block height ${height}`);
  if (height === 0) return Uint8Array.of(OP_0);
  if (height <= 16) return Uint8Array.of(OP_1 + height - 1);
  return pushData(scriptNum(height));
}

/** The height a coinbase scriptSig starts with, or null when it does not start with a height push. */
export function parseBip34Height(scriptSig: Uint8Array): number | null {
  const op = scriptSig[0];
  if (op === undefined) return null;
  if (op === OP_0) return 0;
  if (op >= OP_1 && op <= OP_1 + 15) return op - OP_1 + 1;
  if (op === OP_1NEGATE) return null;
  if (op < 1 || op > 8 || scriptSig.length < 1 + op) return null;
  let v = 0;
  for (let i = op; i >= 1; i--) v = v * 256 + (scriptSig[i] as number);
  const top = scriptSig[op] as number;
  if ((top & 0x80) !== 0) return null; // negative heights do not exist
  return v;
}
