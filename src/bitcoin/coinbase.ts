/**
 * The coinbase split around its extranonce, as Stratum jobs carry it.
 *
 * scriptSig = scriptSigPrefix (BIP34 height, template aux) | push(tag) | push-opcode(extranonce length) | extranonce
 * The prefix ends right before the extranonce; the suffix starts with the input's sequence. Miners
 * hash prefix ‖ extranonce ‖ suffix for the txid, so `prefix`/`suffix` are the non-witness (BIP141
 * stripped) serialization; `prefixWitness`/`suffixWitness` give the full segwit coinbase for the block.
 */
import { StratumV2Error } from "../errors.ts";
import { concatBytes, u32le, u64le } from "./bytes.ts";
import { encodeCompactSize, readCompactSize } from "./compactsize.ts";
import { pushData } from "./script.ts";
import type { TxOut } from "./tx.ts";

export interface CoinbaseSpec {
  version: number;
  /** Start of the scriptSig: BIP34 height push and anything the template asks for. */
  scriptSigPrefix: Uint8Array;
  /** Pushed after the prefix when non-empty (the pool's tag). */
  tag: Uint8Array;
  /** Total extranonce bytes (channel prefix + miner-rollable part), pushed as one item. */
  extranonceLength: number;
  sequence: number;
  outputs: readonly TxOut[];
  locktime: number;
  /** Whether the block carries a witness commitment, so the coinbase needs its witness nonce. */
  segwit: boolean;
}

export interface CoinbaseParts {
  prefix: Uint8Array;
  suffix: Uint8Array;
  prefixWitness: Uint8Array;
  suffixWitness: Uint8Array;
}

/** Consensus bounds of a coinbase scriptSig. */
export const MAX_COINBASE_SCRIPTSIG = 100;
export const MIN_COINBASE_SCRIPTSIG = 2;
/** A push opcode can carry at most 75 bytes; SV2 caps extranonce at 32 anyway. */
const MAX_EXTRANONCE = 75;

export function buildCoinbaseParts(spec: CoinbaseSpec): CoinbaseParts {
  const n = spec.extranonceLength;
  if (!Number.isInteger(n) || n < 0 || n > MAX_EXTRANONCE) throw StratumV2Error.template(`extranonce length ${n} out of range`);
  const tagPush = spec.tag.length > 0 ? pushData(spec.tag) : new Uint8Array(0);
  const extranoncePush = n > 0 ? Uint8Array.of(n) : new Uint8Array(0);
  const scriptSigLength = spec.scriptSigPrefix.length + tagPush.length + extranoncePush.length + n;
  if (scriptSigLength > MAX_COINBASE_SCRIPTSIG) {
    throw StratumV2Error.template(`coinbase scriptSig would be ${scriptSigLength} bytes (max ${MAX_COINBASE_SCRIPTSIG}): shorten the coinbase tag`);
  }
  if (scriptSigLength < MIN_COINBASE_SCRIPTSIG) throw StratumV2Error.template(`coinbase scriptSig would be ${scriptSigLength} bytes (min 2)`);
  const inputHead = concatBytes(
    Uint8Array.of(1), // one input
    new Uint8Array(32), // null prevout
    Uint8Array.of(0xff, 0xff, 0xff, 0xff),
    encodeCompactSize(scriptSigLength),
    spec.scriptSigPrefix,
    tagPush,
    extranoncePush,
  );
  const version = u32le(spec.version >>> 0);
  const outputs: Uint8Array[] = [encodeCompactSize(spec.outputs.length)];
  for (const o of spec.outputs) outputs.push(u64le(o.value), encodeCompactSize(o.script.length), o.script);
  const body = concatBytes(u32le(spec.sequence >>> 0), ...outputs);
  const locktime = u32le(spec.locktime >>> 0);
  const prefix = concatBytes(version, inputHead);
  const suffix = concatBytes(body, locktime);
  if (!spec.segwit) return { prefix, suffix, prefixWitness: prefix, suffixWitness: suffix };
  return {
    prefix,
    suffix,
    prefixWitness: concatBytes(version, Uint8Array.of(0, 1), inputHead),
    // One witness item: the 32-byte reserved value (zeros), as Core expects.
    suffixWitness: concatBytes(body, Uint8Array.of(1, 32), new Uint8Array(32), locktime),
  };
}

export function assembleCoinbase(prefix: Uint8Array, extranonce: Uint8Array, suffix: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + extranonce.length + suffix.length);
  out.set(prefix, 0);
  out.set(extranonce, prefix.length);
  out.set(suffix, prefix.length + extranonce.length);
  return out;
}

/** The tag the SV2 reference pool writes: "Sv2/<pool tag>/<miner tag>/". */
export function sv2CoinbaseTag(poolTag: string, minerTag = ""): Uint8Array {
  return new TextEncoder().encode(`Sv2/${poolTag}/${minerTag}/`);
}

/**
 * Turns a segwit-serialized coinbase prefix/suffix (marker, flag, witness) into the stripped form
 * a txid is computed over. Returns null when they are already stripped.
 */
export function stripBip141(prefix: Uint8Array, suffix: Uint8Array): { prefix: Uint8Array; suffix: Uint8Array } | null {
  if (prefix.length < 6 || prefix[4] !== 0 || prefix[5] !== 1) return null;
  const strippedPrefix = concatBytes(prefix.subarray(0, 4), prefix.subarray(6));
  // suffix = sequence(4) | outputs | witness | locktime(4): find where the outputs end.
  let p = 4;
  const count = readCompactSize(suffix, p);
  p += count.size;
  for (let i = 0; i < count.value; i++) {
    p += 8;
    const len = readCompactSize(suffix, p);
    p += len.size + len.value;
  }
  if (p + 4 > suffix.length) throw StratumV2Error.invalidData("coinbase suffix truncated");
  return { prefix: strippedPrefix, suffix: concatBytes(suffix.subarray(0, p), suffix.subarray(suffix.length - 4)) };
}
