/**
 * Handshake-then-transport over a byte stream, for the server (responder) and the miner
 * (initiator). Sessions are pure: the caller feeds received bytes and writes out what comes back.
 *
 *   const s = new ResponderSession({ identity });
 *   socket.data = (chunk) => { const r = s.receive(chunk); r.outgoing.forEach(write); handle(r.frames); if (r.error) close(); };
 *   write(s.send({ extensionType: 0, msgType: 0x01, payload }));
 */
import { NoiseError, NotAHandshakeError } from "./errors.ts";
import { CipherState } from "./cipher-state.ts";
import { ACT1_LENGTH, ACT2_LENGTH, InitiatorHandshake, ResponderHandshake } from "./handshake.ts";
import type { InitiatorResult, ResponderIdentity, TransportKeys } from "./handshake.ts";
import { FrameDecoder, encryptFrame, encryptSerializedFrame } from "./transport.ts";
import type { Sv2Frame } from "./transport.ts";
import { classifyFirstBytes } from "./foreign-protocol.ts";
import type { EllSwiftKeyPair, RandomSource } from "./ellswift.ts";
import type { AeadProvider } from "./aead.ts";
import type { SignatureNoiseMessage } from "./certificate.ts";

export interface SessionOutput {
  /** Bytes to write to the peer, in order (act 2 for a responder). */
  readonly outgoing: readonly Uint8Array[];
  /** Frames completed by this input. */
  readonly frames: Sv2Frame[];
  /** Set when the session failed; write `outgoing`, then close the connection. */
  readonly error: NoiseError | null;
  /** True when this input completed the handshake. */
  readonly handshakeCompleted: boolean;
}

export type SessionState = "handshake" | "transport" | "failed";

const FOREIGN_MESSAGES = {
  "sv1-json": "peer sent JSON (Stratum V1?) to the Stratum V2 port; point SV1 miners at the SV1 port",
  http: "peer sent an HTTP request to the Stratum V2 port",
  tls: "peer started a TLS handshake on the Stratum V2 port (SV2 uses Noise, not TLS)",
} as const;

function toError(e: unknown): NoiseError {
  if (e instanceof NoiseError) return e;
  return new NoiseError("handshake-failed", e instanceof Error ? e.message : String(e));
}

/** Shared "nothing to write" answer of every transport read (one per share): never written to. */
const NOTHING_TO_SEND: readonly Uint8Array[] = Object.freeze([]);

/** Shared "nothing buffered" value: most handshakes arrive whole, so most sessions never buffer. */
const NO_BYTES = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Shared transport half of both sessions. */
abstract class SessionBase {
  protected stateValue: SessionState = "handshake";
  /** The transport halves, set together when the handshake completes. */
  private sendCipher: CipherState | null = null;
  private decoder: FrameDecoder | null = null;
  protected failure: NoiseError | null = null;
  /** Handshake bytes received so far (act 1 or act 2 can arrive in pieces). */
  protected pendingHandshake: Uint8Array = NO_BYTES;

  constructor(
    protected readonly aead: AeadProvider | undefined,
    private readonly maxPayloadLength: number | undefined,
  ) {}

  get state(): SessionState {
    return this.stateValue;
  }

  /** The failure that ended the session, if any. */
  get error(): NoiseError | null {
    return this.failure;
  }

  protected startTransport(keys: TransportKeys): void {
    const receive = new CipherState(keys.receiveKey, this.aead);
    this.sendCipher = new CipherState(keys.sendKey, this.aead);
    this.decoder = new FrameDecoder(receive, { maxPayloadLength: this.maxPayloadLength });
    this.stateValue = "transport";
  }

  protected fail(error: NoiseError, outgoing: readonly Uint8Array[] = [], frames: Sv2Frame[] = []): SessionOutput {
    this.stateValue = "failed";
    this.failure = error;
    return { outgoing, frames, error, handshakeCompleted: false };
  }

  protected decodeTransport(bytes: Uint8Array, outgoing: readonly Uint8Array[], handshakeCompleted: boolean): SessionOutput {
    const decoder = this.decoder;
    if (decoder === null) return this.fail(new NoiseError("handshake-failed", "transport not established"), outgoing);
    if (bytes.length === 0) return { outgoing, frames: [], error: null, handshakeCompleted };
    try {
      return { outgoing, frames: decoder.push(bytes), error: null, handshakeCompleted };
    } catch (e) {
      const out = this.fail(toError(e), outgoing);
      return { ...out, handshakeCompleted };
    }
  }

  /** Encrypts one frame for the peer (only after the handshake). */
  send(frame: Sv2Frame): Uint8Array {
    return encryptFrame(this.requireTransport(), frame);
  }

  /** Encrypts a frame already serialised as 6-byte header ‖ payload. */
  sendSerialized(frameBytes: Uint8Array): Uint8Array {
    return encryptSerializedFrame(this.requireTransport(), frameBytes);
  }

  private requireTransport(): CipherState {
    if (this.stateValue !== "transport" || this.sendCipher === null) {
      throw new NoiseError("handshake-failed", `cannot send frames in session state ${this.stateValue}`);
    }
    return this.sendCipher;
  }

