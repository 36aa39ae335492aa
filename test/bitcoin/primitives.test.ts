// Known-answer tests for the small Bitcoin primitives: bytes, hashes, CompactSize, nBits/targets/
// difficulty, script pushes and BIP34 heights, merkle trees, headers, transaction parsing and the
// block subsidy. Expected values come from Bitcoin Core's own unit tests (arith_uint256_tests,
// script tests), from Python's hashlib/fractions (computed once and written here), from the BIP340
// vectors in ../shared, and from bitcoinjs-lib as an independent implementation.
import { describe, expect, test } from "bun:test";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { script as bscript } from "bitcoinjs-lib";
import {
  bytesToHex,
  concatBytes,
  displayHexToInternal,
  equalBytes,
  hexToBytes,
  internalToDisplayHex,
  readI32LE,
  readU32LE,
  readU64LE,
  reverseBytes,
  u32le,
  u64le,
} from "../../src/bitcoin/bytes.ts";
import { sha256, sha256d, taggedHash } from "../../src/bitcoin/hash.ts";
import { compactSizeLength, encodeCompactSize, readCompactSize } from "../../src/bitcoin/compactsize.ts";
import {
  DIFF1_TARGET,
  MAX_TARGET,
  difficultyToTarget,
  hashDifficulty,
  hashMeetsTarget,
  hashToBigInt,
  hashrateToTarget,
  leBytesToTarget,
  nbitsToTarget,
  targetToDifficulty,
  targetToExpectedHashes,
  targetToLeBytes,
  targetToNbits,
} from "../../src/bitcoin/target.ts";
import { bip34HeightScript, parseBip34Height, pushData, scriptNum } from "../../src/bitcoin/script.ts";
import { coinbaseMerklePath, merkleRoot, merkleRootFromPath } from "../../src/bitcoin/merkle.ts";
import { HEADER_SIZE, HeaderHasher, headerHash, parseHeader, serializeHeader } from "../../src/bitcoin/header.ts";
import { parseTransaction, serializeTransaction, txid, wtxid } from "../../src/bitcoin/tx.ts";
import { parseBlock } from "../../src/bitcoin/block.ts";
import { COIN, blockSubsidy } from "../../src/bitcoin/subsidy.ts";
import { NETWORKS } from "../../src/bitcoin/network.ts";
import { StratumV2Error } from "../../src/errors.ts";
import { readSharedCsv, readSharedJson, readSharedText } from "../helpers/shared.ts";

/** A bigint as 64 hex digits (big-endian), the way Core's GetHex prints a uint256. */
function hex64(n: bigint): string {
  return n.toString(16).padStart(64, "0");
}

