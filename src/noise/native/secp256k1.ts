/**
 * libsecp256k1 through bun:ffi, when the system has it (Debian: libsecp256k1-1), for the two
 * operations that dominate a responder handshake: x-only ECDH and public-key generation.
 * Optional like libsodium: null when it cannot be loaded, and the WebAssembly arithmetic
 * (../wasm) computes the same results; test/noise/native-secp256k1.test.ts runs the BIP324 ECDH
 * vectors through it wherever it is installed.
 *
 * Why: its constant-time scalar multiplication is ~5x faster than our WebAssembly one (64-bit
 * limbs and 128-bit products that WebAssembly lacks), and it is the library Bitcoin Core uses.
 * Debian's 0.2 has no ElligatorSwift module, so encoding and decoding stay in ../ellswift.ts;
 * ECDH goes through the x-only point: parse 02‖x, multiply in place (tweak_mul: the library's
 * constant-time ecmult_const), serialize compressed, keep x.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import type { Pointer } from "bun:ffi";
import { randomBytes } from "@noble/hashes/utils.js";

const CANDIDATE_NAMES = ["libsecp256k1.so.2", "libsecp256k1.so.1", "libsecp256k1.so", "libsecp256k1.dylib", "libsecp256k1.2.dylib", "libsecp256k1.1.dylib"];

/** SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY (every context can do both since 0.2; older ones need the flags). */
const CONTEXT_FLAGS = 0x301;
/** SECP256K1_EC_COMPRESSED */
const EC_COMPRESSED = 0x102;

export interface NativeSecp256k1 {
  readonly name: string;
  /** x(d·P) for P the point with x coordinate `x` (either y: x-only ECDH ignores it); null if x is not on the curve or d is not a valid key. */
  ecdhXonly(x: Uint8Array, secret: Uint8Array): Uint8Array | null;
  /** x(d1·P) and x(d2·P) with P parsed once (the responder's ee and es). */
  ecdhXonlyPair(x: Uint8Array, secret1: Uint8Array, secret2: Uint8Array): [Uint8Array, Uint8Array] | null;
  /** x(d·G); null if d is not a valid key. */
  xonlyPublicKey(secret: Uint8Array): Uint8Array | null;
}

let loaded: NativeSecp256k1 | null | undefined;
let enabled = true;

/** The library, loaded on first use; null when it is not installed or switched off (config `sv2.secp256k1 = "wasm"`). */
export function nativeSecp256k1(): NativeSecp256k1 | null {
  if (!enabled) return null;
  if (loaded === undefined) loaded = load(CANDIDATE_NAMES);
  return loaded;
}

/** Switches the native path on or off (tests and benchmarks compare the paths); returns the previous setting. */
export function useNativeSecp256k1(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

export function load(names: readonly string[]): NativeSecp256k1 | null {
  for (const name of names) {
    try {
      return bind(name);
    } catch {
      // Not installed under this name; try the next.
    }
  }
  return null;
}

function bind(name: string): NativeSecp256k1 {
  const lib = dlopen(name, {
    secp256k1_context_create: { args: [FFIType.u32], returns: FFIType.ptr },
    secp256k1_context_randomize: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    secp256k1_ec_pubkey_parse: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
    secp256k1_ec_pubkey_tweak_mul: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    secp256k1_ec_pubkey_serialize: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    secp256k1_ec_pubkey_create: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  });
  const s = lib.symbols;
  const ctx = s.secp256k1_context_create(CONTEXT_FLAGS);
  if (ctx === null) throw new Error("secp256k1_context_create failed");
  // Blinding for the key generation's fixed-base multiplication (side-channel hardening).
  const seed = randomBytes(32);
  if (s.secp256k1_context_randomize(ctx, ptr(seed)) !== 1) throw new Error("secp256k1_context_randomize failed");

  // Scratch kept alive by this closure, so the pointers stay valid. One call at a time (one JS thread).
  const parsed = new Uint8Array(64); // secp256k1_pubkey of the remote point
  const work = new Uint8Array(64); // the pubkey being multiplied
  const compressed = new Uint8Array(33);
  const outLen = new BigUint64Array(1);
  const key = new Uint8Array(32);
  const input = new Uint8Array(33);
  input[0] = 0x02;
  const pParsed = ptr(parsed);
  const pWork = ptr(work);
  const pCompressed = ptr(compressed);
  const pOutLen = ptr(outLen);
  const pKey = ptr(key);
  const pInput = ptr(input);

  const parse = (x: Uint8Array): boolean => {
    if (x.length !== 32) throw new RangeError("x coordinate must be 32 bytes");
    input.set(x, 1);
    return s.secp256k1_ec_pubkey_parse(ctx, pParsed, pInput, 33) === 1;
  };
  const serializeX = (pubkey: Pointer): Uint8Array => {
    outLen[0] = 33n;
    if (s.secp256k1_ec_pubkey_serialize(ctx, pCompressed, pOutLen, pubkey, EC_COMPRESSED) !== 1) throw new Error("secp256k1_ec_pubkey_serialize failed");
    return compressed.slice(1, 33);
  };
  const multiplyParsed = (secret: Uint8Array): Uint8Array | null => {
    if (secret.length !== 32) throw new RangeError("secret key must be 32 bytes");
    work.set(parsed);
    key.set(secret);
    const ok = s.secp256k1_ec_pubkey_tweak_mul(ctx, pWork, pKey) === 1;
    key.fill(0);
    return ok ? serializeX(pWork) : null;
  };

  return {
    name,
    ecdhXonly(x, secret) {
      return parse(x) ? multiplyParsed(secret) : null;
    },
    ecdhXonlyPair(x, secret1, secret2) {
      if (!parse(x)) return null;
      const a = multiplyParsed(secret1);
      const b = multiplyParsed(secret2);
      return a === null || b === null ? null : [a, b];
    },
    xonlyPublicKey(secret) {
      if (secret.length !== 32) throw new RangeError("secret key must be 32 bytes");
      key.set(secret);
      const ok = s.secp256k1_ec_pubkey_create(ctx, pWork, pKey) === 1;
      key.fill(0);
      return ok ? serializeX(pWork) : null;
    },
  };
}
