// Authority key strings (authority_keys.json), BIP340 (bip340_test_vectors.csv, the signature
// scheme of certificates) and certificate verification rules.
import { describe, expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { schnorrPublicKey, schnorrSign } from "../../src/noise/schnorr.ts";
import { useEcWasm } from "../../src/noise/wasm/secp256k1.ts";
import { useNativeSecp256k1 } from "../../src/noise/native/secp256k1.ts";
import { readSharedCsv, readSharedJson } from "../helpers/shared.ts";
import {
  KeyDecodeError,
  authorityPublicKey,
  decodeAuthorityPublicKey,
  decodeSecretKey,
  encodeAuthorityPublicKey,
  encodeSecretKey,
  generateAuthorityKeyPair,
} from "../../src/noise/keys.ts";
import type { KeyDecodeFailure } from "../../src/noise/keys.ts";
import {
  DEFAULT_CERTIFICATE_POLICY,
  certificateNeedsRenewal,
  certificateRenewalTime,
  certificateWindow,
  decodeCertificate,
  encodeCertificate,
  signCertificate,
  verifyCertificate,
} from "../../src/noise/certificate.ts";
import { CertificateError } from "../../src/noise/errors.ts";
import { seededRandom } from "./helpers.ts";

interface AuthorityKeyRow {
  name: string;
  xonly_pubkey_hex?: string;
  payload_hex?: string;
  base58check?: string;
  secret_key_base58check?: string;
  secret_key_hex?: string;
  public_key_base58check?: string;
  public_key_payload_hex?: string;
  must_be_rejected_because?: string;
}

const rows = readSharedJson<AuthorityKeyRow[]>("sv2", "vectors", "authority_keys.json");

function decodeFailure(text: string): KeyDecodeFailure | "accepted" {
  try {
    decodeAuthorityPublicKey(text);
    return "accepted";
  } catch (e) {
    if (e instanceof KeyDecodeError) return e.reason;
    throw e;
  }
}

describe("authority key encodings (authority_keys.json)", () => {
  test("spec §4.7.1 vector both ways", () => {
    const row = rows.find((r) => r.name === "spec_4_7_1_authority_pubkey") as AuthorityKeyRow;
    expect(encodeAuthorityPublicKey(hexToBytes(row.xonly_pubkey_hex as string))).toBe(row.base58check as string);
    expect(bytesToHex(decodeAuthorityPublicKey(row.base58check as string))).toBe(row.xonly_pubkey_hex as string);
  });

  for (const row of rows.filter((r) => r.secret_key_base58check !== undefined)) {
    test(`${row.name}: secret string ↔ secret, secret → x-only, x-only ↔ public string`, () => {
      const secret = decodeSecretKey(row.secret_key_base58check as string);
      expect(bytesToHex(secret)).toBe(row.secret_key_hex as string);
      expect(encodeSecretKey(secret)).toBe(row.secret_key_base58check as string);
      const xonly = authorityPublicKey(secret);
      expect(bytesToHex(xonly)).toBe(row.xonly_pubkey_hex as string);
      expect(encodeAuthorityPublicKey(xonly)).toBe(row.public_key_base58check as string);
      expect(bytesToHex(decodeAuthorityPublicKey(row.public_key_base58check as string))).toBe(row.xonly_pubkey_hex as string);
      expect(`0100${row.xonly_pubkey_hex}`).toBe(row.public_key_payload_hex as string);
    });
  }

  const expectedReason: Record<string, KeyDecodeFailure> = {
    "bad checksum": "bad-checksum",
    "version prefix != [1,0] (version 12)": "wrong-version",
    "payload too short (33 bytes)": "bad-length",
  };
  const invalid = rows.filter((r) => r.must_be_rejected_because !== undefined);
  test("the file lists three invalid public keys", () => {
    expect(invalid.length).toBe(3);
  });
  for (const row of invalid) {
    test(`rejects ${row.public_key_base58check}: ${row.must_be_rejected_because}`, () => {
      expect(decodeFailure(row.public_key_base58check as string)).toBe(expectedReason[row.must_be_rejected_because as string] as KeyDecodeFailure);
    });
  }

  test("other malformed strings: not base58, truncated, secret with a public-key string", () => {
    expect(decodeFailure("0OIl")).toBe("not-base58");
    expect(decodeFailure("9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRX")).toBe("bad-checksum");
    expect(() => decodeSecretKey("9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh")).toThrow(KeyDecodeError);
    const err = (() => {
      try {
        decodeAuthorityPublicKey("9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXi");
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(err instanceof KeyDecodeError && err.kind === "ConfigError" && err.code === "invalid-key").toBe(true);
  });

  test("a valid checksum over an x that is not on the curve is refused", () => {
    const notOnCurve = new Uint8Array(32);
    notOnCurve[31] = 5; // 5³ + 7 = 132 is not a square mod p
    expect(decodeFailure(encodeAuthorityPublicKey(notOnCurve))).toBe("not-on-curve");
  });

  test("generated key pairs round-trip through both string forms", () => {
    const rng = seededRandom(21);
    for (let i = 0; i < 5; i++) {
      const pair = generateAuthorityKeyPair(rng);
      const pub = encodeAuthorityPublicKey(pair.xonly);
      expect(pub.length).toBe(51);
      expect(pub.startsWith("9")).toBe(true);
      expect(bytesToHex(decodeAuthorityPublicKey(pub))).toBe(bytesToHex(pair.xonly));
      expect(bytesToHex(decodeSecretKey(encodeSecretKey(pair.secret)))).toBe(bytesToHex(pair.secret));
    }
  });
});

describe("BIP340 (bip340_test_vectors.csv)", () => {
  const vectors = readSharedCsv("sv2", "vectors", "bip340_test_vectors.csv");
  test("the file has its 19 rows", () => {
    expect(vectors.length).toBe(19);
  });
  for (const row of vectors) {
    const secret = row["secret key"] as string;
    test(`row ${row.index}: ${secret ? "sign and " : ""}verify → ${row["verification result"]} ${row.comment ?? ""}`, () => {
      const message = hexToBytes(row.message as string);
      const signature = hexToBytes(row.signature as string);
      const publicKey = hexToBytes(row["public key"] as string);
      if (secret) {
        expect(bytesToHex(schnorr.getPublicKey(hexToBytes(secret))).toUpperCase()).toBe(row["public key"] as string);
        const produced = schnorr.sign(message, hexToBytes(secret), hexToBytes(row.aux_rand as string));
        expect(bytesToHex(produced).toUpperCase()).toBe(row.signature as string);
        // The pool's own signer (src/noise/schnorr.ts), through every arithmetic path (the x-only key
        // goes through libsecp256k1 when it is installed).
        for (const [native, wasm] of [[true, true], [false, true], [false, false]] as const) {
          useNativeSecp256k1(native);
          useEcWasm(wasm);
          try {
            expect(bytesToHex(schnorrPublicKey(hexToBytes(secret))).toUpperCase()).toBe(row["public key"] as string);
            const own = schnorrSign(message, hexToBytes(secret), hexToBytes(row.aux_rand as string));
            expect(bytesToHex(own).toUpperCase()).toBe(row.signature as string);
          } finally {
            useEcWasm(true);
            useNativeSecp256k1(true);
          }
        }
      }
      expect(schnorr.verify(signature, message, publicKey)).toBe(row["verification result"] === "TRUE");
    });
  }
});

describe("own BIP340 signer", () => {
  test("signatures of random keys over random messages verify with @noble/curves (odd and even y for P and R)", () => {
    const rng = seededRandom(77);
    let oddP = 0;
    for (let i = 0; i < 60; i++) {
      const secret = generateAuthorityKeyPair(rng).secret;
      const message = rng(i % 3 === 0 ? 0 : 32 + (i % 5));
      const sig = schnorrSign(message, secret, rng(32));
      expect(schnorr.verify(sig, message, schnorrPublicKey(secret))).toBe(true);
      expect(bytesToHex(schnorrPublicKey(secret))).toBe(bytesToHex(schnorr.getPublicKey(secret)));
      if ((secp256k1.Point.BASE.multiply(BigInt(`0x${bytesToHex(secret)}`)).toAffine().y & 1n) === 1n) oddP++;
    }
    expect(oddP).toBeGreaterThan(10);
    expect(oddP).toBeLessThan(50);
  });

  test("refuses a zero or out-of-range secret and a wrong-length aux_rand", () => {
    expect(() => schnorrSign(new Uint8Array(32), new Uint8Array(32), new Uint8Array(32))).toThrow(RangeError);
    expect(() => schnorrSign(new Uint8Array(32), new Uint8Array(32).fill(0xff), new Uint8Array(32))).toThrow(RangeError);
    const secret = new Uint8Array(32);
    secret[31] = 1;
    expect(() => schnorrSign(new Uint8Array(32), secret, new Uint8Array(31))).toThrow(RangeError);
  });
});

describe("certificates", () => {
  const rng = seededRandom(99);
  const authority = generateAuthorityKeyPair(rng);
  const other = generateAuthorityKeyPair(rng);
  const staticXonly = generateAuthorityKeyPair(rng).xonly;
  const cert = signCertificate({ authoritySecret: authority.secret, staticXonly, validFrom: 1_000_000, notValidAfter: 1_003_600, auxRand: new Uint8Array(32) });

  test("encode/decode round trip is 74 bytes", () => {
    const bytes = encodeCertificate(cert);
    expect(bytes.length).toBe(74);
    const back = decodeCertificate(bytes);
    expect(back.version).toBe(0);
    expect(back.validFrom).toBe(1_000_000);
    expect(back.notValidAfter).toBe(1_003_600);
    expect(bytesToHex(back.signature)).toBe(bytesToHex(cert.signature));
    expect(() => decodeCertificate(bytes.subarray(0, 73))).toThrow(CertificateError);
  });

  test("valid inside the window and within the 10 s leeway on both ends", () => {
    expect(verifyCertificate(cert, staticXonly, authority.xonly, 1_000_000)).toEqual({ ok: true });
    expect(verifyCertificate(cert, staticXonly, authority.xonly, 999_990)).toEqual({ ok: true });
    expect(verifyCertificate(cert, staticXonly, authority.xonly, 1_003_610)).toEqual({ ok: true });
  });

  test("refusals name their reason", () => {
    const reason = (v: ReturnType<typeof verifyCertificate>): string => (v.ok ? "ok" : v.reason);
    expect(reason(verifyCertificate(cert, staticXonly, other.xonly, 1_000_100))).toBe("wrong-authority");
    expect(reason(verifyCertificate(cert, other.xonly, authority.xonly, 1_000_100))).toBe("wrong-authority");
    expect(reason(verifyCertificate(cert, staticXonly, authority.xonly, 999_989))).toBe("not-yet-valid");
    expect(reason(verifyCertificate(cert, staticXonly, authority.xonly, 1_003_611))).toBe("expired");
    expect(reason(verifyCertificate(cert, staticXonly, authority.xonly, 1_003_700, 100))).toBe("ok");
    expect(reason(verifyCertificate(cert, staticXonly, authority.xonly, 1_003_601, 0))).toBe("expired");
    const v1 = signCertificate({ authoritySecret: authority.secret, staticXonly, validFrom: 1_000_000, notValidAfter: 1_003_600, version: 1 });
    expect(reason(verifyCertificate(v1, staticXonly, authority.xonly, 1_000_100))).toBe("unsupported-version");
    const tampered = { ...cert, notValidAfter: cert.notValidAfter + 1 };
    expect(reason(verifyCertificate(tampered, staticXonly, authority.xonly, 1_000_100))).toBe("wrong-authority");
  });

  test("window and renewal: backdated, saturated to u32, renewed before expiry", () => {
    expect(certificateWindow(1_700_000_000)).toEqual({ validFrom: 1_699_996_400, notValidAfter: 1_700_086_400 });
    expect(certificateWindow(0xffffffff - 10)).toEqual({ validFrom: 0xffffffff - 10 - 3600, notValidAfter: 0xffffffff });
    expect(certificateWindow(100)).toEqual({ validFrom: 0, notValidAfter: 86_500 });
    const w = certificateWindow(1_700_000_000);
    const c = { ...cert, ...w };
    expect(certificateRenewalTime(c)).toBe(1_700_086_400 - DEFAULT_CERTIFICATE_POLICY.renewBeforeSec);
    expect(certificateNeedsRenewal(c, 1_700_064_799)).toBe(false);
    expect(certificateNeedsRenewal(c, 1_700_064_800)).toBe(true);
  });
});
