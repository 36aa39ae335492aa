/**
 * The two roles of the SV2 Noise NX handshake as explicit state machines with byte-in/byte-out
 * steps (PROTOCOL.md §4.2–4.3):
 *
 *   initiator (miner)  --- act 1: E_i (64 bytes) --->                     responder (pool)
 *                      <-- act 2: E_r ‖ enc(E_s) ‖ enc(certificate) ---   (64 + 80 + 90 = 234 bytes)
 *
 * Keys, randomness and the verification time are all inputs, so the derived vector can be
 * replayed byte for byte and the pool can prepare ephemeral keys ahead of time.
 */
import { NoiseError } from "./errors.ts";
import { SymmetricState } from "./symmetric-state.ts";
import type { TraceSink } from "./symmetric-state.ts";
import { defaultRandom, ellswiftDecodeX, ellswiftEcdhXonlyPair, generateEllSwiftKeyPair, prepareEllSwift, taggedEcdhHash, xonlyPublicKey } from "./ellswift.ts";
import type { EllSwiftKeyPair, RandomSource } from "./ellswift.ts";
import { multiplyXonly, scalarFromBytes } from "./scalar-mult.ts";
import type { PreparedPoint } from "./scalar-mult.ts";
import {
  DEFAULT_CERTIFICATE_LEEWAY_SEC,
  DEFAULT_CERTIFICATE_POLICY,
  SIGNATURE_NOISE_MESSAGE_LENGTH,
  assertValidCertificate,
  certificateWindow,
  decodeCertificate,
  encodeCertificate,
  signCertificate,
} from "./certificate.ts";
import type { CertificatePolicy, SignatureNoiseMessage } from "./certificate.ts";
import { bigIntTo32Bytes, bytesToBigInt } from "./field.ts";
import type { AeadProvider } from "./aead.ts";

export const ACT1_LENGTH = 64;
export const ACT2_LENGTH = 234;
const ENCRYPTED_STATIC_LENGTH = 80;

/** What a completed handshake leaves for the transport. */
export interface TransportKeys {
  /** Key this side encrypts with. */
  readonly sendKey: Uint8Array;
  /** Key this side decrypts with. */
  readonly receiveKey: Uint8Array;
  /** Final handshake hash h (channel binding; SV2 does not use it further). */
  readonly handshakeHash: Uint8Array;
}

/** The pool's long-lived static key with the certificate the authority signed for it. */
export interface ResponderIdentity {
  readonly staticKey: EllSwiftKeyPair;
  /** x-only public key of the static key (what the certificate signs). */
  readonly staticXonly: Uint8Array;
  readonly certificate: SignatureNoiseMessage;
}

export interface CreateIdentityOptions {
  readonly authoritySecret: Uint8Array;
  readonly nowSec: number;
  readonly policy?: CertificatePolicy;
  /** Reuse a static key (e.g. from a key file); a fresh one is generated otherwise. */
  readonly staticKey?: EllSwiftKeyPair;
  readonly rng?: RandomSource;
}

/** A static key and a certificate for it signed now (the pool does this at start-up and on renewal). */
export function createResponderIdentity(opts: CreateIdentityOptions): ResponderIdentity {
  const rng = opts.rng ?? defaultRandom;
  const staticKey = opts.staticKey ?? generateEllSwiftKeyPair(rng);
  const staticXonly = xonlyPublicKey(staticKey.secret);
  if (bytesToBigInt(staticXonly) !== ellswiftDecodeX(staticKey.encoding)) {
    throw new NoiseError("invalid-input", "static key encoding does not encode the static secret's public key");
  }
  const window = certificateWindow(opts.nowSec, opts.policy ?? DEFAULT_CERTIFICATE_POLICY);
  const certificate = signCertificate({ authoritySecret: opts.authoritySecret, staticXonly, ...window, auxRand: rng(32) });
  return { staticKey, staticXonly, certificate };
}

