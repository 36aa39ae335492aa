// Sessions end to end in memory: handshake, frames both ways, chunking, tampering, certificate
// refusals, foreign protocols and nonce exhaustion.
import { describe, expect, test } from "bun:test";
import { bytesToHex } from "@noble/hashes/utils.js";
import { InitiatorSession, ResponderSession } from "../../src/noise/session.ts";
import type { SessionOutput } from "../../src/noise/session.ts";
import { createResponderIdentity } from "../../src/noise/handshake.ts";
import type { ResponderIdentity } from "../../src/noise/handshake.ts";
import { generateAuthorityKeyPair } from "../../src/noise/keys.ts";
import { CipherState, MAX_NONCE } from "../../src/noise/cipher-state.ts";
import { CertificateError, NoiseError, NotAHandshakeError } from "../../src/noise/errors.ts";
import { FrameDecoder, encryptFrame, encryptedFrameLength } from "../../src/noise/transport.ts";
import type { Sv2Frame } from "../../src/noise/transport.ts";
import { classifyFirstBytes } from "../../src/noise/foreign-protocol.ts";
import { EphemeralKeyPool } from "../../src/noise/ephemeral-pool.ts";
import { ellSwiftKeyPairFromSecret } from "../../src/noise/ellswift.ts";
import { seededRandom } from "./helpers.ts";
import { pureAead } from "../../src/noise/chacha20poly1305.ts";
import { loadWasmAead } from "../../src/noise/wasm/aead.ts";

const NOW_MS = 1_700_000_000_000;
const clock = { nowMs: (): number => NOW_MS };
const rng = seededRandom(1234);
const authority = generateAuthorityKeyPair(rng);
const identity: ResponderIdentity = createResponderIdentity({ authoritySecret: authority.secret, nowSec: NOW_MS / 1000, rng });

function pair(opts: { identity?: ResponderIdentity; authorityXonly?: Uint8Array; nowMs?: number; maxPayloadLength?: number } = {}): {
  initiator: InitiatorSession;
  responder: ResponderSession;
} {
  const initiator = new InitiatorSession({
    authorityXonly: opts.authorityXonly ?? authority.xonly,
    clock: { nowMs: () => opts.nowMs ?? NOW_MS },
    rng,
    maxPayloadLength: opts.maxPayloadLength,
  });
  const responder = new ResponderSession({ identity: opts.identity ?? identity, rng, maxPayloadLength: opts.maxPayloadLength });
  return { initiator, responder };
}

function handshake(initiator: InitiatorSession, responder: ResponderSession): void {
  const r = responder.receive(initiator.start());
  expect(r.error).toBeNull();
  expect(r.handshakeCompleted).toBe(true);
  expect(r.outgoing.length).toBe(1);
  expect(r.outgoing[0]!.length).toBe(234);
  const i = initiator.receive(r.outgoing[0]!);
  expect(i.error).toBeNull();
  expect(i.handshakeCompleted).toBe(true);
}

function frame(msgType: number, length: number, seed: number, extensionType = 0): Sv2Frame {
  const payload = new Uint8Array(length);
  for (let i = 0; i < length; i++) payload[i] = (i * 31 + seed) & 0xff;
  return { extensionType, msgType, payload };
}

