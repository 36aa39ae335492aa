/**
 * x(d·G) for key generation, with a precomputed table: the scalar is recoded into odd signed
 * digits of WINDOW bits, and digit i selects ±(2j+1)·2^(WINDOW·i)·G from row i of the table, so
 * a multiplication is DIGITS mixed additions and no doublings (~4× faster than @noble/curves'
 * constant-time G multiplication on Bun). Every digit is non-zero, so every multiplication does
 * the same sequence of additions whatever the secret (same caveats as scalar-mult.ts: bigint
 * arithmetic and table indexing are not constant-time at the instruction level).
 *
 * The table (53 rows × 16 affine points) is built on first use, in about 10 ms.
 */
import { N, bigIntTo32Bytes, bytesToBigInt, inv, mul, neg, sqr } from "./field.ts";
import { Jacobian, invertAll } from "./jacobian.ts";
import { recodeOdd } from "./recode.ts";
import { IO_DIGITS1, IO_OUT, IO_OUT2, ecWasm } from "./wasm/secp256k1.ts";

const GX = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
const GY = 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n;

const WINDOW = 5;
const ROW = 1 << (WINDOW - 1);
/** 256-bit odd scalars need 52 recoding steps of 5 bits plus a final digit. */
const DIGITS = Math.ceil(256 / WINDOW) + 1;

interface Table {
  xs: bigint[];
  ys: bigint[];
}

let table: Table | null = null;

function buildTable(): Table {
  // Row i holds (2j+1)·B_i for B_i = 2^(WINDOW·i)·G; rows are built in Jacobian coordinates and
  // normalised together with one inversion.
  const points: Jacobian[] = [];
  let bx = GX;
  let by = GY;
  for (let i = 0; i < DIGITS; i++) {
    const twice = new Jacobian(bx, by, 1n);
    twice.double();
    const [zi] = invertAll([twice.z]);
    const zi2 = sqr(zi as bigint);
    const tx = mul(twice.x, zi2);
    const ty = mul(mul(twice.y, zi2), zi as bigint);
    let acc = new Jacobian(bx, by, 1n);
    points.push(acc);
    for (let j = 1; j < ROW; j++) {
      acc = new Jacobian(acc.x, acc.y, acc.z);
      acc.addAffine(tx, ty);
      points.push(acc);
    }
    // Next base: 2^WINDOW·B_i = 2·(2^(WINDOW−1)·B_i); compute it by doubling the affine base.
    const next = new Jacobian(bx, by, 1n);
    for (let k = 0; k < WINDOW; k++) next.double();
    const [ni] = invertAll([next.z]);
    const ni2 = sqr(ni as bigint);
    bx = mul(next.x, ni2);
    by = mul(mul(next.y, ni2), ni as bigint);
  }
  const zInvs = invertAll(points.map((p) => p.z));
  const xs: bigint[] = [];
  const ys: bigint[] = [];
  points.forEach((p, i) => {
    const zi = zInvs[i] as bigint;
    const zi2 = sqr(zi);
    xs.push(mul(p.x, zi2));
    ys.push(mul(mul(p.y, zi2), zi));
  });
  return { xs, ys };
}

/** Odd signed digits of d (or of n − d, which has the same x), least significant first. */
function baseDigits(d: bigint): Int8Array {
  if (d <= 0n || d >= N) throw new RangeError("secret scalar out of range");
  // x(k·G) = x(−k·G) = x((n−k)·G) and n is odd, so an odd representative always exists.
  return recodeOdd((d & 1n) === 1n ? d : N - d, DIGITS, WINDOW);
}

/** d·G in affine coordinates (x, y), each in [0, p). */
export interface AffinePoint {
  readonly x: bigint;
  readonly y: bigint;
}

/** d·G as an affine point, for 1 ≤ d < n (BIP340 signing needs the parity of y). */
export function baseMultiply(d: bigint): AffinePoint {
  const digits = baseDigits(d);
  // The digits are of d or of n − d; the latter is the negated point (same x, y ↦ p − y).
  const negated = (d & 1n) === 0n;
  let x: bigint;
  let y: bigint;
  const w = ecWasm();
  if (w !== null) {
    // The C side builds the same table (in about a millisecond) on first use.
    w.io.set(new Uint8Array(digits.buffer, 0, DIGITS), IO_DIGITS1);
    if (!w.baseMul()) throw new RangeError("base multiplication reached infinity");
    x = bytesToBigInt(w.io, IO_OUT);
    y = bytesToBigInt(w.io, IO_OUT2);
  } else {
    const t = (table ??= buildTable());
    const acc = new Jacobian(0n, 0n, 0n);
    for (let i = 0; i < DIGITS; i++) {
      const digit = digits[i] as number;
      const idx = i * ROW + ((digit < 0 ? -digit : digit) >> 1);
      const ty = t.ys[idx] as bigint;
      acc.addAffine(t.xs[idx] as bigint, digit < 0 ? neg(ty) : ty);
    }
    if (acc.isInfinity()) throw new RangeError("base multiplication reached infinity");
    const zi = inv(acc.z);
    const zi2 = sqr(zi);
    x = mul(acc.x, zi2);
    y = mul(mul(acc.y, zi2), zi);
  }
  return { x, y: negated ? neg(y) : y };
}

/** x(d·G) as 32 big-endian bytes for 1 ≤ d < n (keys from bytes: `xonlyPublicKey`, which prefers libsecp256k1). */
export function baseMultiplyXonly(d: bigint): Uint8Array {
  return bigIntTo32Bytes(baseMultiply(d).x);
}
