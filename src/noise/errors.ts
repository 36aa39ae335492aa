/**
 * Typed failures of the encrypted transport. Each carries a `code` so the server can log and count
 * the exact reason a connection was dropped (a MAC failure is an attack or a bug, an expired
 * certificate is an operator problem, SV1 JSON on the SV2 port is a misconfigured miner).
 */
import { StratumV2Error } from "../errors.ts";
import type { StratumV2ErrorKind } from "../errors.ts";

export type NoiseErrorCode =
  /** A ChaCha20-Poly1305 tag did not verify (tampering, wrong key, or desynchronised nonces). */
  | "mac-mismatch"
  /** A cipher state reached nonce 2^64−1; continuing would reuse a nonce. */
  | "nonce-exhausted"
  /** The peer spoke something that is recognisably not a Noise handshake (SV1 JSON, HTTP, TLS). */
  | "not-a-handshake"
  /** The responder's certificate failed verification (signature, validity window, version). */
  | "certificate-invalid"
  /** A handshake message of the wrong size, or a step taken in the wrong state. */
  | "handshake-failed"
  /** A decrypted frame header announced more payload than the caller allows. */
  | "frame-too-large"
  /** Malformed input to a transport or cipher function (wrong key length, bad frame fields). */
  | "invalid-input"
  /** A key string or key file could not be decoded (checksum, version, length). */
  | "invalid-key";

export class NoiseError extends StratumV2Error {
  readonly code: NoiseErrorCode;

  constructor(code: NoiseErrorCode, message: string, kind: StratumV2ErrorKind = "ProtocolError") {
    super(kind, message);
    this.code = code;
    this.name = "NoiseError";
  }
}

/** Why a certificate was refused; `certificate-invalid` errors carry it for precise handling. */
export type CertificateFailure = "wrong-authority" | "expired" | "not-yet-valid" | "unsupported-version" | "malformed";

export class CertificateError extends NoiseError {
  readonly reason: CertificateFailure;

  constructor(reason: CertificateFailure, message: string) {
    super("certificate-invalid", message);
    this.reason = reason;
    this.name = "CertificateError";
  }
}

/** What a non-Noise first message looked like, when it could be recognised. */
export type ForeignProtocol = "sv1-json" | "http" | "tls";

export class NotAHandshakeError extends NoiseError {
  readonly detected: ForeignProtocol;

  constructor(detected: ForeignProtocol, message: string) {
    super("not-a-handshake", message);
    this.detected = detected;
    this.name = "NotAHandshakeError";
  }
}
