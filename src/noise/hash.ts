/**
 * SHA-256 and HMAC-SHA256 for the handshake. Bun's built-in SHA-256 costs ~80 ns per short
 * message against ~800 ns for @noble/hashes (per-call set-up dominates at these sizes), and a
 * handshake hashes ~40 times, so the native one is used when running on Bun; @noble/hashes
 * otherwise. Both are checked against each other in test/noise/hash.test.ts.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

type Sha256Fn = (data: Uint8Array) => Uint8Array;

function bunSha256(): Sha256Fn | null {
  const bun = (globalThis as { Bun?: { SHA256?: { hash(input: Uint8Array): unknown } } }).Bun;
  const hash = bun?.SHA256?.hash;
  if (typeof hash !== "function") return null;
  return (data) => hash.call(bun?.SHA256, data) as Uint8Array;
}

const nobleHash: Sha256Fn = (data) => nobleSha256(data);
const digest: Sha256Fn = bunSha256() ?? nobleHash;

/** Which implementation is in use ("bun" or "noble"). */
export const SHA256_IMPLEMENTATION: "bun" | "noble" = digest === nobleHash ? "noble" : "bun";

function concat(parts: readonly Uint8Array[], prefixLength = 0): Uint8Array {
  let total = prefixLength;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = prefixLength;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** SHA256(parts[0] ‖ parts[1] ‖ …). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  return digest(parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts));
}

const BLOCK = 64;

/** HMAC-SHA256(key, parts[0] ‖ parts[1] ‖ …), RFC 2104; keys longer than a block are hashed first. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const k = key.length > BLOCK ? digest(key) : key;
  const inner = concat(parts, BLOCK);
  for (let i = 0; i < BLOCK; i++) inner[i] = (i < k.length ? (k[i] as number) : 0) ^ 0x36;
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) outer[i] = (i < k.length ? (k[i] as number) : 0) ^ 0x5c;
  outer.set(digest(inner), BLOCK);
  return digest(outer);
}