describe("sessions", () => {
  test("handshake, then frames both ways (empty, small, exactly one chunk, two chunks)", () => {
    const { initiator, responder } = pair();
    handshake(initiator, responder);
    expect(initiator.state).toBe("transport");
    expect(responder.state).toBe("transport");
    expect(bytesToHex(initiator.peer!.staticXonly)).toBe(bytesToHex(identity.staticXonly));
    for (const len of [0, 1, 82, 65_519, 65_520, 131_038, 200_000]) {
      const up = frame(0x00, len, len);
      const wire = initiator.send(up);
      expect(wire.length).toBe(encryptedFrameLength(len));
      const got = responder.receive(wire);
      expect(got.error).toBeNull();
      expect(got.frames.length).toBe(1);
      expect(bytesToHex(got.frames[0]!.payload)).toBe(bytesToHex(up.payload));
      const down = frame(0x21, len, len + 1, 0x8000);
      const back = initiator.receive(responder.send(down));
      expect(back.frames.length).toBe(1);
      expect(back.frames[0]!.extensionType).toBe(0x8000);
      expect(back.frames[0]!.msgType).toBe(0x21);
      expect(bytesToHex(back.frames[0]!.payload)).toBe(bytesToHex(down.payload));
    }
  });

  test("wire lengths follow L + 16·⌈L/65519⌉ after the 22-byte header", () => {
    expect([0, 1, 24, 65_519, 65_520, 131_038].map((l) => encryptedFrameLength(l) - 22)).toEqual([0, 17, 40, 65_535, 65_552, 131_070]);
  });

  test("act 1, act 2 and frames split into arbitrary pieces, and many frames in one read", () => {
    const { initiator, responder } = pair();
    const act1 = initiator.start();
    const outputs: SessionOutput[] = [];
    for (let i = 0; i < 64; i += 7) outputs.push(responder.receive(act1.subarray(i, Math.min(64, i + 7))));
    const act2 = outputs.flatMap((o) => o.outgoing);
    expect(act2.length).toBe(1);
    let completed = false;
    for (let i = 0; i < 234; i += 50) completed = initiator.receive(act2[0]!.subarray(i, Math.min(234, i + 50))).handshakeCompleted || completed;
    expect(completed).toBe(true);

    const frames = [frame(1, 10, 1), frame(2, 0, 2), frame(3, 70_000, 3), frame(4, 5, 4)];
    const stream = frames.map((f) => initiator.send(f));
    const all = new Uint8Array(stream.reduce((n, b) => n + b.length, 0));
    let off = 0;
    for (const b of stream) {
      all.set(b, off);
      off += b.length;
    }
    // Byte by byte for the first 100 bytes, then odd-sized chunks, then the rest in one read.
    const received: Sv2Frame[] = [];
    let pos = 0;
    for (; pos < 100; pos++) received.push(...responder.receive(all.subarray(pos, pos + 1)).frames);
    for (; pos < 50_000; pos += 997) received.push(...responder.receive(all.subarray(pos, Math.min(pos + 997, 50_000))).frames);
    pos = 50_000;
    received.push(...responder.receive(all.subarray(pos)).frames);
    expect(received.map((f) => `${f.msgType}:${f.payload.length}`)).toEqual(["1:10", "2:0", "3:70000", "4:5"]);
    expect(bytesToHex(received[2]!.payload)).toBe(bytesToHex(frames[2]!.payload));
  });

  test("a pre-generated ephemeral key from the pool is used once", () => {
    const pool = new EphemeralKeyPool(3, rng);
    expect(pool.refill()).toBe(3);
    const key = pool.take();
    expect(pool.size).toBe(2);
    const initiator = new InitiatorSession({ authorityXonly: authority.xonly, clock, rng });
    const responder = new ResponderSession({ identity, ephemeralKey: key, rng });
    const r = responder.receive(initiator.start());
    expect(bytesToHex(r.outgoing[0]!.subarray(0, 64))).toBe(bytesToHex(key.encoding));
    expect(initiator.receive(r.outgoing[0]!).error).toBeNull();
    pool.take();
    pool.take();
    expect(pool.size).toBe(0);
    expect(pool.take().encoding.length).toBe(64); // generated on demand when empty
  });
});

