/**
 * Signed odd-digit recoding of a scalar, shared by the variable-point (scalar-mult.ts) and
 * fixed-base (base-mult.ts) multiplications: k = Σ d_i·2^(w·i) with every d_i odd in
 * [−(2^w − 1), 2^w − 1], least significant first. Every digit is non-zero, which is what makes
 * the addition schedule the same for every scalar.
 *
 * Worked on 32-bit words, not bigint: subtracting d_i = (k mod 2^(w+1)) − 2^w only sets the low
 * w+1 bits of k to 2^w (no carry or borrow leaves them), so each step is "read the low bits, set
 * them, shift the words right by w" — a few dozen number operations instead of bigint
 * allocations (~10 µs per 130-bit half on Bun).
 */

/** Recodes odd k, 0 < k < 2^(w·(count−1) + w), into `count` digits of window `w` (w ≤ 7). */
export function recodeOdd(k: bigint, count: number, w: number): Int8Array {
  if (k <= 0n || (k & 1n) === 0n) throw new RangeError("recoding needs an odd positive scalar");
  const words = new Uint32Array(9);
  let rest = k;
  for (let i = 0; i < 9 && rest > 0n; i++) {
    words[i] = Number(rest & 0xffffffffn);
    rest >>= 32n;
  }
  if (rest > 0n) throw new RangeError("scalar too large for recoding");
  const lowMask = (1 << (w + 1)) - 1;
  const half = 1 << w;
  const digits = new Int8Array(count);
  for (let i = 0; i < count - 1; i++) {
    const w0 = words[0] as number;
    digits[i] = (w0 & lowMask) - half;
    words[0] = (w0 & ~lowMask) | half;
    for (let j = 0; j < 8; j++) words[j] = ((words[j] as number) >>> w) | ((words[j + 1] as number) << (32 - w));
    words[8] = (words[8] as number) >>> w;
  }
  const top = words[0] as number;
  for (let j = 1; j < 9; j++) if (words[j] !== 0) throw new RangeError("scalar out of range for recoding");
  if (top <= 0 || top >= half) throw new RangeError("scalar out of range for recoding");
  digits[count - 1] = top;
  return digits;
}
