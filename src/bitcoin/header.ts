/** The 80-byte block header. Hash fields are in internal byte order. */
import { StratumV2Error } from "../errors.ts";
import { readU32LE, writeU32LE } from "./bytes.ts";
import { sha256d } from "./hash.ts";

export interface BlockHeader {
  version: number;
  prevHash: Uint8Array;
  merkleRoot: Uint8Array;
  time: number;
  bits: number;
  nonce: number;
}

export const HEADER_SIZE = 80;

export function serializeHeader(h: BlockHeader, out: Uint8Array = new Uint8Array(HEADER_SIZE)): Uint8Array {
  if (h.prevHash.length !== 32 || h.merkleRoot.length !== 32) throw StratumV2Error.invalidData("header hashes must be 32 bytes");
  writeU32LE(out, 0, h.version >>> 0);
  out.set(h.prevHash, 4);
  out.set(h.merkleRoot, 36);
  writeU32LE(out, 68, h.time >>> 0);
  writeU32LE(out, 72, h.bits >>> 0);
  writeU32LE(out, 76, h.nonce >>> 0);
  return out;
}

export function parseHeader(bytes: Uint8Array, offset = 0): BlockHeader {
  if (bytes.length - offset < HEADER_SIZE) throw StratumV2Error.invalidData(`block header truncated: ${bytes.length - offset} of 80 bytes`);
  return {
    version: readU32LE(bytes, offset) | 0,
    prevHash: bytes.slice(offset + 4, offset + 36),
    merkleRoot: bytes.slice(offset + 36, offset + 68),
    time: readU32LE(bytes, offset + 68),
    bits: readU32LE(bytes, offset + 72),
    nonce: readU32LE(bytes, offset + 76),
  };
}

/** Block hash, internal order (reverse it for display). */
export function headerHash(header: BlockHeader | Uint8Array): Uint8Array {
  return sha256d(header instanceof Uint8Array ? header : serializeHeader(header));
}

/**
 * Reusable header buffer for hashing many variants (miners and share validation): set the
 * fields that change and hash without allocating a new header each time.
 */
export class HeaderHasher {
  readonly bytes: Uint8Array = new Uint8Array(HEADER_SIZE);

  load(h: BlockHeader): void {
    serializeHeader(h, this.bytes);
  }
  setVersion(v: number): void {
    writeU32LE(this.bytes, 0, v >>> 0);
  }
  setMerkleRoot(root: Uint8Array): void {
    this.bytes.set(root, 36);
  }
  setTime(t: number): void {
    writeU32LE(this.bytes, 68, t >>> 0);
  }
  setNonce(n: number): void {
    writeU32LE(this.bytes, 76, n >>> 0);
  }
  hash(): Uint8Array {
    return sha256d(this.bytes);
  }
}
