// ElligatorSwift and x-only ECDH against the BIP324 vectors (bitcoin/bips bip-0324/*.csv, copied
// byte-for-byte into shared/sv2/vectors), and the scalar multiplication against @noble/curves.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { readSharedCsv } from "../helpers/shared.ts";
import {
  ellswiftCreate,
  ellswiftDecode,
  ellswiftEcdhXonly,
  ellswiftEncode,
  generateEllSwiftKeyPair,
  randomSecretKey,
  v2Ecdh,
  xonlyPublicKey,
  xswiftec,
  xswiftecInv,
  xswiftecInvUnnormalized,
} from "../../src/noise/ellswift.ts";
import { GLV_LAMBDA, multiplyXonly, preparePoint, splitScalar } from "../../src/noise/scalar-mult.ts";
import { N, P } from "../../src/noise/field.ts";
import { baseMultiplyXonly } from "../../src/noise/base-mult.ts";
import { seededRandom } from "./helpers.ts";
import { ecWasm, useEcWasm } from "../../src/noise/wasm/secp256k1.ts";
import { nativeSecp256k1, useNativeSecp256k1 } from "../../src/noise/native/secp256k1.ts";

const decodeRows = readSharedCsv("sv2", "vectors", "bip324_ellswift_decode_test_vectors.csv");
const invRows = readSharedCsv("sv2", "vectors", "bip324_xswiftec_inv_test_vectors.csv");
const packetRows = readSharedCsv("sv2", "vectors", "bip324_packet_encoding_test_vectors.csv");

const big = (hex: string): bigint => BigInt(`0x${hex}`);
const hex32 = (v: bigint): string => v.toString(16).padStart(64, "0");

// Every vector runs through each arithmetic path: libsecp256k1 through FFI (ECDH and key
// generation, where the system has it), the WebAssembly build of secp256k1.c, and the bigint code
// used when WebAssembly is unavailable.
const nativeInstalled = nativeSecp256k1() !== null;
const backends = nativeInstalled ? (["native", "wasm", "bigint"] as const) : (["wasm", "bigint"] as const);

if (!nativeInstalled) test.skip("libsecp256k1 is not installed here (Debian: libsecp256k1-1): its path is not run", () => {});

