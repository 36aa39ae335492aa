/**
 * x-only scalar multiplication on secp256k1 for the handshake's ECDH: x(d·P) from x(P) alone.
 *
 * Why not @noble/curves' `Point.multiply`: it costs ~430–460 µs on Bun (its constant-time mode
 * adds a fake point per window), and a responder needs two per handshake. This module is
 * specialised for the one job the handshake has, at ~3.5× less cost (bench/noise.ts):
 *
 * - No square root to lift x. With v = x³ + 7 (a square, v = y²), the map (x, y) ↦ (v·x, v²) is an
 *   isomorphism onto y² = x³ + 7·v³. Jacobian formulas for a = 0 never use the curve constant, so we
 *   compute on that curve from the affine point (v·x, v²) and read back x(d·P) = X / (Z² · v)
 *   (times one more square factor from building the table, see buildOddMultiples).
 * - GLV: d = k1 + k2·λ (mod n) with |k1|, |k2| ≈ 2^128, and λ·(x, y) = (β·x, y), so the two
 *   halves share one chain of ~130 doublings.
 * - A regular schedule: both halves are recoded into odd signed digits of WINDOW bits, so every
 *   window does exactly WINDOW doublings and one table addition per half, whatever the scalar
 *   (no zero-skipping that would make the operation count depend on the secret). Making the halves
 *   odd uses k + δ with δ ∈ {1, 2}, corrected at the end by adding −δ·P, which is a real addition
 *   in both cases.
 *
 * Limits (stated, not hidden): bigint arithmetic in JavaScript is not constant-time at the
 * instruction level, table lookups index memory by a secret digit, and the exceptional cases of
 * the addition formulas branch. The schedule above removes the large, remotely measurable
 * variation; it is not a side-channel-hardened implementation like libsecp256k1's.
 */
import { N, P, add, bigIntTo32Bytes, bytesToBigInt, inv, isValidX, mul, neg, sqr } from "./field.ts";
import { Jacobian, invertAll } from "./jacobian.ts";
import { recodeOdd } from "./recode.ts";
import { IO_DIGITS1, IO_DIGITS2, IO_IN, IO_OUT, ecWasm } from "./wasm/secp256k1.ts";
import type { Secp256k1Wasm } from "./wasm/secp256k1.ts";
import { nativeSecp256k1 } from "./native/secp256k1.ts";

/** Cube root of unity in the field: (β·x, y) = λ·(x, y). */
const BETA = 0x7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501een;
/** The matching cube root of unity modulo n. */
const LAMBDA = 0x5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72n;
// A reduced basis of the lattice {(a, b) : a + b·λ ≡ 0 (mod n)}, used to split d into short halves.
const A1 = 0x3086d221a7d46bcde86c90e49284eb15n;
const B1 = -0xe4437ed6010e88286f547fa90abfe4c3n;
const A2 = 0x114ca50f7a8e2f3f657c1108d9d44cfd8n;
const B2 = A1;

const WINDOW = 5;
const TABLE_SIZE = 1 << (WINDOW - 1); // odd multiples 1·P, 3·P, …, (2^WINDOW − 1)·P
/** Enough digits for a half of up to 130 bits (the GLV halves are below 2^129 after the δ shift). */
const DIGITS = Math.ceil(130 / WINDOW) + 1;

/** Affine odd multiples of a point, plus the same multiples of λ·P (x scaled by β). */
interface OddMultiples {
  xs: bigint[];
  ys: bigint[];
  betaXs: bigint[];
  /** 2·P (affine), kept for the final δ correction. */
  twiceX: bigint;
  twiceY: bigint;
  betaTwiceX: bigint;
}

/**
 * A remote point made ready for several multiplications (the responder multiplies the
 * initiator's ephemeral key by its own ephemeral and by its static key): the table is built once,
 * in WebAssembly memory when that path is on (keyed by `id`), else as bigints on first use.
 */
export interface PreparedPoint {
  readonly x: bigint;
  /** Identifies the point to the WebAssembly side, which keeps one prepared table at a time. */
  readonly id: number;
  /** The bigint path's table, built when first needed. */
  bigint: BigintTable | null;
}

interface BigintTable {
  /**
   * The table lives on a curve isomorphic to secp256k1 by (x, y) ↦ (s·x, ·): a result X/Z² there
   * is x = X / (Z² · scale) on secp256k1.
   */
  readonly scale: bigint;
  readonly table: OddMultiples;
}

let nextPointId = 0;

/**
 * Odd multiples of the affine point (px, py) and the factor that maps the table's curve back.
 * 2P is computed in Jacobian coordinates (X2, Y2, Z2); rescaling the curve by Z2 (another
 * isomorphism) makes 2P the affine (X2, Y2) and P the affine (px·Z2², py·Z2³), so the table needs
 * only mixed additions and a single batch inversion.
 */
