/**
 * BIP340 signing and x-only public keys on this module's own fixed-base multiplication.
 *
 * Why not @noble/curves' schnorr here: the pool signs its certificate and derives the authority
 * key at start-up, and noble's first G multiplication builds its precomputed table from cold code
 * (~45 ms on Bun), which was most of the time between exec and serving the first miner. The
 * signature is the BIP's deterministic one (same aux_rand, same bytes): checked against
 * bip340_test_vectors.csv and against noble's verify in test/noise/keys-and-certificates.test.ts.
 * Verification stays with noble (miners and tests verify; the pool only signs).
 */
import { N, bigIntTo32Bytes, bytesToBigInt } from "./field.ts";
import { baseMultiply } from "./base-mult.ts";
import { xonlyPublicKey } from "./ellswift.ts";
import { sha256 } from "./hash.ts";

const encoder = new TextEncoder();
const TAG_AUX = sha256(encoder.encode("BIP0340/aux"));
const TAG_NONCE = sha256(encoder.encode("BIP0340/nonce"));
const TAG_CHALLENGE = sha256(encoder.encode("BIP0340/challenge"));

function taggedHash(tag: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return sha256(tag, tag, ...parts);
}

function secretScalar(secret: Uint8Array): bigint {
  if (secret.length !== 32) throw new RangeError("secret key must be 32 bytes");
  const d = bytesToBigInt(secret);
  if (d === 0n || d >= N) throw new RangeError("secret key out of range (0 or ≥ group order)");
  return d;
}

/** The BIP340 public key: x(d·G), 32 bytes (the x-only key, however it is computed). */
export function schnorrPublicKey(secret: Uint8Array): Uint8Array {
  secretScalar(secret);
  return xonlyPublicKey(secret);
}

/** BIP340 Sign(sk, m, a): a 64-byte signature; `auxRand` is the BIP's 32 bytes of auxiliary randomness. */
export function schnorrSign(message: Uint8Array, secret: Uint8Array, auxRand: Uint8Array): Uint8Array {
  if (auxRand.length !== 32) throw new RangeError("aux_rand must be 32 bytes");
  const d0 = secretScalar(secret);
  const p = baseMultiply(d0);
  const d = (p.y & 1n) === 0n ? d0 : N - d0;
  const px = bigIntTo32Bytes(p.x);
  const dBytes = bigIntTo32Bytes(d);
  const t = taggedHash(TAG_AUX, auxRand);
  for (let i = 0; i < 32; i++) t[i] = (t[i] as number) ^ (dBytes[i] as number);
  const k0 = bytesToBigInt(taggedHash(TAG_NONCE, t, px, message)) % N;
  if (k0 === 0n) throw new RangeError("BIP340 nonce is zero (negligible probability); retry with other aux_rand");
  const r = baseMultiply(k0);
  const k = (r.y & 1n) === 0n ? k0 : N - k0;
  const rx = bigIntTo32Bytes(r.x);
  const e = bytesToBigInt(taggedHash(TAG_CHALLENGE, rx, px, message)) % N;
  const sig = new Uint8Array(64);
  sig.set(rx, 0);
  bigIntTo32Bytes((k + e * d) % N, sig, 32);
  return sig;
}