for (const backend of backends) {
  describe(`${backend} arithmetic`, () => {
    beforeAll(() => {
      useNativeSecp256k1(backend === "native");
      useEcWasm(backend !== "bigint");
      if (backend === "native") expect(nativeSecp256k1()).not.toBeNull();
      else expect(nativeSecp256k1()).toBeNull();
      if (backend === "bigint") expect(ecWasm()).toBeNull();
      else expect(ecWasm()).not.toBeNull();
    });
    afterAll(() => {
      useEcWasm(true);
      useNativeSecp256k1(true);
    });

    describe("ellswift decode (BIP324 ellswift_decode_test_vectors.csv)", () => {
      test("the file has its 76 rows", () => {
        expect(decodeRows.length).toBe(76);
      });
      decodeRows.forEach((row, i) => {
        test(`row ${i}: ${row.comment}`, () => {
          expect(bytesToHex(ellswiftDecode(hexToBytes(row.ellswift as string)))).toBe(row.x as string);
        });
      });
    });

    describe("xswiftec_inv (BIP324 xswiftec_inv_test_vectors.csv)", () => {
      test("the file has its 32 rows", () => {
        expect(invRows.length).toBe(32);
      });
      invRows.forEach((row, i) => {
        test(`row ${i}: every case gives the listed t (or none), and each t decodes back to x`, () => {
          const u = big(row.u as string);
          const x = big(row.x as string);
          for (let c = 0; c < 8; c++) {
            const expected = row[`case${c}_t`] as string;
            const t = xswiftecInv(u, x, c);
            expect(t === null ? "" : hex32(t)).toBe(expected);
            if (t !== null) expect(hex32(xswiftec(u, t))).toBe(row.x as string);
          }
        });
      });
    });

    describe("x-only ECDH (BIP324 packet_encoding_test_vectors.csv, ECDH columns)", () => {
      test("the file has its 7 rows", () => {
        expect(packetRows.length).toBe(7);
      });
      packetRows.forEach((row) => {
        test(`row ${row.in_idx}: decoded x, shared x and the tagged shared secret`, () => {
          const priv = hexToBytes(row.in_priv_ours as string);
          const ours = hexToBytes(row.in_ellswift_ours as string);
          const theirs = hexToBytes(row.in_ellswift_theirs as string);
          const initiating = row.in_initiating === "1";
          expect(bytesToHex(ellswiftDecode(ours))).toBe(row.mid_x_ours as string);
          expect(bytesToHex(ellswiftDecode(theirs))).toBe(row.mid_x_theirs as string);
          // Our encoding must be an encoding of our own public key.
          expect(bytesToHex(xonlyPublicKey(priv))).toBe(row.mid_x_ours as string);
          expect(bytesToHex(ellswiftEcdhXonly(priv, theirs))).toBe(row.mid_x_shared as string);
          expect(bytesToHex(v2Ecdh(priv, ours, theirs, initiating))).toBe(row.mid_shared_secret as string);
        });
      });
      test("swapping the initiator flag changes the secret (the order of the encodings is hashed)", () => {
        const row = packetRows[0] as Record<string, string>;
        const priv = hexToBytes(row.in_priv_ours as string);
        const flipped = v2Ecdh(priv, hexToBytes(row.in_ellswift_ours as string), hexToBytes(row.in_ellswift_theirs as string), row.in_initiating !== "1");
        expect(bytesToHex(flipped)).not.toBe(row.mid_shared_secret as string);
      });
    });

    describe("ellswift encode", () => {
      test("the encoder's single-inversion inverse agrees with the reference up to the sign of t", () => {
        const rng = seededRandom(31);
        let solutions = 0;
        for (const row of invRows) {
          const u = big(row.u as string);
          const x = big(row.x as string);
          for (let c = 0; c < 8; c++) {
            const reference = xswiftecInv(u, x, c);
            const fast = xswiftecInvUnnormalized(u, x, c);
            expect(fast === null).toBe(reference === null);
            if (fast !== null && reference !== null) expect(fast === reference || fast === (P - reference) % P).toBe(true);
          }
        }
        for (let i = 0; i < 60; i++) {
          const x = big(bytesToHex(xonlyPublicKey(rng(32))));
          const u = (big(bytesToHex(rng(32))) % (P - 1n)) + 1n;
          for (let c = 0; c < 8; c++) {
            const reference = xswiftecInv(u, x, c);
            const fast = xswiftecInvUnnormalized(u, x, c);
            expect(fast === null).toBe(reference === null);
            if (fast !== null) {
              solutions++;
              expect(fast === reference || fast === (P - (reference as bigint)) % P).toBe(true);
              expect(hex32(xswiftec(u, fast))).toBe(hex32(x));
            }
          }
        }
        expect(solutions).toBeGreaterThan(60);
      });

      test("encodings of random keys decode back to the key's x, and both sides agree on ECDH", () => {
        const rng = seededRandom(7);
        for (let i = 0; i < 12; i++) {
          const a = generateEllSwiftKeyPair(rng);
          const b = generateEllSwiftKeyPair(rng);
          expect(bytesToHex(ellswiftDecode(a.encoding))).toBe(bytesToHex(xonlyPublicKey(a.secret)));
          const ab = v2Ecdh(a.secret, a.encoding, b.encoding, true);
          const ba = v2Ecdh(b.secret, b.encoding, a.encoding, false);
          expect(bytesToHex(ab)).toBe(bytesToHex(ba));
        }
      });
      test("is deterministic for a given random source and differs across draws", () => {
        const secret = hexToBytes("547225cf44c7c3fec8a98ed02eddbdd321b653109942be6cb38696c43d3f5977");
        const e1 = ellswiftCreate(secret, seededRandom(1));
        const e2 = ellswiftCreate(secret, seededRandom(1));
        const e3 = ellswiftCreate(secret, seededRandom(2));
        expect(bytesToHex(e1)).toBe(bytesToHex(e2));
        expect(bytesToHex(e1)).not.toBe(bytesToHex(e3));
        expect(bytesToHex(ellswiftDecode(e3))).toBe(bytesToHex(xonlyPublicKey(secret)));
      });
      test("draws whose u is 0 or ≥ p are skipped (the encoding uses the next draw)", () => {
        const x = xonlyPublicKey(randomSecretKey(seededRandom(5)));
        const later = seededRandom(6);
        const pAsBytes = hexToBytes(hex32(P));
        const draws = [new Uint8Array(33).fill(0xff), new Uint8Array(33), Uint8Array.from([...pAsBytes, 0])];
        let calls = 0;
        const rng = (n: number): Uint8Array => {
          calls++;
          const d = draws.shift();
          return d !== undefined ? d : later(n);
        };
        const enc = ellswiftEncode(x, rng);
        expect(calls).toBeGreaterThanOrEqual(4);
        expect(bytesToHex(ellswiftDecode(enc))).toBe(bytesToHex(x));
        expect(bytesToHex(enc.subarray(0, 32))).not.toBe("ff".repeat(32));
      });

      test("refuses an x that is not on the curve", () => {
        // x = 5: 125 + 7 = 132 is not a square mod p.
        const x = new Uint8Array(32);
        x[31] = 5;
        expect(() => ellswiftEncode(x)).toThrow(RangeError);
      });
    });

    describe("scalar multiplication (own GLV x-only ladder) against @noble/curves", () => {
      test("the GLV split recombines to the scalar and both halves are short", () => {
        const rng = seededRandom(3);
        for (let i = 0; i < 200; i++) {
          const d = big(bytesToHex(rng(32))) % N;
          const [k1, k2] = splitScalar(d);
          expect((((k1 + k2 * GLV_LAMBDA - d) % N) + N) % N).toBe(0n);
          expect(k1 < 1n << 129n && -k1 < 1n << 129n).toBe(true);
          expect(k2 < 1n << 129n && -k2 < 1n << 129n).toBe(true);
        }
      });
      test("x(d·P) matches noble for random and edge scalars", () => {
        const rng = seededRandom(11);
        const scalars: bigint[] = [1n, 2n, 3n, N - 1n, N - 2n, GLV_LAMBDA, N - GLV_LAMBDA, (1n << 128n) + 1n];
        for (let i = 0; i < 40; i++) scalars.push((big(bytesToHex(rng(32))) % (N - 1n)) + 1n);
        const base = secp256k1.Point.BASE.multiply(0x1234567890abcdefn).toAffine();
        const prepared = preparePoint(base.x);
        for (const d of scalars) {
          const expected = secp256k1.Point.fromAffine(base).multiply(d).toAffine().x;
          expect(bytesToHex(multiplyXonly(prepared, d))).toBe(hex32(expected));
        }
      });
      test("fixed-base x(d·G) matches noble for random and edge scalars (odd and even)", () => {
        const rng = seededRandom(12);
        const scalars: bigint[] = [1n, 2n, 3n, 31n, 32n, 33n, N - 1n, N - 2n, (1n << 255n) + 7n, 1n << 200n];
        for (let i = 0; i < 40; i++) scalars.push((big(bytesToHex(rng(32))) % (N - 1n)) + 1n);
        for (const d of scalars) {
          expect(bytesToHex(baseMultiplyXonly(d))).toBe(hex32(secp256k1.Point.BASE.multiply(d).toAffine().x));
        }
        expect(() => baseMultiplyXonly(0n)).toThrow(RangeError);
        expect(() => baseMultiplyXonly(N)).toThrow(RangeError);
      });

      test("refuses scalars outside [1, n−1] and x values off the curve", () => {
        const prepared = preparePoint(secp256k1.Point.BASE.toAffine().x);
        expect(() => multiplyXonly(prepared, 0n)).toThrow(RangeError);
        expect(() => multiplyXonly(prepared, N)).toThrow(RangeError);
        expect(() => preparePoint(5n)).toThrow(RangeError);
      });
    });
  });
}
