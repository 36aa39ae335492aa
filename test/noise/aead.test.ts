// ChaCha20-Poly1305 implementations against RFC 8439 §2.8.2 and against @noble/ciphers.
import { describe, expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { aeadOpen, aeadSeal, nobleAead } from "../../src/noise/aead.ts";
import type { AeadProvider } from "../../src/noise/aead.ts";
import { pureAead } from "../../src/noise/chacha20poly1305.ts";
import { loadSodiumAead } from "../../src/noise/native/sodium.ts";
import { compileTccAead } from "../../src/noise/native/tcc.ts";
import { selectAead } from "../../src/noise/native/select.ts";
import { loadWasmAead } from "../../src/noise/wasm/aead.ts";
import { seededRandom } from "./helpers.ts";

// RFC 8439 §2.8.2 "Example and Test Vector for AEAD_CHACHA20_POLY1305".
const RFC = {
  key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
  nonce: "070000004041424344454647",
  aad: "50515253c0c1c2c3c4c5c6c7",
  plaintext: new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ),
  ciphertext:
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116",
  tag: "1ae10b594f09e26a7e902ecbd0600691",
};

// Native candidates are tested whenever they load here (libsodium23 is in the base image; TinyCC
// ships inside Bun). Their absence is covered by the fallback tests below.
const sodium = loadSodiumAead();
const tcc = compileTccAead();
const wasm = loadWasmAead();

function providersUnderTest(): AeadProvider[] {
  return [pureAead, nobleAead, ...(wasm ? [wasm] : []), ...(sodium ? [sodium] : []), ...(tcc ? [tcc] : [])];
}

test("native loaders: a missing library gives null and selection falls back to pure TS", () => {
  expect(loadSodiumAead(["libdoes-not-exist.so.99"])).toBeNull();
  expect(selectAead("pure").provider.name).toBe("pure-ts");
  expect(selectAead().provider.name).toBe("wasm");
  expect(selectAead("wasm").provider.name).toBe("wasm");
  const auto = selectAead("auto");
  expect(auto.provider.name).toBe(sodium ? "libsodium" : "wasm");
  expect(auto.fallbackReason).toBeNull();
  const named = selectAead("libsodium");
  expect(named.fallbackReason === null).toBe(sodium !== null);
});

for (const provider of providersUnderTest()) {
  describe(`AEAD ${provider.name}`, () => {
    test("RFC 8439 §2.8.2 test vector: ciphertext and tag", () => {
      const cipher = provider.create(hexToBytes(RFC.key));
      const sealed = aeadSeal(cipher, hexToBytes(RFC.nonce), hexToBytes(RFC.aad), RFC.plaintext);
      expect(bytesToHex(sealed)).toBe(RFC.ciphertext + RFC.tag);
      const opened = aeadOpen(cipher, hexToBytes(RFC.nonce), hexToBytes(RFC.aad), sealed);
      expect(opened === null ? null : new TextDecoder().decode(opened)).toBe(new TextDecoder().decode(RFC.plaintext));
    });

    test("matches @noble/ciphers on random keys, nonces, AD and lengths 0..300, 1400, 65519", () => {
      const rng = seededRandom(42);
      const lengths: number[] = [];
      for (let i = 0; i <= 300; i++) lengths.push(i);
      lengths.push(1400, 4095, 4096, 65519);
      for (const len of lengths) {
        const key = rng(32);
        const nonce = rng(12);
        const ad = len % 3 === 0 ? null : rng(len % 70);
        const pt = rng(len);
        const cipher = provider.create(key);
        const ours = aeadSeal(cipher, nonce, ad, pt);
        const reference = chacha20poly1305(key, nonce, ad ?? new Uint8Array(0)).encrypt(pt);
        expect(bytesToHex(ours)).toBe(bytesToHex(reference));
        const back = aeadOpen(cipher, nonce, ad, ours);
        expect(back === null ? "null" : bytesToHex(back)).toBe(bytesToHex(pt));
      }
    });

    test("rejects a flipped bit anywhere in ciphertext or tag, a wrong nonce and wrong AD", () => {
      const rng = seededRandom(5);
      const key = rng(32);
      const nonce = rng(12);
      const cipher = provider.create(key);
      const sealed = aeadSeal(cipher, nonce, null, rng(40));
      for (let i = 0; i < sealed.length; i++) {
        const bad = sealed.slice();
        bad[i] = (bad[i] as number) ^ (1 << (i % 8));
        expect(aeadOpen(cipher, nonce, null, bad)).toBeNull();
      }
      const otherNonce = nonce.slice();
      otherNonce[11] = (otherNonce[11] as number) ^ 1;
      expect(aeadOpen(cipher, otherNonce, null, sealed)).toBeNull();
      expect(aeadOpen(cipher, nonce, new Uint8Array([0]), sealed)).toBeNull();
      expect(aeadOpen(cipher, nonce, null, sealed.subarray(0, 15))).toBeNull();
    });

    test("writes at offsets inside larger buffers and can work in place", () => {
      const rng = seededRandom(9);
      const key = rng(32);
      const nonce = rng(12);
      const pt = rng(100);
      const cipher = provider.create(key);
      const wire = new Uint8Array(200);
      cipher.seal(nonce, null, pt, 0, pt.length, wire, 37);
      const expected = chacha20poly1305(key, nonce).encrypt(pt);
      expect(bytesToHex(wire.subarray(37, 37 + 116))).toBe(bytesToHex(expected));
      const inPlace = wire.slice();
      expect(cipher.open(nonce, null, inPlace, 37, 116, inPlace, 37)).toBe(true);
      expect(bytesToHex(inPlace.subarray(37, 137))).toBe(bytesToHex(pt));
      // Sealing in place too (the transport seals a frame's header where its ciphertext goes).
      const sealedInPlace = new Uint8Array(200);
      sealedInPlace.set(pt, 11);
      cipher.seal(nonce, null, sealedInPlace, 11, pt.length, sealedInPlace, 11);
      expect(bytesToHex(sealedInPlace.subarray(11, 11 + 116))).toBe(bytesToHex(expected));
    });
  });
}