describe("tampering", () => {
  test("act 1: any flipped byte passes the responder (64 bytes of anything are a valid act 1) but the initiator then rejects act 2", () => {
    // Noise NX act 1 is an unauthenticated ephemeral key, so the responder cannot detect
    // tampering there; it changes h and the ECDH, so act 2 fails authentication at the initiator.
    for (let i = 0; i < 64; i++) {
      const { initiator, responder } = pair();
      const act1 = initiator.start().slice();
      act1[i] = (act1[i] as number) ^ 0x01;
      const r = responder.receive(act1);
      expect(r.error).toBeNull();
      const result = initiator.receive(r.outgoing[0]!);
      expect(result.error?.code).toBe("mac-mismatch");
      expect(initiator.state).toBe("failed");
    }
  });

  test("act 2: every one of the 234 bytes is covered (E_r via h and ECDH, the rest by the two tags)", () => {
    for (let i = 0; i < 234; i++) {
      const { initiator, responder } = pair();
      const act2 = responder.receive(initiator.start()).outgoing[0]!.slice();
      act2[i] = (act2[i] as number) ^ 0x80;
      expect(initiator.receive(act2).error?.code).toBe("mac-mismatch");
    }
  });

  test("transport: flipping any byte of a frame (header or payload) is detected and ends the session", () => {
    const established = (): { initiator: InitiatorSession; responder: ResponderSession } => {
      const p = pair();
      handshake(p.initiator, p.responder);
      return p;
    };
    const clean = established();
    const wire = clean.initiator.send(frame(0x10, 40, 9));
    expect(wire.length).toBe(22 + 56);
    expect(clean.responder.receive(wire).frames.length).toBe(1);
    for (let i = 0; i < wire.length; i++) {
      const p = established();
      const w = p.initiator.send(frame(0x10, 40, 9)).slice();
      w[i] = (w[i] as number) ^ 0x04;
      const out = p.responder.receive(w);
      expect(out.frames.length).toBe(0);
      expect(out.error?.code).toBe("mac-mismatch");
      expect(p.responder.state).toBe("failed");
      // A failed session stays failed.
      expect(p.responder.receive(new Uint8Array(1)).error?.code).toBe("mac-mismatch");
    }
  });

  test("reordered or replayed frames fail (nonces are implicit and sequential)", () => {
    const { initiator, responder } = pair();
    handshake(initiator, responder);
    initiator.send(frame(1, 8, 1)); // sent but lost: the next frame uses later nonces
    const b = initiator.send(frame(2, 8, 2));
    expect(responder.receive(b).error?.code).toBe("mac-mismatch");
    const p = pair();
    handshake(p.initiator, p.responder);
    const x = p.initiator.send(frame(1, 8, 1));
    expect(p.responder.receive(x).frames.length).toBe(1);
    expect(p.responder.receive(x).error?.code).toBe("mac-mismatch");
  });
});

describe("certificate refusals at the initiator", () => {
  const reasonOf = (out: SessionOutput): string => (out.error instanceof CertificateError ? out.error.reason : String(out.error?.code));

  test("signed by another authority", () => {
    const other = generateAuthorityKeyPair(rng);
    const { initiator, responder } = pair({ authorityXonly: other.xonly });
    const out = initiator.receive(responder.receive(initiator.start()).outgoing[0]!);
    expect(reasonOf(out)).toBe("wrong-authority");
    expect(out.error?.code).toBe("certificate-invalid");
  });

  test("expired (beyond the 10 s leeway) and not yet valid", () => {
    const expiredAt = (identity.certificate.notValidAfter + 11) * 1000;
    const p1 = pair({ nowMs: expiredAt });
    expect(reasonOf(p1.initiator.receive(p1.responder.receive(p1.initiator.start()).outgoing[0]!))).toBe("expired");
    const p2 = pair({ nowMs: (identity.certificate.notValidAfter + 10) * 1000 });
    expect(p2.initiator.receive(p2.responder.receive(p2.initiator.start()).outgoing[0]!).error).toBeNull();
    const early = (identity.certificate.validFrom - 11) * 1000;
    const p3 = pair({ nowMs: early });
    expect(reasonOf(p3.initiator.receive(p3.responder.receive(p3.initiator.start()).outgoing[0]!))).toBe("not-yet-valid");
  });

  test("an identity whose static encoding does not match its secret is refused at creation", () => {
    const a = createResponderIdentity({ authoritySecret: authority.secret, nowSec: NOW_MS / 1000, rng });
    const b = createResponderIdentity({ authoritySecret: authority.secret, nowSec: NOW_MS / 1000, rng });
    const mismatched = { secret: a.staticKey.secret, encoding: b.staticKey.encoding };
    expect(() => createResponderIdentity({ authoritySecret: authority.secret, nowSec: NOW_MS / 1000, staticKey: mismatched, rng })).toThrow(NoiseError);
    const fromFile = ellSwiftKeyPairFromSecret(a.staticKey.secret, rng);
    const reused = createResponderIdentity({ authoritySecret: authority.secret, nowSec: NOW_MS / 1000, staticKey: fromFile, rng });
    expect(bytesToHex(reused.staticXonly)).toBe(bytesToHex(a.staticXonly));
  });

  test("a certificate for a different static key (identity mix-up) is refused", () => {
    const otherIdentity = createResponderIdentity({ authoritySecret: authority.secret, nowSec: NOW_MS / 1000, rng });
    const mixed: ResponderIdentity = { ...identity, certificate: otherIdentity.certificate };
    const { initiator, responder } = pair({ identity: mixed });
    expect(reasonOf(initiator.receive(responder.receive(initiator.start()).outgoing[0]!))).toBe("wrong-authority");
  });
});

