/**
 * Authority key strings (SV2 spec §4.7, SRI key-utils) and key generation.
 *
 * Public:  base58check( 0x01 0x00 ‖ xonly32 )  — a U16 LE key version 1, 51 characters starting "9".
 * Secret:  base58check( secret32 )              — SRI's config form, no prefix.
 * Checksum = first 4 bytes of SHA256(SHA256(payload)).
 */
import { base58 } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { schnorrPublicKey } from "./schnorr.ts";
import { NoiseError } from "./errors.ts";
import { defaultRandom, randomSecretKey } from "./ellswift.ts";
import type { RandomSource } from "./ellswift.ts";
import { bytesToBigInt, isValidX, P } from "./field.ts";
import { scalarFromBytes } from "./scalar-mult.ts";

export const AUTHORITY_KEY_VERSION = 1;
const PUBLIC_PAYLOAD_LENGTH = 34;

export type KeyDecodeFailure = "not-base58" | "bad-checksum" | "wrong-version" | "bad-length" | "not-on-curve" | "out-of-range";

export class KeyDecodeError extends NoiseError {
  readonly reason: KeyDecodeFailure;

  constructor(reason: KeyDecodeFailure, message: string) {
    super("invalid-key", message, "ConfigError");
    this.reason = reason;
    this.name = "KeyDecodeError";
  }
}

export interface AuthorityKeyPair {
  /** 32-byte secret (BIP340 signing key). */
  readonly secret: Uint8Array;
  /** 32-byte x-only public key, what miners configure (as a base58check string). */
  readonly xonly: Uint8Array;
}

function checksum(payload: Uint8Array): Uint8Array {
  return sha256(sha256(payload)).subarray(0, 4);
}

function base58checkEncode(payload: Uint8Array): string {
  const out = new Uint8Array(payload.length + 4);
  out.set(payload);
  out.set(checksum(payload), payload.length);
  return base58.encode(out);
}

function base58checkDecode(text: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = base58.decode(text.trim());
  } catch (e) {
    throw new KeyDecodeError("not-base58", `key is not base58: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (raw.length < 5) throw new KeyDecodeError("bad-length", `key decodes to only ${raw.length} bytes`);
  const payload = raw.subarray(0, raw.length - 4);
  const expected = checksum(payload);
  for (let i = 0; i < 4; i++) {
    if (raw[payload.length + i] !== expected[i]) throw new KeyDecodeError("bad-checksum", "key checksum does not match (typo or truncated key)");
  }
  return payload.slice();
}

/** The miner-facing string for an authority x-only public key. */
export function encodeAuthorityPublicKey(xonly: Uint8Array): string {
  if (xonly.length !== 32) throw new KeyDecodeError("bad-length", "x-only public key must be 32 bytes");
  const payload = new Uint8Array(PUBLIC_PAYLOAD_LENGTH);
  payload[0] = AUTHORITY_KEY_VERSION & 0xff;
  payload[1] = AUTHORITY_KEY_VERSION >>> 8;
  payload.set(xonly, 2);
  return base58checkEncode(payload);
}

/** Parses an authority public key string to its 32-byte x-only key. */
export function decodeAuthorityPublicKey(text: string): Uint8Array {
  const payload = base58checkDecode(text);
  if (payload.length < 2) throw new KeyDecodeError("bad-length", `authority key payload is ${payload.length} bytes, expected 34`);
  const version = (payload[0] as number) | ((payload[1] as number) << 8);
  if (version !== AUTHORITY_KEY_VERSION) {
    throw new KeyDecodeError("wrong-version", `authority key version is ${version}, expected ${AUTHORITY_KEY_VERSION}`);
  }
  if (payload.length !== PUBLIC_PAYLOAD_LENGTH) {
    throw new KeyDecodeError("bad-length", `authority key payload is ${payload.length} bytes, expected ${PUBLIC_PAYLOAD_LENGTH}`);
  }
  const xonly = payload.slice(2);
  const x = bytesToBigInt(xonly);
  if (x >= P || !isValidX(x)) throw new KeyDecodeError("not-on-curve", "authority key is not a secp256k1 x coordinate");
  return xonly;
}

/** SRI's config form of a secret key: base58check of the 32 bytes. */
export function encodeSecretKey(secret: Uint8Array): string {
  checkSecret(secret);
  return base58checkEncode(secret);
}

export function decodeSecretKey(text: string): Uint8Array {
  const secret = base58checkDecode(text);
  if (secret.length !== 32) throw new KeyDecodeError("bad-length", `secret key payload is ${secret.length} bytes, expected 32`);
  checkSecret(secret);
  return secret;
}

function checkSecret(secret: Uint8Array): void {
  try {
    scalarFromBytes(secret);
  } catch {
    throw new KeyDecodeError("out-of-range", "secret key must be 32 bytes in [1, n−1]");
  }
}

/** The BIP340 x-only public key of a secret. */
export function authorityPublicKey(secret: Uint8Array): Uint8Array {
  checkSecret(secret);
  return schnorrPublicKey(secret);
}

export function generateAuthorityKeyPair(rng: RandomSource = defaultRandom): AuthorityKeyPair {
  const secret = randomSecretKey(rng);
  return { secret, xonly: authorityPublicKey(secret) };
}