/** The error `fn` throws (fails when it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("bytes", () => {
  test("little-endian accessors", () => {
    expect(bytesToHex(u32le(0x12345678))).toBe("78563412");
    expect(bytesToHex(u32le(0xffffffff))).toBe("ffffffff");
    expect(bytesToHex(u64le(5000000000n))).toBe("00f2052a01000000");
    expect(bytesToHex(u64le(0xffffffffffffffffn))).toBe("ffffffffffffffff");
    expect(readU32LE(hexToBytes("feffffff"), 0)).toBe(4294967294);
    expect(readI32LE(hexToBytes("feffffff"), 0)).toBe(-2);
    expect(readU64LE(hexToBytes("00f2052a01000000"), 0)).toBe(5000000000n);
    expect(readU64LE(hexToBytes("ffffffffffffffff"), 0)).toBe(0xffffffffffffffffn);
  });

  test("display and internal byte order", () => {
    const display = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
    const internal = displayHexToInternal(display);
    expect(bytesToHex(internal)).toBe("6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000");
    expect(internalToDisplayHex(internal)).toBe(display);
    const input = Uint8Array.of(1, 2, 3);
    expect(Array.from(reverseBytes(input))).toEqual([3, 2, 1]);
    expect(Array.from(input)).toEqual([1, 2, 3]);
    expect(bytesToHex(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)))).toBe("010203");
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).toBe(false);
  });
});

describe("hashes", () => {
  test("sha256 and sha256d known values", () => {
    const empty = new Uint8Array(0);
    expect(bytesToHex(sha256(empty))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(bytesToHex(sha256(new TextEncoder().encode("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(bytesToHex(sha256d(empty))).toBe("5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
    // The genesis block header hashes to the well-known genesis hash.
    const genesis = hexToBytes(
      "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c",
    );
    expect(internalToDisplayHex(sha256d(genesis))).toBe("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
  });

  test("sha256 results stay valid after later hashes (no shared output buffer)", () => {
    const first = sha256d(Uint8Array.of(1));
    const copy = first.slice();
    for (let i = 0; i < 2000; i++) sha256d(Uint8Array.of(i & 0xff, i >> 8));
    expect(equalBytes(first, copy)).toBe(true);
    expect(first.length).toBe(32);
  });

  test("sha256 agrees with @noble/hashes on every length 0..200", () => {
    const data = new Uint8Array(200);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) & 0xff;
    for (let n = 0; n <= data.length; n++) {
      const part = data.subarray(0, n);
      expect(bytesToHex(sha256(part))).toBe(bytesToHex(nobleSha256(part)));
    }
  });

  test("BIP340 taggedHash: known values (computed with Python hashlib) and @noble/curves", () => {
    // SHA256("BIP0340/challenge") and the tagged hashes of "" and of bytes 0..31.
    expect(bytesToHex(sha256(new TextEncoder().encode("BIP0340/challenge")))).toBe("7bb52d7a9fef58323eb1bf7a407db382d2f3f2d81bb1224f49fe518f6d48d37c");
    expect(bytesToHex(taggedHash("BIP0340/challenge"))).toBe("c216d352f5818b7b4beacd4ae0a26fe888080823d2a598856661bcd54f1b3713");
    const seq = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(bytesToHex(taggedHash("BIP0340/challenge", seq))).toBe("3808926260c3c44ad60543cf22b31206c3569e478e965a4fe276f4f362f9e57f");
    // Split data is hashed as its concatenation, and a second call with the cached tag agrees.
    expect(bytesToHex(taggedHash("BIP0340/challenge", seq.subarray(0, 5), seq.subarray(5)))).toBe("3808926260c3c44ad60543cf22b31206c3569e478e965a4fe276f4f362f9e57f");
    for (const tag of ["BIP0340/aux", "BIP0340/nonce", "TapLeaf", "bip324_ellswift_xonly_ecdh"]) {
      expect(bytesToHex(taggedHash(tag, seq))).toBe(bytesToHex(schnorr.utils.taggedHash(tag, seq)));
    }
  });

  test("BIP340 vectors: our challenge hash satisfies s·G = R + e·P for every valid signature", () => {
    const n = secp256k1.Point.CURVE().n;
    const rows = readSharedCsv("sv2", "vectors", "bip340_test_vectors.csv").filter((r) => r["verification result"] === "TRUE");
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const row of rows) {
      const pub = hexToBytes((row["public key"] ?? "").toLowerCase());
      const sig = hexToBytes((row["signature"] ?? "").toLowerCase());
      const msg = hexToBytes((row["message"] ?? "").toLowerCase());
      const r = sig.subarray(0, 32);
      const s = BigInt("0x" + bytesToHex(sig.subarray(32)));
      const e = BigInt("0x" + bytesToHex(taggedHash("BIP0340/challenge", r, pub, msg))) % n;
      const P = schnorr.utils.lift_x(BigInt("0x" + bytesToHex(pub)));
      const R = secp256k1.Point.BASE.multiply(s).subtract(P.multiply(e)).toAffine();
      expect(hex64(R.x)).toBe(bytesToHex(r));
      expect(R.y % 2n).toBe(0n);
    }
  });
});

describe("CompactSize", () => {
  test("canonical encodings at every width boundary", () => {
    const cases: [number, string][] = [
      [0, "00"],
      [0xfc, "fc"],
      [0xfd, "fdfd00"],
      [0xffff, "fdffff"],
      [0x10000, "fe00000100"],
      [0xffffffff, "feffffffff"],
      [0x100000000, "ff0000000001000000"],
      [Number.MAX_SAFE_INTEGER, "ffffffffffffff1f00"],
    ];
    for (const [n, hex] of cases) {
      expect(bytesToHex(encodeCompactSize(n))).toBe(hex);
      expect(compactSizeLength(n)).toBe(hex.length / 2);
      // Read back at a non-zero offset, with a trailing byte that must not be consumed.
      expect(readCompactSize(hexToBytes("aa" + hex + "bb"), 1)).toEqual({ value: n, size: hex.length / 2 });
    }
  });

  test("non-canonical (over-long) encodings are rejected like Core", () => {
    for (const hex of ["fd0000", "fdfc00", "fe00000000", "feffff0000", "ff0000000000000000", "ffffffffff00000000"]) {
      expect(thrown(() => readCompactSize(hexToBytes(hex), 0))).toBeInstanceOf(StratumV2Error);
    }
  });

  test("truncated and unsafe encodings are rejected", () => {
    for (const hex of ["", "fd", "fd00", "fe000001", "ff00000000000000"]) {
      expect(thrown(() => readCompactSize(hexToBytes(hex), 0))).toBeInstanceOf(StratumV2Error);
    }
    // 2^53 does not fit a safe integer.
    expect(thrown(() => readCompactSize(hexToBytes("ff0000000000002000"), 0))).toBeInstanceOf(StratumV2Error);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(thrown(() => encodeCompactSize(bad))).toBeInstanceOf(StratumV2Error);
  });
});

describe("nBits and targets", () => {
  test("0x1d00ffff is DIFF1_TARGET", () => {
    expect(nbitsToTarget(0x1d00ffff)).toBe(DIFF1_TARGET);
    expect(hex64(DIFF1_TARGET)).toBe("00000000ffff0000000000000000000000000000000000000000000000000000");
    expect(targetToNbits(DIFF1_TARGET)).toBe(0x1d00ffff);
  });

  // Bitcoin Core src/test/arith_uint256_tests.cpp (bignum_SetCompact): nBits → GetHex → GetCompact.
  const coreCompact: [number, string, number][] = [
    [0x00000000, "0", 0],
    [0x00123456, "0", 0],
    [0x01003456, "0", 0],
    [0x02000056, "0", 0],
    [0x03000000, "0", 0],
    [0x04000000, "0", 0],
    [0x03800000, "0", 0],
    [0x04800000, "0", 0],
    [0x01123456, "12", 0x01120000],
    [0x02123456, "1234", 0x02123400],
    [0x03123456, "123456", 0x03123456],
    [0x04123456, "12345600", 0x04123456],
    [0x05009234, "92340000", 0x05009234],
    [0x20123456, "1234560000000000000000000000000000000000000000000000000000000000", 0x20123456],
    [0x1b0404cb, "404cb000000000000000000000000000000000000000000000000", 0x1b0404cb],
    [0x207fffff, "7fffff0000000000000000000000000000000000000000000000000000000000", 0x207fffff],
  ];

  test("Core's SetCompact/GetCompact vectors", () => {
    for (const [bits, hex, compact] of coreCompact) {
      const target = nbitsToTarget(bits);
      expect({ bits, hex: target.toString(16) }).toEqual({ bits, hex });
      expect({ bits, compact: targetToNbits(target) }).toEqual({ bits, compact });
    }
  });

  // Core flags "negative" only when the mantissa left after the size shift is non-zero, so these
  // are a zero target, not an error (same test file, same expectations).
  test("sign bit with the mantissa shifted out is a zero target, as in Core (0x00923456, 0x01803456, 0x02800056)", () => {
    for (const bits of [0x00923456, 0x01803456, 0x02800056]) {
      const got = ((): string => {
        try {
          return nbitsToTarget(bits).toString(16);
        } catch (e) {
          return e instanceof Error ? `threw: ${e.message}` : "threw";
        }
      })();
      expect({ bits: bits.toString(16), got }).toEqual({ bits: bits.toString(16), got: "0" });
    }
  });

  test("canonical nBits round-trip, including the 0x00800000 sign-bit case", () => {
    for (const bits of [0x1d00ffff, 0x1b0404cb, 0x207fffff, 0x03123456, 0x05009234, 0x1e0377ae, 0x170ed0eb, 0x2100ffff, 0x02008000]) {
      expect(targetToNbits(nbitsToTarget(bits))).toBe(bits);
    }
    // A mantissa that would set the sign bit moves one byte up (Core: 0x80 → 0x02008000).
    expect(targetToNbits(0x80n)).toBe(0x02008000);
    expect(targetToNbits(0x800000n)).toBe(0x04008000);
    expect(targetToNbits(0x92340000n)).toBe(0x05009234);
    // GetCompact drops the low bits.
    expect(targetToNbits(DIFF1_TARGET + 1n)).toBe(0x1d00ffff);
    expect(targetToNbits(MAX_TARGET)).toBe(0x2100ffff);
    expect(nbitsToTarget(0x2100ffff)).toBe(0xffffn << 240n);
  });

  test("negative and overflowing nBits are rejected", () => {
    // Negative per Core: the sign bit with a non-zero (shifted) mantissa.
    for (const bits of [0x04923456, 0x01fedcba, 0x1d80ffff]) expect(thrown(() => nbitsToTarget(bits))).toBeInstanceOf(StratumV2Error);
    // Overflow: Core's fOverflow cases (more than 256 bits).
    for (const bits of [0xff123456, 0x23000001, 0x22000100, 0x21010000]) expect(thrown(() => nbitsToTarget(bits))).toBeInstanceOf(StratumV2Error);
    // The largest encodings that still fit are accepted.
    expect(nbitsToTarget(0x22000001)).toBe(1n << 248n);
    expect(nbitsToTarget(0x210000ff)).toBe(0xffn << 240n);
    expect(thrown(() => targetToNbits(-1n))).toBeInstanceOf(StratumV2Error);
    expect(thrown(() => targetToNbits(MAX_TARGET + 1n))).toBeInstanceOf(StratumV2Error);
  });

  test("difficulty ↔ target known values (exact, from Python fractions)", () => {
    expect(difficultyToTarget(1)).toBe(DIFF1_TARGET);
    expect(targetToDifficulty(DIFF1_TARGET)).toBe(1);
    expect(hex64(difficultyToTarget(1e12))).toBe("00000000000000000119787e99468e32f6e0e71cef78ee034b5f8a0944d68076");
    expect(targetToDifficulty(difficultyToTarget(1e12))).toBe(1e12);
    // 0.0001 is not a binary fraction: the target is floor(DIFF1 / the double's exact value).
    expect(hex64(difficultyToTarget(0.0001))).toBe("0000270fd8efffffff791d46e3400001d1c6e73746fff9b79d29951ed415b1f5");
    expect(targetToDifficulty(difficultyToTarget(0.0001))).toBe(9.999999999999999e-5);
    // Fractional difficulties are exact.
    expect(difficultyToTarget(0.5)).toBe(DIFF1_TARGET * 2n);
    expect(difficultyToTarget(0.25)).toBe(DIFF1_TARGET * 4n);
    expect(difficultyToTarget(1.5)).toBe((DIFF1_TARGET * 2n) / 3n);
    expect(hex64(difficultyToTarget(1.5))).toBe("00000000aaaa0000000000000000000000000000000000000000000000000000");
    expect(hex64(difficultyToTarget(3.3))).toBe("000000004d931745d1745e442b04efc794d27cc5e49a4bf3ac8ea27e7583b128");
    expect(hex64(difficultyToTarget(65535.5))).toBe("000000000000ffff7fffbfffdfffeffff7fffbfffdfffeffff7fffbfffdfffef");
    for (const d of [0.5, 1.5, 3.3, 65535.5, 2 ** -32]) expect(targetToDifficulty(difficultyToTarget(d))).toBe(d);
    // 2^-32 is the smallest difficulty with a target below 2^256; anything easier saturates.
    expect(difficultyToTarget(2 ** -32)).toBe(0xffffn << 240n);
    expect(difficultyToTarget(2 ** -33)).toBe(MAX_TARGET);
    expect(difficultyToTarget(1e-300)).toBe(MAX_TARGET);
    expect(difficultyToTarget(Number.MIN_VALUE)).toBe(MAX_TARGET);
    expect(targetToDifficulty(MAX_TARGET)).toBe(2.3282709094019083e-10);
    expect(targetToDifficulty(0n)).toBe(Number.POSITIVE_INFINITY);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(thrown(() => difficultyToTarget(bad))).toBeInstanceOf(StratumV2Error);
  });

  test("hashDifficulty and hashToBigInt", () => {
    // Block 100000's hash (display order) achieved difficulty 17583.056276040857.
    const h = displayHexToInternal("000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506");
    expect(hashToBigInt(h)).toBe(0x3ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506n);
    // Computed in doubles: equal to the exact quotient within a few ulps.
    expect(Math.abs(hashDifficulty(h) / 17583.056276040857 - 1)).toBeLessThan(1e-15);
    expect(hashDifficulty(targetToLeBytes(DIFF1_TARGET))).toBe(1);
    expect(hashDifficulty(targetToLeBytes(DIFF1_TARGET / 2n))).toBe(2);
    // The zero hash counts as 1 (no division by zero).
    expect(hashDifficulty(new Uint8Array(32))).toBe(targetToDifficulty(1n));
  });

  test("hashMeetsTarget is int_le(hash) <= target", () => {
    const target = 0x00000000ffff0000000000000000000000000000000000000000000000001234n;
    const le = targetToLeBytes(target);
    expect(bytesToHex(le)).toBe("3412" + "00".repeat(24) + "ffff" + "00000000");
    expect(leBytesToTarget(le)).toBe(target);
    expect(hashMeetsTarget(targetToLeBytes(target), le)).toBe(true);
    expect(hashMeetsTarget(targetToLeBytes(target - 1n), le)).toBe(true);
    expect(hashMeetsTarget(targetToLeBytes(target + 1n), le)).toBe(false);
    // Differences in the most significant byte decide even when the low bytes say otherwise.
    expect(hashMeetsTarget(targetToLeBytes(1n << 240n), targetToLeBytes((1n << 240n) - 1n))).toBe(false);
    expect(hashMeetsTarget(new Uint8Array(32), targetToLeBytes(0n))).toBe(true);
    expect(thrown(() => leBytesToTarget(new Uint8Array(31)))).toBeInstanceOf(StratumV2Error);
    expect(thrown(() => targetToLeBytes(MAX_TARGET + 1n))).toBeInstanceOf(StratumV2Error);
  });

  test("hashrateToTarget: SRI's (2^256 - h·s) / (h·s + 1)", () => {
    expect(hashrateToTarget(1, 1)).toBe(((1n << 256n) - 60n) / 61n);
    expect(hashrateToTarget(1000, 1)).toBe(((1n << 256n) - 60000n) / 60001n);
    expect(hashrateToTarget(1e12, 6)).toBe(((1n << 256n) - 10n ** 13n) / (10n ** 13n + 1n));
    expect(hashrateToTarget(0, 1)).toBe(MAX_TARGET);
    expect(hashrateToTarget(1, 0)).toBe(MAX_TARGET);
    expect(hashrateToTarget(Number.NaN, 1)).toBe(MAX_TARGET);
    expect(targetToExpectedHashes(MAX_TARGET)).toBe(1);
    expect(targetToExpectedHashes(DIFF1_TARGET)).toBe(4295032833);
  });
});

describe("script pushes and BIP34", () => {
  // Bitcoin Core's CScript() << height: OP_0, OP_1..OP_16, otherwise a minimal CScriptNum push.
  const heights: [number, string][] = [
    [0, "00"],
    [1, "51"],
    [16, "60"],
    [17, "0111"],
    [127, "017f"],
    [128, "028000"],
    [255, "02ff00"],
    [256, "020001"],
    [32767, "02ff7f"],
    [32768, "03008000"],
    [65535, "03ffff00"],
    [8388607, "03ffff7f"],
    [8388608, "0400008000"],
    [227931, "035b7a03"],
    [840000, "0340d10c"],
    [2147483647, "04ffffff7f"],
    [2147483648, "050000008000"],
  ];

  test("bip34HeightScript matches Core's CScript() << height and bitcoinjs-lib", () => {
    for (const [height, hex] of heights) {
      expect({ height, hex: bytesToHex(bip34HeightScript(height)) }).toEqual({ height, hex });
      // bitcoinjs compiles a 1-byte 1..16 push to OP_N and an empty push to OP_0, like Core.
      const js = bscript.compile([bscript.number.encode(height)]);
      expect(bytesToHex(js)).toBe(hex);
    }
    for (const bad of [-1, 1.5, Number.NaN]) expect(thrown(() => bip34HeightScript(bad))).toBeInstanceOf(StratumV2Error);
  });

  test("parseBip34Height inverts bip34HeightScript, with trailing script data", () => {
    for (const [height] of heights) {
      expect(parseBip34Height(bip34HeightScript(height))).toBe(height);
      expect(parseBip34Height(concatBytes(bip34HeightScript(height), hexToBytes("0c0102030405060708090a0b0c")))).toBe(height);
    }
    expect(parseBip34Height(new Uint8Array(0))).toBeNull();
    expect(parseBip34Height(Uint8Array.of(0x4f))).toBeNull(); // OP_1NEGATE
    expect(parseBip34Height(Uint8Array.of(0x03, 0x01, 0x02))).toBeNull(); // truncated push
    expect(parseBip34Height(Uint8Array.of(0x01, 0x81))).toBeNull(); // -1 as CScriptNum
    expect(parseBip34Height(Uint8Array.of(0x4c, 0x01, 0x05))).toBeNull(); // not a direct push
  });

  test("scriptNum is CScriptNum's minimal sign-magnitude encoding", () => {
    const cases: [number, string][] = [
      [0, ""],
      [1, "01"],
      [-1, "81"],
      [127, "7f"],
      [128, "8000"],
      [-128, "8080"],
      [255, "ff00"],
      [-255, "ff80"],
      [256, "0001"],
      [-32768, "008080"],
    ];
    for (const [n, hex] of cases) {
      expect(bytesToHex(scriptNum(n))).toBe(hex);
      expect(bytesToHex(scriptNum(n))).toBe(bytesToHex(bscript.number.encode(n)));
    }
  });

  test("pushData uses the smallest push opcode for lengths 0, 75, 76, 255, 256, 65535, 65536", () => {
    const cases: [number, string][] = [
      [0, "00"],
      [1, "01"],
      [75, "4b"],
      [76, "4c4c"],
      [255, "4cff"],
      [256, "4d0001"],
      [65535, "4dffff"],
      [65536, "4e00000100"],
    ];
    for (const [n, head] of cases) {
      const data = new Uint8Array(n).fill(0xab);
      const out = pushData(data);
      expect(bytesToHex(out.subarray(0, head.length / 2))).toBe(head);
      expect(out.length).toBe(head.length / 2 + n);
      expect(equalBytes(out.subarray(head.length / 2), data)).toBe(true);
      // Data that is not a small number compiles to the same bytes in bitcoinjs.
      if (n > 1) expect(bytesToHex(bscript.compile([Buffer.from(data)]))).toBe(bytesToHex(out));
    }
  });
});

describe("merkle trees", () => {
  // Leaves sha256(0x00), sha256(0x01), ...; roots computed with Python hashlib.
  const leaves = [0, 1, 2, 3, 4].map((i) => sha256(Uint8Array.of(i)));
  const roots: [number, string][] = [
    [1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    [2, "f0a886c2f0065f43c82d12b561b45f1a963917248c538474aaad05440a48df3c"],
    [3, "50fde71c451737ad83c79d791dfda614eeed7e4440971b7a92691919a06ba52b"],
    [5, "f570734e3e3e401dad09b8f51499dfb2f631c803b88487ef65b88baa069430d0"],
  ];

  test("merkleRoot of 1, 2, 3 and 5 leaves", () => {
    for (const [n, hex] of roots) {
      const input = leaves.slice(0, n);
      const before = input.map((l) => bytesToHex(l));
      expect({ n, root: bytesToHex(merkleRoot(input)) }).toEqual({ n, root: hex });
      expect(input.map((l) => bytesToHex(l))).toEqual(before);
    }
    expect(bytesToHex(merkleRoot([]))).toBe("00".repeat(32));
    // One leaf: the root is a copy, not the same array.
    const one = merkleRoot([leaves[0] as Uint8Array]);
    expect(one).not.toBe(leaves[0] as Uint8Array);
  });

  test("coinbaseMerklePath folds back to the same roots", () => {
    for (const [n, hex] of roots) {
      const path = coinbaseMerklePath(leaves.slice(1, n));
      expect(path.length).toBe(Math.ceil(Math.log2(n)));
      expect(bytesToHex(merkleRootFromPath(leaves[0] as Uint8Array, path))).toBe(hex);
    }
    // Two leaves: the path is the sibling itself.
    expect(coinbaseMerklePath([leaves[1] as Uint8Array]).map((p) => bytesToHex(p))).toEqual([bytesToHex(leaves[1] as Uint8Array)]);
    // Three leaves: sibling, then the last leaf paired with itself.
    const l2 = leaves[2] as Uint8Array;
    expect(coinbaseMerklePath(leaves.slice(1, 3)).map((p) => bytesToHex(p))).toEqual([bytesToHex(leaves[1] as Uint8Array), bytesToHex(sha256d(concatBytes(l2, l2)))]);
    expect(coinbaseMerklePath([])).toEqual([]);
    const leaf = leaves[0] as Uint8Array;
    const rootNoPath = merkleRootFromPath(leaf, []);
    expect(bytesToHex(rootNoPath)).toBe(bytesToHex(leaf));
    expect(rootNoPath).not.toBe(leaf);
  });

  test("random trees of 1..40 leaves: path and root agree", () => {
    const many = Array.from({ length: 40 }, (_, i) => sha256d(u32le(i)));
    for (let n = 1; n <= many.length; n++) {
      const root = merkleRoot(many.slice(0, n));
      expect(bytesToHex(merkleRootFromPath(many[0] as Uint8Array, coinbaseMerklePath(many.slice(1, n))))).toBe(bytesToHex(root));
    }
  });
});

describe("header", () => {
  const genesisHex =
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

  test("parse/serialize the genesis header", () => {
    const bytes = hexToBytes(genesisHex);
    const h = parseHeader(bytes);
    expect(h.version).toBe(1);
    expect(h.time).toBe(1231006505);
    expect(h.bits).toBe(0x1d00ffff);
    expect(h.nonce).toBe(2083236893);
    expect(internalToDisplayHex(h.merkleRoot)).toBe("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
    expect(bytesToHex(serializeHeader(h))).toBe(genesisHex);
    expect(internalToDisplayHex(headerHash(h))).toBe("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    expect(HEADER_SIZE).toBe(80);
    expect(thrown(() => parseHeader(bytes.subarray(0, 79)))).toBeInstanceOf(StratumV2Error);
    expect(thrown(() => serializeHeader({ ...h, prevHash: new Uint8Array(31) }))).toBeInstanceOf(StratumV2Error);
  });

  test("negative and high-bit versions survive a round trip", () => {
    const base = parseHeader(hexToBytes(genesisHex));
    for (const version of [-1, 0x3fffe004, 0x20000000 | 0x1fffe000, -2147483648]) {
      const h = { ...base, version };
      expect(parseHeader(serializeHeader(h)).version).toBe(version | 0);
    }
    const h = { ...base, time: 0xffffffff, nonce: 0xffffffff, bits: 0xffffffff };
    const back = parseHeader(serializeHeader(h));
    expect([back.time, back.nonce, back.bits]).toEqual([0xffffffff, 0xffffffff, 0xffffffff]);
  });

  test("HeaderHasher setters equal a freshly serialized header", () => {
    const base = parseHeader(hexToBytes(genesisHex));
    const hasher = new HeaderHasher();
    hasher.load(base);
    expect(bytesToHex(hasher.hash())).toBe(bytesToHex(headerHash(base)));
    const root = sha256d(Uint8Array.of(7));
    hasher.setVersion(0x283ac000);
    hasher.setMerkleRoot(root);
    hasher.setTime(1700000000);
    hasher.setNonce(0xdeadbeef);
    const expected = headerHash({ ...base, version: 0x283ac000, merkleRoot: root, time: 1700000000, nonce: 0xdeadbeef });
    expect(bytesToHex(hasher.hash())).toBe(bytesToHex(expected));
  });
});

interface GbtTx {
  data: string;
  txid: string;
  hash: string;
}

describe("transactions", () => {
  const segwitTx = readSharedJson<{ transactions: GbtTx[] }>("bitcoin", "gbt", "regtest-ckpool", "two-txns", "gbt.json").transactions[0] as GbtTx;
  const block170 = parseBlock(hexToBytes(readSharedText("bitcoin", "blocks", "170.hex")));
  const legacyBytes = serializeTransaction(block170.transactions[1] as (typeof block170.transactions)[number]);

  test("segwit and legacy transactions parse and round-trip", () => {
    const segwit = parseTransaction(hexToBytes(segwitTx.data));
    expect(internalToDisplayHex(txid(segwit))).toBe(segwitTx.txid);
    expect(internalToDisplayHex(wtxid(segwit))).toBe(segwitTx.hash);
    expect(bytesToHex(serializeTransaction(segwit))).toBe(segwitTx.data);
    expect(segwit.inputs[0]?.witness.length).toBe(2);
    const legacy = parseTransaction(legacyBytes);
    // The first bitcoin transaction (Satoshi to Hal Finney).
    expect(internalToDisplayHex(txid(legacy))).toBe("f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16");
    expect(bytesToHex(wtxid(legacy))).toBe(bytesToHex(txid(legacy)));
    expect(legacy.outputs.map((o) => o.value)).toEqual([1000000000n, 4000000000n]);
  });

  test("every truncation of a real tx is rejected with StratumV2Error only", () => {
    for (const full of [hexToBytes(segwitTx.data), legacyBytes]) {
      const wrong: string[] = [];
      for (let cut = 0; cut < full.length; cut++) {
        const e = thrown(() => parseTransaction(full.subarray(0, cut)));
        if (!(e instanceof StratumV2Error) || e.kind !== "ProtocolError") wrong.push(`${cut}: ${String(e)}`);
      }
      expect(wrong).toEqual([]);
      // A trailing byte is an error too.
      expect(thrown(() => parseTransaction(concatBytes(full, Uint8Array.of(0))))).toBeInstanceOf(StratumV2Error);
    }
  });

  test("malformed segwit markers and absurd counts are rejected", () => {
    const data = hexToBytes(segwitTx.data);
    const badFlag = data.slice();
    badFlag[5] = 2;
    expect(thrown(() => parseTransaction(badFlag))).toBeInstanceOf(StratumV2Error);
    // Marker + flag with all-empty witnesses: Core's "superfluous witness record".
    const legacy = parseTransaction(legacyBytes);
    const noWitness = concatBytes(legacyBytes.subarray(0, 4), Uint8Array.of(0, 1), legacyBytes.subarray(4, legacyBytes.length - 4), Uint8Array.of(0), legacyBytes.subarray(legacyBytes.length - 4));
    expect(legacy.inputs.length).toBe(1);
    expect(thrown(() => parseTransaction(noWitness))).toBeInstanceOf(StratumV2Error);
    // A huge input count must fail fast, not allocate.
    expect(thrown(() => parseTransaction(hexToBytes("01000000feffffff0f00")))).toBeInstanceOf(StratumV2Error);
  });
});

describe("block subsidy", () => {
  test("mainnet schedule (interval 210000, zero after 64 halvings)", () => {
    const interval = NETWORKS.mainnet.halvingInterval;
    expect(interval).toBe(210000);
    expect(blockSubsidy(0, interval)).toBe(50n * COIN);
    expect(blockSubsidy(209999, interval)).toBe(5000000000n);
    expect(blockSubsidy(210000, interval)).toBe(2500000000n);
    expect(blockSubsidy(420000, interval)).toBe(1250000000n);
    expect(blockSubsidy(840000, interval)).toBe(312500000n);
    expect(blockSubsidy(6929999, interval)).toBe(1n); // era 32
    expect(blockSubsidy(6930000, interval)).toBe(0n); // 50 BTC >> 33
    expect(blockSubsidy(13439999, interval)).toBe(0n);
    expect(blockSubsidy(13440000, interval)).toBe(0n); // 64 halvings: no shift by 64
    expect(blockSubsidy(100_000_000, interval)).toBe(0n);
  });

  test("regtest schedule (interval 150)", () => {
    const interval = NETWORKS.regtest.halvingInterval;
    expect(interval).toBe(150);
    expect(blockSubsidy(0, interval)).toBe(5000000000n);
    expect(blockSubsidy(149, interval)).toBe(5000000000n);
    expect(blockSubsidy(150, interval)).toBe(2500000000n);
    expect(blockSubsidy(503, interval)).toBe(625000000n);
    expect(blockSubsidy(150 * 64, interval)).toBe(0n);
  });
});
