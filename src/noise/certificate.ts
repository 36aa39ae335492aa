/**
 * The responder's certificate, SIGNATURE_NOISE_MESSAGE (74 bytes, sent encrypted in act 2):
 *   U16 version | U32 valid_from | U32 not_valid_after | 64-byte BIP340 signature
 * signed by the pool's authority key over
 *   SHA256( version_u16le ‖ valid_from_u32le ‖ not_valid_after_u32le ‖ xonly(responder static) ).
 * The authority key itself never travels: miners know it from the pool URL.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { schnorr } from "@noble/curves/secp256k1.js";
import { CertificateError } from "./errors.ts";
import { schnorrSign } from "./schnorr.ts";
import { defaultRandom } from "./ellswift.ts";
import type { CertificateFailure } from "./errors.ts";

export const SIGNATURE_NOISE_MESSAGE_LENGTH = 74;
export const CERTIFICATE_VERSION = 0;
/** SRI's initiator tolerance on both ends of the validity window. */
export const DEFAULT_CERTIFICATE_LEEWAY_SEC = 10;
const U32_MAX = 0xffffffff;

export interface SignatureNoiseMessage {
  readonly version: number;
  /** Unix seconds. */
  readonly validFrom: number;
  /** Unix seconds. */
  readonly notValidAfter: number;
  /** 64-byte BIP340 signature. */
  readonly signature: Uint8Array;
}

export type CertificateVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: CertificateFailure; readonly message: string };

function checkU32(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new RangeError(`${name} must be a u32, got ${value}`);
}

function writeValidity(out: Uint8Array, version: number, validFrom: number, notValidAfter: number): void {
  if (!Number.isInteger(version) || version < 0 || version > 0xffff) throw new RangeError(`version must be a u16, got ${version}`);
  checkU32(validFrom, "valid_from");
  checkU32(notValidAfter, "not_valid_after");
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint16(0, version, true);
  view.setUint32(2, validFrom, true);
  view.setUint32(6, notValidAfter, true);
}

/** The 42 signed bytes (before hashing): version ‖ valid_from ‖ not_valid_after ‖ static x-only key. */
export function certificateSignedBytes(version: number, validFrom: number, notValidAfter: number, staticXonly: Uint8Array): Uint8Array {
  if (staticXonly.length !== 32) throw new RangeError("static x-only key must be 32 bytes");
  const bytes = new Uint8Array(42);
  writeValidity(bytes, version, validFrom, notValidAfter);
  bytes.set(staticXonly, 10);
  return bytes;
}

/** The 32-byte BIP340 message: SHA256 of the signed bytes. */
export function certificateMessageHash(version: number, validFrom: number, notValidAfter: number, staticXonly: Uint8Array): Uint8Array {
  return sha256(certificateSignedBytes(version, validFrom, notValidAfter, staticXonly));
}

export function encodeCertificate(cert: SignatureNoiseMessage): Uint8Array {
  if (cert.signature.length !== 64) throw new RangeError("certificate signature must be 64 bytes");
  const out = new Uint8Array(SIGNATURE_NOISE_MESSAGE_LENGTH);
  writeValidity(out, cert.version, cert.validFrom, cert.notValidAfter);
  out.set(cert.signature, 10);
  return out;
}

