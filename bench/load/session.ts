/**
 * A cheap Noise NX initiator for load clients. It computes the real handshake (the pool cannot tell
 * it from a miner), but caches what does not change between connections of one load process:
 *
 *  - a few ephemeral keys are generated once and reused (a real miner makes a fresh one each time);
 *  - the `es` shared secret (own ephemeral × pool static key) is the same for every connection that
 *    reuses the ephemeral key, so it is computed once per (key, pool static key);
 *  - the certificate is verified once per distinct certificate (the pool signs it once).
 *
 * What remains per connection is the `ee` ECDH against the pool's fresh ephemeral key (~0.4 ms)
 * and the symmetric state. src/noise/session.ts InitiatorSession does all of it every time
 * (~3 ms, 3x the responder's cost), which would make a 2-core box measure the load generator
 * instead of the pool.
 */
import { bytesToHex } from "../../src/bitcoin/bytes.ts";
import { assertValidCertificate, decodeCertificate, SIGNATURE_NOISE_MESSAGE_LENGTH } from "../../src/noise/certificate.ts";
import { CipherState } from "../../src/noise/cipher-state.ts";
import { generateEllSwiftKeyPair, prepareEllSwift, taggedEcdhHash } from "../../src/noise/ellswift.ts";
import type { EllSwiftKeyPair } from "../../src/noise/ellswift.ts";
import { ACT1_LENGTH, ACT2_LENGTH } from "../../src/noise/handshake.ts";
import { bigIntTo32Bytes } from "../../src/noise/field.ts";
import { multiplyXonly, scalarFromBytes } from "../../src/noise/scalar-mult.ts";
import { SymmetricState } from "../../src/noise/symmetric-state.ts";
import { encryptSerializedFrame, FrameDecoder, type Sv2Frame } from "../../src/noise/transport.ts";

const ENCRYPTED_STATIC_LENGTH = 80;

/** Per-process handshake material shared by every connection. */
export class HandshakeCache {
  private readonly keys: { pair: EllSwiftKeyPair; scalar: bigint }[];
  private readonly es = new Map<string, Uint8Array>();
  private readonly verified = new Set<string>();
  private next = 0;

  constructor(
    readonly authorityXonly: Uint8Array,
    keyCount = 8,
  ) {
    this.keys = Array.from({ length: keyCount }, () => {
      const pair = generateEllSwiftKeyPair();
      return { pair, scalar: scalarFromBytes(pair.secret) };
    });
  }

  takeKey(): { pair: EllSwiftKeyPair; scalar: bigint } {
    const k = this.keys[this.next % this.keys.length] as { pair: EllSwiftKeyPair; scalar: bigint };
    this.next++;
    return k;
  }

  /** x(own ephemeral · pool static), cached per key and static key. */
  sharedEs(key: { pair: EllSwiftKeyPair; scalar: bigint }, remoteStatic: Uint8Array): { sharedX: Uint8Array; staticXonly: Uint8Array } {
    const id = `${bytesToHex(key.pair.encoding)}:${bytesToHex(remoteStatic)}`;
    let packed = this.es.get(id);
    if (packed === undefined) {
      const point = prepareEllSwift(remoteStatic);
      packed = new Uint8Array(64);
      packed.set(multiplyXonly(point, key.scalar), 0);
      packed.set(bigIntTo32Bytes(point.x), 32);
      this.es.set(id, packed);
    }
    return { sharedX: packed.subarray(0, 32), staticXonly: packed.subarray(32) };
  }

  /** Verifies a certificate the first time it is seen (throws CertificateError when it is bad). */
  checkCertificate(certBytes: Uint8Array, staticXonly: Uint8Array, nowSec: number): void {
    const id = `${bytesToHex(certBytes)}:${bytesToHex(staticXonly)}`;
    if (this.verified.has(id)) return;
    assertValidCertificate(decodeCertificate(certBytes), staticXonly, this.authorityXonly, nowSec);
    this.verified.add(id);
  }
}

export class LoadSessionError extends Error {}

/** Initiator session: `start()` gives act 1, `receive()` takes act 2 and then transport frames. */
export class LoadSession {
  private ss: SymmetricState | null = null;
  private key: { pair: EllSwiftKeyPair; scalar: bigint } | null = null;
  private pending: Uint8Array = new Uint8Array(0);
  private send: CipherState | null = null;
  private decoder: FrameDecoder | null = null;

  constructor(private readonly cache: HandshakeCache) {}

  get established(): boolean {
    return this.send !== null;
  }

  start(): Uint8Array {
    const key = this.cache.takeKey();
    const ss = new SymmetricState(undefined, undefined);
    ss.mixHash(key.pair.encoding);
    ss.encryptAndHash(new Uint8Array(0));
    this.ss = ss;
    this.key = key;
    return key.pair.encoding.slice(0, ACT1_LENGTH);
  }

  /** Frames decrypted from `chunk`; `handshakeCompleted` is true for the chunk that finished act 2. */
  receive(chunk: Uint8Array): { frames: Sv2Frame[]; handshakeCompleted: boolean } {
    if (this.decoder !== null) return { frames: this.decoder.push(chunk), handshakeCompleted: false };
    const buffered = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    if (buffered.length < ACT2_LENGTH) {
      this.pending = buffered.slice();
      return { frames: [], handshakeCompleted: false };
    }
    this.pending = new Uint8Array(0);
    const decoder = this.finish(buffered.subarray(0, ACT2_LENGTH));
    const rest = buffered.subarray(ACT2_LENGTH);
    const frames = rest.length > 0 ? decoder.push(rest) : [];
    return { frames, handshakeCompleted: true };
  }

  private finish(act2: Uint8Array): FrameDecoder {
    const ss = this.ss;
    const key = this.key;
    if (ss === null || key === null) throw new LoadSessionError("act 2 before start()");
    const remoteEphemeral = act2.slice(0, 64);
    ss.mixHash(remoteEphemeral);
    const ee = multiplyXonly(prepareEllSwift(remoteEphemeral), key.scalar);
    ss.mixKey(taggedEcdhHash(key.pair.encoding, remoteEphemeral, ee));
    const remoteStatic = ss.decryptAndHash(act2.subarray(64, 64 + ENCRYPTED_STATIC_LENGTH));
    const es = this.cache.sharedEs(key, remoteStatic);
    ss.mixKey(taggedEcdhHash(key.pair.encoding, remoteStatic, es.sharedX));
    const certBytes = ss.decryptAndHash(act2.subarray(64 + ENCRYPTED_STATIC_LENGTH));
    if (certBytes.length !== SIGNATURE_NOISE_MESSAGE_LENGTH) throw new LoadSessionError("certificate has the wrong length");
    this.cache.checkCertificate(certBytes, es.staticXonly, Math.floor(Date.now() / 1000));
    const [k1, k2] = ss.split();
    this.send = new CipherState(k1);
    const decoder = new FrameDecoder(new CipherState(k2));
    this.decoder = decoder;
    this.ss = null;
    this.key = null;
    return decoder;
  }

  /** Encrypts a frame serialised as 6-byte header ‖ payload. */
  seal(frameBytes: Uint8Array): Uint8Array {
    if (this.send === null) throw new LoadSessionError("handshake not complete");
    return encryptSerializedFrame(this.send, frameBytes);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
