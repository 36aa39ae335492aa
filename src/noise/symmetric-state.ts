/**
 * The Noise SymmetricState for Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256 (PROTOCOL.md §4.1):
 * chaining key ck, handshake hash h and the handshake cipher key k.
 */
import { hmacSha256, sha256 } from "./hash.ts";
import { CipherState } from "./cipher-state.ts";
import type { AeadProvider } from "./aead.ts";

export const PROTOCOL_NAME = "Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256";

const EMPTY = new Uint8Array(0);
const ONE = new Uint8Array([1]);
const TWO = new Uint8Array([2]);

/** One step of the handshake, reported for replay against the derived vector. */
export type HandshakeTraceEvent =
  | { readonly op: "init"; readonly ck: Uint8Array; readonly h: Uint8Array }
  | { readonly op: "mix-hash"; readonly data: Uint8Array; readonly h: Uint8Array }
  | { readonly op: "ecdh"; readonly label: "ee" | "es"; readonly sharedX: Uint8Array; readonly secret: Uint8Array }
  | { readonly op: "mix-key"; readonly ck: Uint8Array; readonly k: Uint8Array }
  | { readonly op: "encrypt-and-hash" | "decrypt-and-hash"; readonly ciphertext: Uint8Array }
  | { readonly op: "split"; readonly k1: Uint8Array; readonly k2: Uint8Array };

export type TraceSink = (event: HandshakeTraceEvent) => void;

/** HKDF2 as Noise uses it: t = HMAC(ck, ikm); o1 = HMAC(t, 0x01); o2 = HMAC(t, o1 ‖ 0x02). */
export function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const temp = hmacSha256(chainingKey, ikm);
  const o1 = hmacSha256(temp, ONE);
  const o2 = hmacSha256(temp, o1, TWO);
  return [o1, o2];
}

export class SymmetricState {
  private ck: Uint8Array;
  private h: Uint8Array;
  private k: Uint8Array | null = null;
  private cipher: CipherState | null = null;

  constructor(
    private readonly aead: AeadProvider | undefined,
    private readonly trace: TraceSink | undefined,
  ) {
    this.ck = sha256(new TextEncoder().encode(PROTOCOL_NAME));
    // h = SHA256(ck): the name hash with an empty prologue mixed in.
    this.h = sha256(this.ck);
    this.trace?.({ op: "init", ck: this.ck, h: this.h });
  }

  get handshakeHash(): Uint8Array {
    return this.h;
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
    this.trace?.({ op: "mix-hash", data, h: this.h });
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf2(this.ck, ikm);
    this.ck = ck;
    this.k = k;
    // A fresh cipher state: the handshake nonce restarts at 0 after every MixKey.
    this.cipher = new CipherState(k, this.aead);
    this.trace?.({ op: "mix-key", ck, k });
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher === null ? plaintext : this.cipher.encryptWithAd(this.h, plaintext);
    if (this.cipher !== null) this.trace?.({ op: "encrypt-and-hash", ciphertext });
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** Throws NoiseError `mac-mismatch` when the ciphertext does not authenticate. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher === null ? ciphertext : this.cipher.decryptWithAd(this.h, ciphertext);
    if (this.cipher !== null) this.trace?.({ op: "decrypt-and-hash", ciphertext });
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** (k1, k2) = HKDF2(ck, ""): k1 carries initiator→responder traffic, k2 the other direction. */
  split(): [Uint8Array, Uint8Array] {
    const [k1, k2] = hkdf2(this.ck, EMPTY);
    this.trace?.({ op: "split", k1, k2 });
    return [k1, k2];
  }

  /** Drops the handshake secrets once the transport keys exist (arrays already traced stay intact). */
  clear(): void {
    this.ck = EMPTY;
    this.k = null;
    this.cipher = null;
  }
}
