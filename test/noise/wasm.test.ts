/**
 * The WebAssembly secp256k1 arithmetic (src/noise/wasm): built from the committed C source, and
 * equal to the bigint path on edge values and random inputs. The BIP324 vectors run through both
 * paths in ellswift.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { SOURCE_SHA256 } from "../../src/noise/wasm/secp256k1-wasm.ts";
import { SOURCE_SHA256 as AEAD_SOURCE_SHA256 } from "../../src/noise/wasm/chacha20poly1305-wasm.ts";
import { IO_IN, IO_IN2, IO_OUT, ecWasm, useEcWasm } from "../../src/noise/wasm/secp256k1.ts";
import { useNativeSecp256k1 } from "../../src/noise/native/secp256k1.ts";
import { N, P, bigIntTo32Bytes, bytesToBigInt, inv, sqrt } from "../../src/noise/field.ts";
import { multiplyXonly, multiplyXonlyPair, preparePoint } from "../../src/noise/scalar-mult.ts";
import { baseMultiply, baseMultiplyXonly } from "../../src/noise/base-mult.ts";
import { ellswiftDecodeX, ellswiftEncode } from "../../src/noise/ellswift.ts";
import { seededRandom } from "./helpers.ts";

const SRC = join(import.meta.dir, "..", "..", "src", "noise", "wasm", "secp256k1.c");

function randomBelow(rng: (n: number) => Uint8Array, bound: bigint): bigint {
  for (;;) {
    const v = bytesToBigInt(rng(32));
    if (v > 0n && v < bound) return v;
  }
}

/** Field values where limb carries and the final reduction are most likely to go wrong. */
const EDGE: bigint[] = [
  0n,
  1n,
  2n,
  7n,
  P - 1n,
  P - 2n,
  P - 0x3d1n,
  (1n << 255n) - 1n,
  1n << 255n,
  (1n << 26n) - 1n,
  1n << 26n,
  (1n << 234n) - 1n,
  (1n << 234n),
  (1n << 256n) - (1n << 32n) - 978n, // p − 1 written out
  P - (1n << 26n), // low limbs all ones below a borrow
];

// These tests compare the WebAssembly path with the bigint one: libsecp256k1 (which would take
// the ECDH and key generation when installed) is switched off here and tested in ellswift.test.ts.
beforeAll(() => {
  useNativeSecp256k1(false);
});
afterAll(() => {
  useNativeSecp256k1(true);
});

afterEach(() => {
  useEcWasm(true);
});

