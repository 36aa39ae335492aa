// Deterministic byte sources for tests: the handshake and encoder take an injectable RandomSource.
import { sha256 } from "@noble/hashes/sha2.js";
import type { RandomSource } from "../../src/noise/ellswift.ts";

/** A reproducible stream: SHA256(seed ‖ counter) blocks. Not for production use. */
export function seededRandom(seed: number): RandomSource {
  let counter = 0;
  return (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let off = 0; off < length; off += 32) {
      const block = sha256(new Uint8Array([seed & 0xff, (seed >>> 8) & 0xff, counter & 0xff, (counter >>> 8) & 0xff, (counter >>> 16) & 0xff]));
      counter++;
      out.set(block.subarray(0, Math.min(32, length - off)), off);
    }
    return out;
  };
}