export interface ResponderHandshakeOptions {
  readonly identity: ResponderIdentity;
  /** A pre-generated ephemeral key (see EphemeralKeyPool); generated on demand when absent. */
  readonly ephemeralKey?: EllSwiftKeyPair;
  readonly rng?: RandomSource;
  readonly aead?: AeadProvider;
  readonly trace?: TraceSink;
}

export type ResponderHandshakeState = "awaiting-act1" | "complete" | "failed";

export class ResponderHandshake {
  private stateValue: ResponderHandshakeState = "awaiting-act1";

  constructor(private readonly opts: ResponderHandshakeOptions) {}

  get state(): ResponderHandshakeState {
    return this.stateValue;
  }

  /** Consumes act 1 (exactly 64 bytes) and returns act 2 (234 bytes) with the transport keys. */
  respond(act1: Uint8Array): { act2: Uint8Array; keys: TransportKeys } {
    if (this.stateValue !== "awaiting-act1") throw new NoiseError("handshake-failed", `responder cannot read act 1 in state ${this.stateValue}`);
    this.stateValue = "failed";
    if (act1.length !== ACT1_LENGTH) throw new NoiseError("handshake-failed", `act 1 must be ${ACT1_LENGTH} bytes, got ${act1.length}`);
    const { identity, trace } = this.opts;
    const ephemeral = this.opts.ephemeralKey ?? generateEllSwiftKeyPair(this.opts.rng ?? defaultRandom);
    const remoteEphemeral = act1.slice();
    const ss = new SymmetricState(this.opts.aead, trace);

    // Act 1 as received: MixHash(E_i), then the empty payload's MixHash("").
    ss.mixHash(remoteEphemeral);
    ss.mixHash(new Uint8Array(0));

    // Both ECDHs multiply E_i: one decoding (and one table) serves the two.
    const [sharedEe, sharedEs] = ellswiftEcdhXonlyPair(remoteEphemeral, ephemeral.secret, identity.staticKey.secret);
    const act2 = new Uint8Array(ACT2_LENGTH);
    act2.set(ephemeral.encoding, 0);
    ss.mixHash(ephemeral.encoding);
    ss.mixKey(tagged("ee", sharedEe, remoteEphemeral, ephemeral.encoding, trace));
    act2.set(ss.encryptAndHash(identity.staticKey.encoding), 64);
    ss.mixKey(tagged("es", sharedEs, remoteEphemeral, identity.staticKey.encoding, trace));
    act2.set(ss.encryptAndHash(encodeCertificate(identity.certificate)), 64 + ENCRYPTED_STATIC_LENGTH);
    const [k1, k2] = ss.split();
    const handshakeHash = ss.handshakeHash;
    ss.clear();
    this.stateValue = "complete";
    return { act2, keys: { sendKey: k2, receiveKey: k1, handshakeHash } };
  }
}

/** SHA256(T‖T‖E_initiator‖E_responder‖x(d·P)) with the initiator's encoding first. */
function ecdh(
  label: "ee" | "es",
  secret: Uint8Array,
  remote: PreparedPoint,
  initiatorEncoding: Uint8Array,
  responderEncoding: Uint8Array,
  trace: TraceSink | undefined,
): Uint8Array {
  return tagged(label, multiplyXonly(remote, scalarFromBytes(secret)), initiatorEncoding, responderEncoding, trace);
}

function tagged(
  label: "ee" | "es",
  sharedX: Uint8Array,
  initiatorEncoding: Uint8Array,
  responderEncoding: Uint8Array,
  trace: TraceSink | undefined,
): Uint8Array {
  const result = taggedEcdhHash(initiatorEncoding, responderEncoding, sharedX);
  trace?.({ op: "ecdh", label, sharedX, secret: result });
  return result;
}

export interface InitiatorHandshakeOptions {
  /** The pool's authority x-only key (from the pool URL / config). */
  readonly authorityXonly: Uint8Array;
  readonly ephemeralKey?: EllSwiftKeyPair;
  readonly rng?: RandomSource;
  readonly aead?: AeadProvider;
  /** Tolerance around the certificate's validity window (SRI: 10 s). */
  readonly certificateLeewaySec?: number;
  readonly trace?: TraceSink;
}

