/**
 * Byte helpers shared by the whole code base. Hex codecs come from @noble/hashes; the rest are the
 * few little-endian accessors Bitcoin serialization needs.
 */
import { bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes } from "@noble/hashes/utils.js";

export function hexToBytes(hex: string): Uint8Array {
  return nobleHexToBytes(hex);
}

export function bytesToHex(bytes: Uint8Array): string {
  return nobleBytesToHex(bytes);
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  // The share path compares a job's prev hash with the tip's, usually the very same array.
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A reversed copy (the input is left alone). */
export function reverseBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[bytes.length - 1 - i] as number;
  return out;
}

/** RPC / explorer hex (display order) to the internal byte order used in headers and on the wire. */
export function displayHexToInternal(hex: string): Uint8Array {
  return reverseBytes(hexToBytes(hex));
}

/** Internal byte order to display hex (what Bitcoin Core and explorers print). */
export function internalToDisplayHex(hash: Uint8Array): string {
  return bytesToHex(reverseBytes(hash));
}

export function u32le(value: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32LE(out, 0, value);
  return out;
}

export function u64le(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  writeU64LE(out, 0, value);
  return out;
}

export function writeU32LE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = (value >>> 24) & 0xff;
}

export function readU32LE(buf: Uint8Array, offset: number): number {
  return ((buf[offset] as number) | ((buf[offset + 1] as number) << 8) | ((buf[offset + 2] as number) << 16)) + (buf[offset + 3] as number) * 0x1000000;
}

export function writeU64LE(buf: Uint8Array, offset: number, value: bigint): void {
  writeU32LE(buf, offset, Number(value & 0xffffffffn));
  writeU32LE(buf, offset + 4, Number((value >> 32n) & 0xffffffffn));
}

export function readU64LE(buf: Uint8Array, offset: number): bigint {
  return BigInt(readU32LE(buf, offset)) | (BigInt(readU32LE(buf, offset + 4)) << 32n);
}

/** Reads a signed 32-bit little-endian integer (transaction and header versions). */
export function readI32LE(buf: Uint8Array, offset: number): number {
  return readU32LE(buf, offset) | 0;
}
