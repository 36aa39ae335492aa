/**
 * libsecp256k1 through FFI (src/noise/native/secp256k1.ts) against @noble/curves. The BIP324 ECDH
 * vectors also run through it in ellswift.test.ts. Skipped, visibly, where the library is missing.
 */
import { describe, expect, test } from "bun:test";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { load, nativeSecp256k1 } from "../../src/noise/native/secp256k1.ts";
import { bigIntTo32Bytes, bytesToBigInt, N, P } from "../../src/noise/field.ts";
import { seededRandom } from "./helpers.ts";

const lib = nativeSecp256k1();

test("a library name that does not exist loads as null (the WebAssembly path is used)", () => {
  expect(load(["libsecp256k1-does-not-exist.so.9"])).toBeNull();
});

if (lib === null) {
  test.skip("libsecp256k1 is not installed here (Debian: libsecp256k1-1): its path is not run", () => {});
} else {
  describe(`libsecp256k1 (${lib.name})`, () => {
    const rng = seededRandom(31);
    const scalar = (): bigint => {
      for (;;) {
        const v = bytesToBigInt(rng(32));
        if (v > 0n && v < N) return v;
      }
    };

    test("x-only ECDH, the pair and key generation equal @noble/curves for random keys (odd and even y)", () => {
      for (let i = 0; i < 100; i++) {
        const peer = secp256k1.Point.BASE.multiply(scalar()).toAffine();
        const d1 = i === 0 ? 1n : i === 1 ? N - 1n : scalar();
        const d2 = scalar();
        const x = bigIntTo32Bytes(peer.x);
        const want1 = bytesToHex(bigIntTo32Bytes(secp256k1.Point.fromAffine(peer).multiply(d1).toAffine().x));
        const want2 = bytesToHex(bigIntTo32Bytes(secp256k1.Point.fromAffine(peer).multiply(d2).toAffine().x));
        expect(bytesToHex(lib.ecdhXonly(x, bigIntTo32Bytes(d1)) as Uint8Array)).toBe(want1);
        const pair = lib.ecdhXonlyPair(x, bigIntTo32Bytes(d1), bigIntTo32Bytes(d2));
        expect(pair?.map((b) => bytesToHex(b))).toEqual([want1, want2]);
        expect(bytesToHex(lib.xonlyPublicKey(bigIntTo32Bytes(d1)) as Uint8Array)).toBe(bytesToHex(bigIntTo32Bytes(secp256k1.Point.BASE.multiply(d1).toAffine().x)));
      }
    });

    test("an x off the curve, a zero key and a key ≥ n are refused (null), never a wrong answer", () => {
      const x = bigIntTo32Bytes(secp256k1.Point.BASE.multiply(scalar()).toAffine().x);
      expect(lib.ecdhXonly(bigIntTo32Bytes(5n), bigIntTo32Bytes(7n))).toBeNull(); // 5³ + 7 = 132 is not a square mod p
      expect(lib.ecdhXonly(bigIntTo32Bytes(P), bigIntTo32Bytes(7n))).toBeNull();
      expect(lib.ecdhXonly(x, new Uint8Array(32))).toBeNull();
      expect(lib.ecdhXonly(x, bigIntTo32Bytes(N))).toBeNull();
      expect(lib.xonlyPublicKey(new Uint8Array(32))).toBeNull();
      expect(lib.xonlyPublicKey(bigIntTo32Bytes(N))).toBeNull();
      expect(() => lib.ecdhXonly(x.subarray(0, 31), bigIntTo32Bytes(7n))).toThrow(RangeError);
    });
  });
}