describe("foreign protocols at the responder", () => {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  const refuse = (bytes: Uint8Array, chunk = bytes.length): NoiseError | null => {
    const responder = new ResponderSession({ identity, rng });
    let error: NoiseError | null = null;
    for (let i = 0; i < bytes.length && error === null; i += chunk) {
      const out = responder.receive(bytes.subarray(i, i + chunk));
      expect(out.outgoing.length).toBe(0);
      error = out.error;
    }
    return error;
  };

  test("SV1 JSON (short line, long line, split across reads) is refused as sv1-json", () => {
    for (const [msg, chunk] of [
      ['{"id":1,"method":"mining.subscribe","params":[]}\n', 100],
      ['{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.10.0", null, "pool.example", 3333]}\n', 100],
      ['{"id":2,"method":"mining.configure","params":[["version-rolling"],{"version-rolling.mask":"1fffe000"}]}\n', 5],
    ] as const) {
      const err = refuse(text(msg), chunk);
      expect(err instanceof NotAHandshakeError ? err.detected : "none").toBe("sv1-json");
      expect(err?.code).toBe("not-a-handshake");
      expect(err?.message).toContain("Stratum V1");
    }
  });

  test("HTTP requests and a TLS ClientHello are refused with their reason", () => {
    const http = refuse(text("GET / HTTP/1.1\r\nHost: pool.example:3334\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"));
    expect(http instanceof NotAHandshakeError ? http.detected : "none").toBe("http");
    const post = refuse(text("POST /api HTTP/1.1\r\n"));
    expect(post instanceof NotAHandshakeError ? post.detected : "none").toBe("http");
    const hello = new Uint8Array(80);
    hello.set([0x16, 0x03, 0x01, 0x00, 75, 0x01, 0x00, 0x00, 71, 0x03, 0x03]);
    const tls = refuse(hello);
    expect(tls instanceof NotAHandshakeError ? tls.detected : "none").toBe("tls");
  });

  test("what cannot be told apart from act 1 is accepted as act 1 (and fails later at the peer)", () => {
    expect(classifyFirstBytes(new Uint8Array(64))).toBe("act1"); // 64 zero bytes decode to a point too
    expect(classifyFirstBytes(text("{".padEnd(63, "x") + "\u0001"))).toBe("act1"); // one non-text byte
    expect(classifyFirstBytes(text('{"id":1'))).toBe("need-more"); // short, no newline yet
    expect(classifyFirstBytes(text("\n"))).toBe("need-more"); // a newline alone proves nothing
    expect(classifyFirstBytes(text("hello world this is text but neither json nor http, long enough....."))).toBe("act1");
    // Random act 1s are not refused (seeded sample of 2000).
    const r = seededRandom(4242);
    for (let i = 0; i < 2000; i++) expect(classifyFirstBytes(r(64))).toBe("act1");
  });
});

describe("one-call frame sealing and opening (WebAssembly) against the two-call path (pure TypeScript)", () => {
  const wasm = loadWasmAead();
  test("same wire bytes, and each decodes the other's stream read in pieces", () => {
    expect(wasm).not.toBeNull();
    const provider = wasm as NonNullable<typeof wasm>;
    const key = new Uint8Array(32).fill(9);
    // Empty, share-sized, at and around the one-call limits (128 B peeked, 16 KB sealed), two chunks.
    const frames = [0, 1, 6, 28, 61, 64, 127, 128, 129, 500, 16_384, 16_385, 65_519, 65_520].map((len, i) => frame(i + 1, len, i));
    const viaWasm = new CipherState(key, provider);
    const viaPure = new CipherState(key, pureAead);
    viaWasm.setNonce(0xfffffff0n); // crosses the 32-bit carry of the counter on the way
    viaPure.setNonce(0xfffffff0n);
    const wireWasm = frames.map((f) => encryptFrame(viaWasm, f));
    const wirePure = frames.map((f) => encryptFrame(viaPure, f));
    expect(wireWasm.map((b) => bytesToHex(b))).toEqual(wirePure.map((b) => bytesToHex(b)));
    const stream = new Uint8Array(wireWasm.reduce((n, b) => n + b.length, 0));
    let off = 0;
    for (const b of wireWasm) {
      stream.set(b, off);
      off += b.length;
    }
    for (const [name, rx] of [["wasm", provider], ["pure", pureAead]] as const) {
      const cs = new CipherState(key, rx);
      cs.setNonce(0xfffffff0n);
      const decoder = new FrameDecoder(cs);
      const got: Sv2Frame[] = [];
      // Reads of 1, 23, 50, 101 and 997 bytes in turn: headers and payloads split everywhere.
      const sizes = [1, 23, 50, 101, 997];
      for (let pos = 0, k = 0; pos < stream.length; k++) {
        const n = sizes[k % sizes.length] as number;
        got.push(...decoder.push(stream.subarray(pos, Math.min(stream.length, pos + n))));
        pos += n;
      }
      expect(`${name}: ${got.map((f) => `${f.msgType}:${bytesToHex(f.payload)}`).join(",")}`).toBe(
        `${name}: ${frames.map((f) => `${f.msgType}:${bytesToHex(f.payload)}`).join(",")}`,
      );
      // And all in one read.
      const one = new CipherState(key, rx);
      one.setNonce(0xfffffff0n);
      expect(new FrameDecoder(one).push(stream).length).toBe(frames.length);
    }
  });
});