describe("WebAssembly secp256k1", () => {
  test("the embedded modules were built from the committed C (run scripts/build-wasm.sh after editing it)", () => {
    const sha = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");
    expect(SOURCE_SHA256).toBe(sha(SRC));
    expect(AEAD_SOURCE_SHA256).toBe(sha(join(import.meta.dir, "..", "..", "src", "noise", "wasm", "chacha20poly1305.c")));
  });

  test("loads in Bun, and switching it off falls back to the bigint path", () => {
    expect(ecWasm()).not.toBeNull();
    expect(useEcWasm(false)).toBe(true);
    expect(ecWasm()).toBeNull();
    useEcWasm(true);
    expect(ecWasm()).not.toBeNull();
  });

  test("multiplication, inverse (constant- and variable-time) and square root agree with bigint arithmetic on edge and random values", () => {
    const w = ecWasm();
    if (w === null) throw new Error("wasm did not load");
    const rng = seededRandom(11);
    const values = [...EDGE.filter((v) => v < P), ...Array.from({ length: 300 }, () => randomBelow(rng, P))];
    for (const a of values) {
      for (const b of [values[(Number(a % 97n) + 3) % values.length] as bigint, P - 1n, 0n]) {
        bigIntTo32Bytes(a, w.io, IO_IN);
        bigIntTo32Bytes(b, w.io, IO_IN2);
        w.mul();
        expect(bytesToBigInt(w.io, IO_OUT)).toBe((a * b) % P);
      }
      if (a !== 0n) {
        bigIntTo32Bytes(a, w.io, IO_IN);
        w.inv();
        const i = bytesToBigInt(w.io, IO_OUT);
        expect((i * a) % P).toBe(1n);
        bigIntTo32Bytes(a, w.io, IO_IN);
        w.invVar();
        expect(bytesToBigInt(w.io, IO_OUT)).toBe(i);
      }
      const viaWasm = sqrt(a);
      useEcWasm(false);
      const viaBigint = sqrt(a);
      useEcWasm(true);
      expect(viaWasm).toBe(viaBigint);
      if (viaWasm !== null) expect((viaWasm * viaWasm) % P).toBe(a);
    }
    expect(inv(P - 1n)).toBe(P - 1n);
  });

  test("inputs of 2^256 − 1 and p are reduced before use", () => {
    const w = ecWasm();
    if (w === null) throw new Error("wasm did not load");
    for (const a of [P, P + 1n, (1n << 256n) - 1n]) {
      bigIntTo32Bytes(a, w.io, IO_IN);
      bigIntTo32Bytes(1n, w.io, IO_IN2);
      w.mul();
      expect(bytesToBigInt(w.io, IO_OUT)).toBe(a % P);
    }
  });

  test("x(d·P), the ECDH pair and x(d·G) equal the bigint path and @noble/curves", () => {
    const rng = seededRandom(12);
    for (let i = 0; i < 40; i++) {
      const d1 = i === 0 ? 1n : i === 1 ? N - 1n : randomBelow(rng, N);
      const d2 = randomBelow(rng, N);
      const peer = secp256k1.Point.BASE.multiply(randomBelow(rng, N));
      const x = peer.toAffine().x;
      const expected = bytesToHex(bigIntTo32Bytes(peer.multiply(d1).toAffine().x));

      const point = preparePoint(x);
      expect(bytesToHex(multiplyXonly(point, d1))).toBe(expected);
      const [a, b] = multiplyXonlyPair(point, d1, d2);
      expect(bytesToHex(a)).toBe(expected);
      expect(bytesToHex(b)).toBe(bytesToHex(bigIntTo32Bytes(peer.multiply(d2).toAffine().x)));
      const base = bytesToHex(baseMultiplyXonly(d1));
      const g = secp256k1.Point.BASE.multiply(d1).toAffine();
      expect(base).toBe(bytesToHex(bigIntTo32Bytes(g.x)));
      expect(baseMultiply(d1)).toEqual({ x: g.x, y: g.y });

      useEcWasm(false);
      expect(bytesToHex(multiplyXonly(preparePoint(x), d1))).toBe(expected);
      expect(bytesToHex(baseMultiplyXonly(d1))).toBe(base);
      expect(baseMultiply(d1)).toEqual({ x: g.x, y: g.y });
      useEcWasm(true);
    }
  });

  test("ElligatorSwift decode and encode in secp256k1.c give the bigint path's bytes exactly", () => {
    const rng = seededRandom(14);
    for (let i = 0; i < 300; i++) {
      // Any 64 bytes decode, including u or t ≥ p, zero, and the u³ + t² + 7 = 0 corner's neighbourhood.
      const enc = rng(64);
      if (i === 0) enc.fill(0);
      if (i === 1) enc.fill(0xff);
      const viaWasm = ellswiftDecodeX(enc);
      useEcWasm(false);
      const viaBigint = ellswiftDecodeX(enc);
      useEcWasm(true);
      expect(viaWasm).toBe(viaBigint);
    }
    for (let i = 0; i < 100; i++) {
      const x = baseMultiplyXonly(randomBelow(rng, N));
      const seed = 1000 + i;
      const viaWasm = ellswiftEncode(x, seededRandom(seed));
      useEcWasm(false);
      const viaBigint = ellswiftEncode(x, seededRandom(seed));
      useEcWasm(true);
      expect(bytesToHex(viaWasm)).toBe(bytesToHex(viaBigint));
      expect(bytesToHex(bigIntTo32Bytes(ellswiftDecodeX(viaWasm)))).toBe(bytesToHex(x));
    }
  });

  test("interleaving two prepared points re-prepares instead of using the other point's table", () => {
    const rng = seededRandom(13);
    const p1 = secp256k1.Point.BASE.multiply(randomBelow(rng, N));
    const p2 = secp256k1.Point.BASE.multiply(randomBelow(rng, N));
    const a = preparePoint(p1.toAffine().x);
    const b = preparePoint(p2.toAffine().x); // the C side now holds b's table
    const d = randomBelow(rng, N);
    expect(bytesToHex(multiplyXonly(a, d))).toBe(bytesToHex(bigIntTo32Bytes(p1.multiply(d).toAffine().x)));
    expect(bytesToHex(multiplyXonly(b, d))).toBe(bytesToHex(bigIntTo32Bytes(p2.multiply(d).toAffine().x)));
    // A point prepared while WebAssembly was off still multiplies correctly once it is back on.
    useEcWasm(false);
    const c = preparePoint(p1.toAffine().x);
    useEcWasm(true);
    expect(bytesToHex(multiplyXonly(c, d))).toBe(bytesToHex(bigIntTo32Bytes(p1.multiply(d).toAffine().x)));
  });
});