export type InitiatorHandshakeState = "start" | "awaiting-act2" | "complete" | "failed";

export interface InitiatorResult {
  readonly keys: TransportKeys;
  readonly certificate: SignatureNoiseMessage;
  readonly responderStaticXonly: Uint8Array;
}

export class InitiatorHandshake {
  private stateValue: InitiatorHandshakeState = "start";
  private ss: SymmetricState | null = null;
  private ephemeral: EllSwiftKeyPair | null = null;

  constructor(private readonly opts: InitiatorHandshakeOptions) {
    if (opts.authorityXonly.length !== 32) throw new NoiseError("invalid-input", "authority key must be a 32-byte x-only key");
  }

  get state(): InitiatorHandshakeState {
    return this.stateValue;
  }

  /** Act 1: the 64-byte ephemeral encoding. */
  start(): Uint8Array {
    if (this.stateValue !== "start") throw new NoiseError("handshake-failed", `initiator cannot start in state ${this.stateValue}`);
    const ephemeral = this.opts.ephemeralKey ?? generateEllSwiftKeyPair(this.opts.rng ?? defaultRandom);
    const ss = new SymmetricState(this.opts.aead, this.opts.trace);
    ss.mixHash(ephemeral.encoding);
    // EncryptAndHash of the empty payload with no key yet is MixHash("").
    ss.encryptAndHash(new Uint8Array(0));
    this.ss = ss;
    this.ephemeral = ephemeral;
    this.stateValue = "awaiting-act2";
    return ephemeral.encoding.slice();
  }

  /**
   * Consumes act 2 (exactly 234 bytes), checks the certificate at `nowSec` and returns the
   * transport keys. Throws NoiseError `mac-mismatch` for a tampered or foreign act 2 and
   * CertificateError for a certificate that does not verify.
   */
  finish(act2: Uint8Array, nowSec: number): InitiatorResult {
    const ss = this.ss;
    const ephemeral = this.ephemeral;
    if (this.stateValue !== "awaiting-act2" || ss === null || ephemeral === null) {
      throw new NoiseError("handshake-failed", `initiator cannot read act 2 in state ${this.stateValue}`);
    }
    this.stateValue = "failed";
    if (act2.length !== ACT2_LENGTH) throw new NoiseError("handshake-failed", `act 2 must be ${ACT2_LENGTH} bytes, got ${act2.length}`);
    const { trace } = this.opts;
    const remoteEphemeral = act2.slice(0, 64);
    ss.mixHash(remoteEphemeral);
    ss.mixKey(ecdh("ee", ephemeral.secret, prepareEllSwift(remoteEphemeral), ephemeral.encoding, remoteEphemeral, trace));
    const remoteStatic = ss.decryptAndHash(act2.subarray(64, 64 + ENCRYPTED_STATIC_LENGTH));
    const staticPoint = prepareEllSwift(remoteStatic);
    ss.mixKey(ecdh("es", ephemeral.secret, staticPoint, ephemeral.encoding, remoteStatic, trace));
    const certBytes = ss.decryptAndHash(act2.subarray(64 + ENCRYPTED_STATIC_LENGTH));
    if (certBytes.length !== SIGNATURE_NOISE_MESSAGE_LENGTH) throw new NoiseError("handshake-failed", "certificate has the wrong length");
    const certificate = decodeCertificate(certBytes);
    const responderStaticXonly = bigIntTo32Bytes(staticPoint.x);
    assertValidCertificate(
      certificate,
      responderStaticXonly,
      this.opts.authorityXonly,
      nowSec,
      this.opts.certificateLeewaySec ?? DEFAULT_CERTIFICATE_LEEWAY_SEC,
    );
    const [k1, k2] = ss.split();
    const handshakeHash = ss.handshakeHash;
    ss.clear();
    this.ss = null;
    this.ephemeral = null;
    this.stateValue = "complete";
    return { keys: { sendKey: k1, receiveKey: k2, handshakeHash }, certificate, responderStaticXonly };
  }
}
