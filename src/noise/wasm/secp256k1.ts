/**
 * The WebAssembly build of secp256k1.c: field square root and inverse, variable-point and
 * fixed-base multiplication, used by field.ts, scalar-mult.ts and base-mult.ts when it loads.
 *
 * The module is embedded (base64 in secp256k1-wasm.ts) and compiled synchronously on first use,
 * so the single binary needs no file beside it. If WebAssembly is missing or the module does not
 * validate, `ecWasm()` answers null and the callers keep their bigint path, which computes the same
 * results (test/noise/wasm.test.ts runs the vectors through both).
 *
 * The C side keeps one prepared point at a time; `preparedId` says which, so a caller that
 * interleaves two prepared points only pays for re-preparing, never gets a wrong table.
 */
import { WASM_BASE64 } from "./secp256k1-wasm.ts";
import { instantiateEmbedded } from "./instantiate.ts";

interface Exports {
  memory: WebAssembly.Memory;
  io_ptr(): number;
  sqrt_io(): number;
  inv_io(): void;
  inv_var_io(): void;
  mul_io(): void;
  prepare_io(): void;
  point_mul_io(digits: number, neg1: number, neg2: number, delta1: number, delta2: number): number;
  base_mul_io(): number;
  decode_io(): void;
  encode_try_io(c: number): number;
}

/** Byte offsets inside the C side's `io` buffer (see secp256k1.c). */
export const IO_IN = 0;
export const IO_OUT = 32;
export const IO_IN2 = 64;
export const IO_DIGITS1 = 64;
export const IO_DIGITS2 = 128;
export const IO_OUT2 = 192;

export interface Secp256k1Wasm {
  /** The 256-byte buffer shared with the module: inputs and outputs as big-endian 32-byte values. */
  readonly io: Uint8Array;
  /** io[IN] ^ ((p+1)/4) into io[OUT]; true when it is a square root. */
  sqrt(): boolean;
  /** 1 / io[IN] into io[OUT]. */
  inv(): void;
  /** The same in variable time (for public values). */
  invVar(): void;
  /** io[IN] · io[IN2] into io[OUT]. */
  mul(): void;
  /** Makes io[IN] (an x on the curve) the prepared point, unless `id` already is. */
  prepare(id: number): void;
  /** x(d·P) into io[OUT] for the prepared point, from GLV digits at io[DIGITS1] / io[DIGITS2]; false on infinity. */
  pointMul(digits: number, neg1: boolean, neg2: boolean, delta1: number, delta2: number): boolean;
  /** d·G from the fixed-base digits at io[DIGITS1]: x into io[OUT], y into io[OUT2]; false on infinity. */
  baseMul(): boolean;
  /** XSwiftEC(u, t) for u at io[IN], t at io[IN2]: x into io[OUT]. */
  decode(): void;
  /** One ElligatorSwift encoding try for u at io[IN], x at io[IN2] and case c: t into io[OUT], or false. */
  encodeTry(c: number): boolean;
}

let instance: Secp256k1Wasm | null | undefined;
let enabled = true;

function load(): Secp256k1Wasm | null {
  const exp = instantiateEmbedded<Exports>(WASM_BASE64);
  if (exp === null) return null;
  const io = new Uint8Array(exp.memory.buffer, exp.io_ptr(), 256);
  let preparedId = -1;
  return {
    io,
    sqrt: () => exp.sqrt_io() === 1,
    inv: () => exp.inv_io(),
    invVar: () => exp.inv_var_io(),
    mul: () => exp.mul_io(),
    prepare(id: number): void {
      if (id === preparedId) return;
      exp.prepare_io();
      preparedId = id;
    },
    pointMul: (digits, neg1, neg2, delta1, delta2) => exp.point_mul_io(digits, neg1 ? 1 : 0, neg2 ? 1 : 0, delta1, delta2) === 1,
    baseMul: () => exp.base_mul_io() === 1,
    decode: () => exp.decode_io(),
    encodeTry: (c) => exp.encode_try_io(c) === 1,
  };
}

/** The loaded module, or null when WebAssembly is unavailable or it is switched off. */
export function ecWasm(): Secp256k1Wasm | null {
  if (!enabled) return null;
  if (instance === undefined) instance = load();
  return instance;
}

/** Switches the WebAssembly path on or off (tests and benchmarks compare both); returns the previous setting. */
export function useEcWasm(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}
