import { describe, expect, test } from "bun:test";
import { recodeOdd } from "../../src/noise/recode.ts";
import { seededRandom } from "./helpers.ts";
import { bytesToBigInt, N } from "../../src/noise/field.ts";

/** Σ d_i·2^(w·i): the digits must add back up to the scalar. */
function recombine(digits: Int8Array, w: number): bigint {
  let k = 0n;
  for (let i = digits.length - 1; i >= 0; i--) k = (k << BigInt(w)) + BigInt(digits[i] as number);
  return k;
}

describe("recodeOdd (signed odd digits)", () => {
  test("digits are odd, bounded, and recombine to the scalar (256-bit base scalars and 130-bit GLV halves)", () => {
    const rng = seededRandom(21);
    const cases: [bigint, number][] = [
      [1n, 53],
      [N - 2n, 53],
      [(1n << 129n) + 1n, 27],
      [3n, 27],
    ];
    for (let i = 0; i < 500; i++) cases.push([bytesToBigInt(rng(32)) % N | 1n, 53], [(bytesToBigInt(rng(32)) >> 127n) | 1n, 27]);
    for (const [k, count] of cases) {
      const digits = recodeOdd(k, count, 5);
      expect(digits.length).toBe(count);
      for (const d of digits) {
        expect(Math.abs(d) % 2).toBe(1);
        expect(Math.abs(d)).toBeLessThan(32);
      }
      expect(recombine(digits, 5)).toBe(k);
    }
  });

  test("refuses even, non-positive and too-large scalars", () => {
    expect(() => recodeOdd(2n, 27, 5)).toThrow(RangeError);
    expect(() => recodeOdd(0n, 27, 5)).toThrow(RangeError);
    expect(() => recodeOdd(-3n, 27, 5)).toThrow(RangeError);
    expect(() => recodeOdd((1n << 140n) + 1n, 27, 5)).toThrow(RangeError);
  });
});