  protected failedOutput(): SessionOutput {
    return { outgoing: [], frames: [], error: this.failure, handshakeCompleted: false };
  }
}

export interface ResponderSessionOptions {
  readonly identity: ResponderIdentity;
  /** A pre-generated ephemeral key, so the handshake does not pay for key generation. */
  readonly ephemeralKey?: EllSwiftKeyPair;
  readonly rng?: RandomSource;
  readonly aead?: AeadProvider;
  /** Largest frame payload accepted from the miner. */
  readonly maxPayloadLength?: number;
}

/** The pool side: reads act 1 (refusing recognisable non-Noise clients), answers act 2, then frames. */
export class ResponderSession extends SessionBase {
  /**
   * Dropped once act 1 is answered (or refused): the handshake holds the ephemeral key pair, which
   * must not outlive the handshake (forward secrecy), and would otherwise stay for the connection's life.
   */
  private handshake: ResponderHandshake | null;

  constructor(opts: ResponderSessionOptions) {
    super(opts.aead, opts.maxPayloadLength);
    this.handshake = new ResponderHandshake({ identity: opts.identity, ephemeralKey: opts.ephemeralKey, rng: opts.rng, aead: opts.aead });
  }

  receive(chunk: Uint8Array): SessionOutput {
    if (this.stateValue === "failed") return this.failedOutput();
    if (this.stateValue === "transport") return this.decodeTransport(chunk, NOTHING_TO_SEND, false);
    const handshake = this.handshake;
    if (handshake === null) return this.fail(new NoiseError("handshake-failed", "act 1 was already answered"));
    const buffered = concat(this.pendingHandshake, chunk);
    const kind = classifyFirstBytes(buffered);
    if (kind === "need-more") {
      this.pendingHandshake = buffered;
      return { outgoing: [], frames: [], error: null, handshakeCompleted: false };
    }
    this.pendingHandshake = NO_BYTES;
    this.handshake = null;
    if (kind !== "act1") return this.fail(new NotAHandshakeError(kind, FOREIGN_MESSAGES[kind]));
    let act2: Uint8Array;
    try {
      const result = handshake.respond(buffered.subarray(0, ACT1_LENGTH));
      act2 = result.act2;
      this.startTransport(result.keys);
    } catch (e) {
      return this.fail(toError(e));
    }
    // Anything after act 1 is already transport data.
    return this.decodeTransport(buffered.subarray(ACT1_LENGTH), [act2], true);
  }
}

export interface NoiseClock {
  nowMs(): number;
}

export interface InitiatorSessionOptions {
  /** The pool's authority x-only public key. */
  readonly authorityXonly: Uint8Array;
  /** Time source for the certificate check. */
  readonly clock: NoiseClock;
  readonly ephemeralKey?: EllSwiftKeyPair;
  readonly rng?: RandomSource;
  readonly aead?: AeadProvider;
  readonly certificateLeewaySec?: number;
  readonly maxPayloadLength?: number;
}

/** The miner side: `start()` gives act 1; `receive` takes act 2 (verifying the certificate), then frames. */
export class InitiatorSession extends SessionBase {
  private readonly handshake: InitiatorHandshake;
  private readonly clock: NoiseClock;
  private result: InitiatorResult | null = null;

  constructor(opts: InitiatorSessionOptions) {
    super(opts.aead, opts.maxPayloadLength);
    this.clock = opts.clock;
    this.handshake = new InitiatorHandshake({
      authorityXonly: opts.authorityXonly,
      ephemeralKey: opts.ephemeralKey,
      rng: opts.rng,
      aead: opts.aead,
      certificateLeewaySec: opts.certificateLeewaySec,
    });
  }

  /** Act 1, to be written first. */
  start(): Uint8Array {
    return this.handshake.start();
  }

  /** The verified certificate and static key of the pool, once the handshake is complete. */
  get peer(): { certificate: SignatureNoiseMessage; staticXonly: Uint8Array } | null {
    return this.result === null ? null : { certificate: this.result.certificate, staticXonly: this.result.responderStaticXonly };
  }

  receive(chunk: Uint8Array): SessionOutput {
    if (this.stateValue === "failed") return this.failedOutput();
    if (this.stateValue === "transport") return this.decodeTransport(chunk, NOTHING_TO_SEND, false);
    if (this.handshake.state !== "awaiting-act2") return this.fail(new NoiseError("handshake-failed", "received data before start()"));
    const buffered = concat(this.pendingHandshake, chunk);
    if (buffered.length < ACT2_LENGTH) {
      this.pendingHandshake = buffered;
      return { outgoing: [], frames: [], error: null, handshakeCompleted: false };
    }
    this.pendingHandshake = NO_BYTES;
    try {
      this.result = this.handshake.finish(buffered.subarray(0, ACT2_LENGTH), Math.floor(this.clock.nowMs() / 1000));
      this.startTransport(this.result.keys);
    } catch (e) {
      return this.fail(toError(e));
    }
    return this.decodeTransport(buffered.subarray(ACT2_LENGTH), [], true);
  }
}