export function decodeCertificate(bytes: Uint8Array): SignatureNoiseMessage {
  if (bytes.length !== SIGNATURE_NOISE_MESSAGE_LENGTH) {
    throw new CertificateError("malformed", `certificate is ${bytes.length} bytes, expected ${SIGNATURE_NOISE_MESSAGE_LENGTH}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: view.getUint16(0, true),
    validFrom: view.getUint32(2, true),
    notValidAfter: view.getUint32(6, true),
    signature: bytes.slice(10, 74),
  };
}

export interface SignCertificateOptions {
  readonly authoritySecret: Uint8Array;
  readonly staticXonly: Uint8Array;
  readonly validFrom: number;
  readonly notValidAfter: number;
  readonly version?: number;
  /** BIP340 auxiliary randomness (32 bytes); random when omitted. */
  readonly auxRand?: Uint8Array;
}

export function signCertificate(opts: SignCertificateOptions): SignatureNoiseMessage {
  const version = opts.version ?? CERTIFICATE_VERSION;
  const msg = certificateMessageHash(version, opts.validFrom, opts.notValidAfter, opts.staticXonly);
  const signature = schnorrSign(msg, opts.authoritySecret, opts.auxRand ?? defaultRandom(32));
  return { version, validFrom: opts.validFrom, notValidAfter: opts.notValidAfter, signature };
}

/**
 * Checks signature, version and validity window. The window is widened by `leewaySec` on both
 * sides (SRI uses 10 s) because miners' clocks drift.
 */
export function verifyCertificate(
  cert: SignatureNoiseMessage,
  staticXonly: Uint8Array,
  authorityXonly: Uint8Array,
  nowSec: number,
  leewaySec: number = DEFAULT_CERTIFICATE_LEEWAY_SEC,
): CertificateVerdict {
  if (cert.version !== CERTIFICATE_VERSION) {
    return { ok: false, reason: "unsupported-version", message: `certificate version ${cert.version} is not supported (expected ${CERTIFICATE_VERSION})` };
  }
  const msg = certificateMessageHash(cert.version, cert.validFrom, cert.notValidAfter, staticXonly);
  if (!schnorr.verify(cert.signature, msg, authorityXonly)) {
    return { ok: false, reason: "wrong-authority", message: "certificate is not signed by the configured authority key" };
  }
  if (nowSec + leewaySec < cert.validFrom) {
    return { ok: false, reason: "not-yet-valid", message: `certificate is valid from ${cert.validFrom}, now is ${nowSec} (leeway ${leewaySec} s): check the clocks` };
  }
  if (nowSec - leewaySec > cert.notValidAfter) {
    return { ok: false, reason: "expired", message: `certificate expired at ${cert.notValidAfter}, now is ${nowSec} (leeway ${leewaySec} s)` };
  }
  return { ok: true };
}

/** verifyCertificate that throws a CertificateError naming the reason. */
export function assertValidCertificate(
  cert: SignatureNoiseMessage,
  staticXonly: Uint8Array,
  authorityXonly: Uint8Array,
  nowSec: number,
  leewaySec: number = DEFAULT_CERTIFICATE_LEEWAY_SEC,
): void {
  const verdict = verifyCertificate(cert, staticXonly, authorityXonly, nowSec, leewaySec);
  if (!verdict.ok) throw new CertificateError(verdict.reason, verdict.message);
}

export interface CertificatePolicy {
  /** Seconds the certificate stays valid after it is issued. */
  readonly validitySec: number;
  /** Seconds valid_from is set in the past, for miners whose clocks run slow. */
  readonly backdateSec: number;
  /** Renew when less than this many seconds of validity remain (covers miners' clocks that run fast). */
  readonly renewBeforeSec: number;
}

/** Backdated by an hour (PROTOCOL.md §4.4 recommendation), valid a day, renewed with 6 h left. */
export const DEFAULT_CERTIFICATE_POLICY: CertificatePolicy = { validitySec: 86_400, backdateSec: 3_600, renewBeforeSec: 21_600 };

/** The validity window to sign at `nowSec`, saturated to the u32 range (SRI once overflowed here). */
export function certificateWindow(nowSec: number, policy: CertificatePolicy = DEFAULT_CERTIFICATE_POLICY): { validFrom: number; notValidAfter: number } {
  const now = Math.floor(nowSec);
  const validFrom = Math.min(U32_MAX, Math.max(0, now - policy.backdateSec));
  const notValidAfter = Math.min(U32_MAX, Math.max(0, now + policy.validitySec));
  return { validFrom, notValidAfter };
}

/** Unix second at which the pool should sign a new certificate. */
export function certificateRenewalTime(cert: SignatureNoiseMessage, policy: CertificatePolicy = DEFAULT_CERTIFICATE_POLICY): number {
  return Math.max(cert.validFrom, cert.notValidAfter - policy.renewBeforeSec);
}

export function certificateNeedsRenewal(cert: SignatureNoiseMessage, nowSec: number, policy: CertificatePolicy = DEFAULT_CERTIFICATE_POLICY): boolean {
  return nowSec >= certificateRenewalTime(cert, policy);
}