/** The 12-byte Noise nonce for a 64-bit counter given as two u32 halves. */
function noiseNonce(lo: number, hi: number): Uint8Array {
  const n = new Uint8Array(12);
  const v = new DataView(n.buffer);
  v.setUint32(4, lo, true);
  v.setUint32(8, hi, true);
  return n;
}

describe("sealPair (a frame's header and payload in one call)", () => {
  const pairing = providersUnderTest().filter((p) => p.create(new Uint8Array(32)).sealPair !== undefined);
  test("the WebAssembly provider offers it", () => {
    expect(pairing.map((p) => p.name)).toContain("wasm");
  });
  for (const provider of pairing) {
    test(`${provider.name}: equals two seals with nonces n and n + 1, also across the 32-bit carry`, () => {
      const rng = seededRandom(31);
      const counters: [number, number][] = [[0, 0], [7, 0], [0xffffffff, 0], [0xffffffff, 5], [0x1234, 0xfffffffe]];
      for (const [lo, hi] of counters) {
        for (const [aLen, bLen] of [[6, 0], [6, 1], [6, 48], [6, 64], [6, 65], [6, 1400], [0, 0], [31, 16384]] as const) {
          const key = rng(32);
          const a = rng(aLen);
          const b = rng(bLen);
          const cipher = provider.create(key);
          const out = new Uint8Array(aLen + bLen + 32 + 3).fill(0xee);
          (cipher.sealPair as NonNullable<typeof cipher.sealPair>)(noiseNonce(lo, hi), a, 0, aLen, b, 0, bLen, out, 3);
          const next = lo === 0xffffffff ? noiseNonce(0, hi + 1) : noiseNonce(lo + 1, hi);
          const expected = bytesToHex(chacha20poly1305(key, noiseNonce(lo, hi)).encrypt(a)) + bytesToHex(chacha20poly1305(key, next).encrypt(b));
          expect(bytesToHex(out.subarray(3))).toBe(expected);
          expect(out.subarray(0, 3)).toEqual(new Uint8Array([0xee, 0xee, 0xee]));
        }
      }
    });
  }
});

test("ciphers sharing one provider keep their own keys when their calls interleave", () => {
  const rng = seededRandom(12);
  for (const provider of providersUnderTest()) {
    const keys = [rng(32), rng(32), rng(32)];
    const ciphers = keys.map((k) => provider.create(k));
    for (let i = 0; i < 30; i++) {
      const which = (i * 7 + (i >> 2)) % 3;
      const nonce = rng(12);
      const pt = rng(i * 5);
      const expected = bytesToHex(chacha20poly1305(keys[which] as Uint8Array, nonce).encrypt(pt));
      expect(`${provider.name} ${i}: ${bytesToHex(aeadSeal(ciphers[which] as (typeof ciphers)[number], nonce, null, pt))}`).toBe(`${provider.name} ${i}: ${expected}`);
    }
  }
});

test("the Poly1305 final reduction handles accumulators at and above 2^130 − 5", () => {
  // Keys with r = all-ones-after-clamp and messages of 0xff maximise the accumulator; compare
  // with noble across many such inputs to exercise the conditional subtraction.
  const rng = seededRandom(77);
  for (let i = 0; i < 200; i++) {
    const key = rng(32);
    for (let j = 0; j < 16; j++) key[j] = 0xff;
    const nonce = rng(12);
    const pt = new Uint8Array(16 * (1 + (i % 8))).fill(0xff);
    const expected = bytesToHex(chacha20poly1305(key, nonce).encrypt(pt));
    for (const provider of providersUnderTest()) expect(bytesToHex(aeadSeal(provider.create(key), nonce, null, pt))).toBe(expected);
  }
});
