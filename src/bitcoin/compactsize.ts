/** Bitcoin's CompactSize (var_int) length prefix. */
import { StratumV2Error } from "../errors.ts";

export function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

export function encodeCompactSize(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw StratumV2Error.invalidData(`compact size out of range: ${n}`);
  const out = new Uint8Array(compactSizeLength(n));
  writeCompactSize(out, 0, n);
  return out;
}

/** Writes at `offset`, returns the number of bytes written. */
export function writeCompactSize(buf: Uint8Array, offset: number, n: number): number {
  if (n < 0xfd) {
    buf[offset] = n;
    return 1;
  }
  if (n <= 0xffff) {
    buf[offset] = 0xfd;
    buf[offset + 1] = n & 0xff;
    buf[offset + 2] = n >>> 8;
    return 3;
  }
  if (n <= 0xffffffff) {
    buf[offset] = 0xfe;
    for (let i = 0; i < 4; i++) buf[offset + 1 + i] = Math.floor(n / 2 ** (8 * i)) & 0xff;
    return 5;
  }
  buf[offset] = 0xff;
  for (let i = 0; i < 8; i++) buf[offset + 1 + i] = Math.floor(n / 2 ** (8 * i)) & 0xff;
  return 9;
}

export interface CompactSizeRead {
  value: number;
  /** Bytes consumed. */
  size: number;
}

/** Reads a CompactSize, rejecting truncation and non-canonical (over-long) encodings like Core does. */
export function readCompactSize(buf: Uint8Array, offset: number): CompactSizeRead {
  const first = buf[offset];
  if (first === undefined) throw StratumV2Error.invalidData(`compact size: truncated at offset ${offset}`);
  if (first < 0xfd) return { value: first, size: 1 };
  const width = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
  if (offset + 1 + width > buf.length) throw StratumV2Error.invalidData(`compact size: truncated at offset ${offset}`);
  let value = 0;
  for (let i = width - 1; i >= 0; i--) value = value * 256 + (buf[offset + 1 + i] as number);
  const min = width === 2 ? 0xfd : width === 4 ? 0x10000 : 0x100000000;
  if (value < min) throw StratumV2Error.invalidData(`compact size: non-canonical encoding at offset ${offset}`);
  if (!Number.isSafeInteger(value)) throw StratumV2Error.invalidData(`compact size: too large at offset ${offset}`);
  return { value, size: 1 + width };
}