function buildOddMultiples(px: bigint, py: bigint): { table: OddMultiples; z2sq: bigint } {
  const twice = new Jacobian(px, py, 1n);
  twice.double();
  const z2 = twice.z;
  const z2sq = sqr(z2);
  const tx = twice.x;
  const ty = twice.y;

  const jac: Jacobian[] = [new Jacobian(mul(px, z2sq), mul(mul(py, z2sq), z2), 1n)];
  for (let i = 1; i < TABLE_SIZE; i++) {
    const prev = jac[i - 1] as Jacobian;
    const next = new Jacobian(prev.x, prev.y, prev.z);
    next.addAffine(tx, ty);
    jac.push(next);
  }
  // P has prime order n and the multiples are below n, so no entry is infinity.
  const zInvs = invertAll(jac.map((p) => p.z));
  const xs: bigint[] = [];
  const ys: bigint[] = [];
  const betaXs: bigint[] = [];
  for (let i = 0; i < TABLE_SIZE; i++) {
    const p = jac[i] as Jacobian;
    const zi = zInvs[i] as bigint;
    const zi2 = sqr(zi);
    const x = mul(p.x, zi2);
    xs.push(x);
    ys.push(mul(mul(p.y, zi2), zi));
    betaXs.push(mul(x, BETA));
  }
  return { table: { xs, ys, betaXs, twiceX: tx, twiceY: ty, betaTwiceX: mul(tx, BETA) }, z2sq };
}

/**
 * Prepares a point given by its x coordinate (the y sign is irrelevant to x-only ECDH).
 * `knownValid` skips the curve check for an x that ElligatorSwift decoding produced.
 */
export function preparePoint(x: bigint, knownValid = false): PreparedPoint {
  if (x <= 0n || x >= P || (!knownValid && !isValidX(x))) throw new RangeError("not the x coordinate of a curve point");
  const point: PreparedPoint = { x, id: nextPointId++, bigint: null };
  // libsecp256k1 needs no table (it parses the point per call); WebAssembly builds one now.
  if (nativeSecp256k1() !== null) return point;
  const w = ecWasm();
  if (w !== null) {
    bigIntTo32Bytes(x, w.io, IO_IN);
    w.prepare(point.id);
  }
  return point;
}

function bigintTable(point: PreparedPoint): BigintTable {
  if (point.bigint !== null) return point.bigint;
  const x = point.x;
  const v = add(mul(sqr(x), x), 7n);
  // On the isomorphic curve y² = x³ + 7v³ the point is (v·x, v²): no square root needed.
  const { table, z2sq } = buildOddMultiples(mul(v, x), sqr(v));
  point.bigint = { scale: mul(v, z2sq), table };
  return point.bigint;
}

/** Rounds a / b to the nearest integer (b > 0). */
function divNearest(a: bigint, b: bigint): bigint {
  return (a + b / 2n) / b;
}

/** d = k1 + k2·λ (mod n), with k1, k2 of about 128 bits (either may be negative). */
export function splitScalar(d: bigint): [bigint, bigint] {
  const c1 = divNearest(B2 * d, N);
  const c2 = divNearest(-B1 * d, N);
  const k1 = d - c1 * A1 - c2 * A2;
  const k2 = -c1 * B1 - c2 * B2;
  return [k1, k2];
}

/** Adds sign·table[|digit|] (or of the λ table) to acc. */
function addDigit(acc: Jacobian, xs: bigint[], ys: bigint[], digit: number, negateY: boolean): void {
  const idx = (digit < 0 ? -digit : digit) >> 1;
  const y = ys[idx] as bigint;
  acc.addAffine(xs[idx] as bigint, (digit < 0) !== negateY ? neg(y) : y);
}

/** The GLV halves of d as odd signed digits, with their signs and the δ that made them odd. */
interface GlvDigits {
  digits1: Int8Array;
  digits2: Int8Array;
  neg1: boolean;
  neg2: boolean;
  delta1: number;
  delta2: number;
}

/** d must be in [1, n−1]; the exported multiplications check it. */
function glvDigits(d: bigint): GlvDigits {
  let [k1, k2] = splitScalar(d);
  // Negative halves: use |k| on the negated point (negation only flips y).
  const neg1 = k1 < 0n;
  const neg2 = k2 < 0n;
  if (neg1) k1 = -k1;
  if (neg2) k2 = -k2;
  // δ ∈ {1, 2} makes each half odd; both corrections are real additions (see the module note).
  const delta1 = (k1 & 1n) === 0n ? 1 : 2;
  const delta2 = (k2 & 1n) === 0n ? 1 : 2;
  return { digits1: recodeOdd(k1 + BigInt(delta1), DIGITS, WINDOW), digits2: recodeOdd(k2 + BigInt(delta2), DIGITS, WINDOW), neg1, neg2, delta1, delta2 };
}

