/**
 * Targets, compact nBits and difficulty.
 *
 * Targets are bigints. A header hash (internal byte order, as sha256d returns it) read as a
 * little-endian 256-bit integer meets a target when it is <= the target. Difficulty is the
 * pool convention miners display: difficulty 1 is the target 0xffff * 2^208 ("pdiff").
 */
import { StratumV2Error } from "../errors.ts";

export const MAX_TARGET: bigint = (1n << 256n) - 1n;
/** Target of difficulty 1 (the nBits 0x1d00ffff target). */
export const DIFF1_TARGET: bigint = 0xffffn << 208n;

/** Expands compact nBits. Negative or overflowing encodings are rejected, as Core does. */
export function nbitsToTarget(bits: number): bigint {
  const exponent = bits >>> 24;
  // Core: the sign bit only makes a value negative if mantissa bits survive the shift.
  let word = bits & 0x007fffff;
  if (exponent <= 3) word >>>= 8 * (3 - exponent);
  if (word !== 0 && (bits & 0x00800000) !== 0) throw StratumV2Error.invalidData(`nBits 0x${hex8(bits)} is negative`);
  const target = exponent <= 3 ? BigInt(word) : BigInt(word) << BigInt(8 * (exponent - 3));
  if (target > MAX_TARGET) throw StratumV2Error.invalidData(`nBits 0x${hex8(bits)} overflows 256 bits`);
  return target;
}

/** Compresses a target to nBits (Core's GetCompact; loses the low bits like Core). */
export function targetToNbits(target: bigint): number {
  if (target < 0n || target > MAX_TARGET) throw StratumV2Error.invalidData("target out of range");
  let size = 0;
  for (let t = target; t > 0n; t >>= 8n) size++;
  let mantissa = size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  if ((mantissa & 0x00800000) !== 0) {
    mantissa >>>= 8;
    size++;
  }
  return ((size << 24) | mantissa) >>> 0;
}

/**
 * Target for a pool difficulty (> 0), computed exactly from the double's binary value (fractional
 * difficulties are normal for CPU miners). Difficulties below the one MAX_TARGET stands for give MAX_TARGET.
 */
export function difficultyToTarget(difficulty: number): bigint {
  if (!(difficulty > 0) || !Number.isFinite(difficulty)) throw StratumV2Error.invalidData(`difficulty must be a positive number, got ${difficulty}`);
  // difficulty = m / 2^k with m an integer: doubling a double is exact, so this terminates (k <= 1074).
  let m = difficulty;
  let k = 0n;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  const target = (DIFF1_TARGET << k) / BigInt(m);
  return target > MAX_TARGET ? MAX_TARGET : target;
}

/** Pool difficulty of a target (> 0). */
export function targetToDifficulty(target: bigint): number {
  if (target <= 0n) return Number.POSITIVE_INFINITY;
  return Number((DIFF1_TARGET << 64n) / target) / 2 ** 64;
}

/** The hash (internal order) as an integer: its bytes read little-endian. */
export function hashToBigInt(hash: Uint8Array): bigint {
  let v = 0n;
  for (let i = hash.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(hash[i] as number);
  return v;
}

/**
 * `int_le(hash) <= int_le(targetLe)`, compared byte-wise from the most significant end with no
 * allocation: this runs for every share.
 */
export function hashMeetsTarget(hash: Uint8Array, targetLe: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const h = hash[i] as number;
    const t = targetLe[i] as number;
    if (h !== t) return h < t;
  }
  return true;
}

/** 32 bytes little-endian, as a U256 target on the SV2 wire. */
export function targetToLeBytes(target: bigint): Uint8Array {
  if (target < 0n || target > MAX_TARGET) throw StratumV2Error.invalidData("target out of range");
  const out = new Uint8Array(32);
  let t = target;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}

export function leBytesToTarget(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw StratumV2Error.invalidData(`a U256 target has 32 bytes, got ${bytes.length}`);
  const target = hashToBigInt(bytes);
  // The all-ones max_target most miners send comes back as the shared constant: channels keep it
  // for their lifetime, and the pool holds tens of thousands of them.
  return target === MAX_TARGET ? MAX_TARGET : target;
}

/**
 * The difficulty a hash achieved (what a share is "worth" at best). Computed in doubles: it runs for
 * every accepted share and is only reported, never compared against a target (~53 bits suffice).
 */
export function hashDifficulty(hash: Uint8Array): number {
  let v = 0;
  for (let i = 31; i >= 0; i--) v = v * 256 + (hash[i] as number);
  return DIFF1_DOUBLE / (v === 0 ? 1 : v);
}

const DIFF1_DOUBLE = 0xffff * 2 ** 208;

/**
 * Target at which a device of `hashrate` H/s finds `sharesPerMinute` shares per minute on average;
 * the formula of the SV2 reference implementation: t = (2^256 - h·s) / (h·s + 1), s = 60 / spm.
 */
export function hashrateToTarget(hashrate: number, sharesPerMinute: number): bigint {
  if (!(hashrate > 0) || !(sharesPerMinute > 0) || !Number.isFinite(hashrate) || !Number.isFinite(sharesPerMinute)) return MAX_TARGET;
  const hs = BigInt(Math.round(hashrate * (60 / sharesPerMinute)));
  if (hs === 0n) return MAX_TARGET;
  const two256 = 1n << 256n;
  if (hs >= two256) return 0n;
  const t = (two256 - hs) / (hs + 1n);
  return t > MAX_TARGET ? MAX_TARGET : t;
}

/** Expected hashes per share at a target (2^256 / (target + 1)). */
export function targetToExpectedHashes(target: bigint): number {
  return Number((1n << 256n) / (target + 1n));
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