describe("nonces", () => {
  test("a cipher state refuses nonce 2^64−1 with a typed error instead of wrapping", () => {
    const cs = new CipherState(new Uint8Array(32).fill(1));
    cs.setNonce(MAX_NONCE - 2n);
    cs.encryptWithAd(null, new Uint8Array(4));
    expect(cs.nonce).toBe(MAX_NONCE - 1n);
    cs.encryptWithAd(null, new Uint8Array(4)); // 2^64−2 is the last usable nonce
    expect(cs.nonce).toBe(MAX_NONCE);
    let err: unknown = null;
    try {
      cs.encryptWithAd(null, new Uint8Array(4));
    } catch (e) {
      err = e;
    }
    expect(err instanceof NoiseError ? err.code : "none").toBe("nonce-exhausted");
    expect(cs.nonce).toBe(MAX_NONCE);
  });

  test("the 32-bit carry of the counter is exact (2^32−1 → 2^32) and matches the receiver", () => {
    const key = new Uint8Array(32).fill(2);
    const tx = new CipherState(key);
    const rx = new CipherState(key);
    tx.setNonce(0xffffffffn);
    rx.setNonce(0xffffffffn);
    const decoder = new FrameDecoder(rx);
    const frames = decoder.push(encryptFrame(tx, frame(1, 3, 3)));
    expect(frames.length).toBe(1);
    expect(tx.nonce).toBe(0x100000001n);
    expect(rx.nonce).toBe(0x100000001n);
  });

  test("a frame can use the last two usable nonces (2^64−3 for its header, 2^64−2 for its payload)", () => {
    const key = new Uint8Array(32).fill(4);
    const tx = new CipherState(key);
    const rx = new CipherState(key);
    tx.setNonce(MAX_NONCE - 2n);
    rx.setNonce(MAX_NONCE - 2n);
    const frames = new FrameDecoder(rx).push(encryptFrame(tx, frame(1, 40, 3)));
    expect(frames.map((f) => f.payload.length)).toEqual([40]);
    expect(tx.nonce).toBe(MAX_NONCE);
    expect(rx.nonce).toBe(MAX_NONCE);
  });

  test("a frame whose payload would need the reserved nonce fails on the sender side", () => {
    const tx = new CipherState(new Uint8Array(32).fill(3));
    tx.setNonce(MAX_NONCE - 1n); // header takes 2^64−2, payload would need 2^64−1
    let err: unknown = null;
    try {
      encryptFrame(tx, frame(1, 3, 3));
    } catch (e) {
      err = e;
    }
    expect(err instanceof NoiseError ? err.code : "none").toBe("nonce-exhausted");
  });
});

describe("frame size limit", () => {
  test("a header announcing more than maxPayloadLength is refused before its payload arrives", () => {
    const { initiator, responder } = pair({ maxPayloadLength: 1000 });
    handshake(initiator, responder);
    expect(responder.receive(initiator.send(frame(1, 1000, 1))).frames.length).toBe(1);
    const big = initiator.send(frame(2, 1001, 1));
    const out = responder.receive(big.subarray(0, 22)); // header only
    expect(out.error?.code).toBe("frame-too-large");
  });
});