/** d·P on the table's curve, as a Jacobian point (before mapping back). */
function accumulate(point: BigintTable, g: GlvDigits): Jacobian {
  const { digits1, digits2, neg1, neg2, delta1, delta2 } = g;
  const { xs, ys, betaXs } = point.table;
  const acc = new Jacobian(0n, 0n, 0n);
  const top = DIGITS - 1;
  addDigit(acc, xs, ys, digits1[top] as number, neg1);
  addDigit(acc, betaXs, ys, digits2[top] as number, neg2);
  for (let i = top - 1; i >= 0; i--) {
    for (let j = 0; j < WINDOW; j++) acc.double();
    addDigit(acc, xs, ys, digits1[i] as number, neg1);
    addDigit(acc, betaXs, ys, digits2[i] as number, neg2);
  }
  // Subtract δ·P for each half; 1·P and 2·P are both in the table, so either δ costs one addition.
  const { twiceX, twiceY, betaTwiceX } = point.table;
  subtractCorrection(acc, delta1 === 1 ? (xs[0] as bigint) : twiceX, delta1 === 1 ? (ys[0] as bigint) : twiceY, neg1);
  subtractCorrection(acc, delta2 === 1 ? (betaXs[0] as bigint) : betaTwiceX, delta2 === 1 ? (ys[0] as bigint) : twiceY, neg2);
  if (acc.isInfinity()) throw new RangeError("scalar multiplication reached infinity");
  return acc;
}

/** The WebAssembly path: the same digits, the same schedule, in secp256k1.c. */
function multiplyWasm(w: Secp256k1Wasm, point: PreparedPoint, g: GlvDigits): Uint8Array {
  bigIntTo32Bytes(point.x, w.io, IO_IN);
  w.prepare(point.id);
  w.io.set(new Uint8Array(g.digits1.buffer, g.digits1.byteOffset, DIGITS), IO_DIGITS1);
  w.io.set(new Uint8Array(g.digits2.buffer, g.digits2.byteOffset, DIGITS), IO_DIGITS2);
  if (!w.pointMul(DIGITS, g.neg1, g.neg2, g.delta1, g.delta2)) throw new RangeError("scalar multiplication reached infinity");
  return w.io.slice(IO_OUT, IO_OUT + 32);
}

/** x(d·P) as 32 big-endian bytes, for a secret scalar 1 ≤ d < n and a prepared point P. */
export function multiplyXonly(point: PreparedPoint, d: bigint): Uint8Array {
  if (d <= 0n || d >= N) throw new RangeError("secret scalar out of range");
  const native = nativeSecp256k1();
  if (native !== null) {
    const x = native.ecdhXonly(bigIntTo32Bytes(point.x), bigIntTo32Bytes(d));
    if (x !== null) return x;
  }
  const g = glvDigits(d);
  const w = ecWasm();
  if (w !== null) return multiplyWasm(w, point, g);
  const t = bigintTable(point);
  const acc = accumulate(t, g);
  return bigIntTo32Bytes(mul(acc.x, inv(mul(sqr(acc.z), t.scale))));
}

/**
 * x(d1·P) and x(d2·P) with one shared inversion: the responder's two ECDHs (ee and es) both
 * multiply the initiator's ephemeral key.
 */
export function multiplyXonlyPair(point: PreparedPoint, d1: bigint, d2: bigint): [Uint8Array, Uint8Array] {
  if (d1 <= 0n || d1 >= N || d2 <= 0n || d2 >= N) throw new RangeError("secret scalar out of range");
  const native = nativeSecp256k1();
  if (native !== null) {
    const xs = native.ecdhXonlyPair(bigIntTo32Bytes(point.x), bigIntTo32Bytes(d1), bigIntTo32Bytes(d2));
    if (xs !== null) return xs;
  }
  const w = ecWasm();
  if (w !== null) return [multiplyWasm(w, point, glvDigits(d1)), multiplyWasm(w, point, glvDigits(d2))];
  const t = bigintTable(point);
  const a = accumulate(t, glvDigits(d1));
  const b = accumulate(t, glvDigits(d2));
  const [ia, ib] = invertAll([mul(sqr(a.z), t.scale), mul(sqr(b.z), t.scale)]);
  return [bigIntTo32Bytes(mul(a.x, ia as bigint)), bigIntTo32Bytes(mul(b.x, ib as bigint))];
}

/** acc −= (px, ±py): the final correction for the δ shift of one half. */
function subtractCorrection(acc: Jacobian, px: bigint, py: bigint, negated: boolean): void {
  acc.addAffine(px, negated ? py : neg(py));
}

/** A secret key as a scalar, refusing 0 and values ≥ n (they are not valid secp256k1 keys). */
export function scalarFromBytes(secret: Uint8Array): bigint {
  if (secret.length !== 32) throw new RangeError("secret key must be 32 bytes");
  const d = bytesToBigInt(secret);
  if (d === 0n || d >= N) throw new RangeError("secret key out of range (0 or ≥ group order)");
  return d;
}

export { LAMBDA as GLV_LAMBDA };
