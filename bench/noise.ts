// Encrypted transport benchmarks: AEAD candidates, whole-frame round trips through the transport,
// responder handshakes per second on one core, and the handshake's cost split.
// Run directly: `bun bench/noise.ts [--quick]`.
import { measure, printTable } from "./lib.ts";
import type { Measurement } from "./lib.ts";
import { nobleAead } from "../src/noise/aead.ts";
import type { AeadProvider } from "../src/noise/aead.ts";
import { pureAead } from "../src/noise/chacha20poly1305.ts";
import { loadSodiumAead } from "../src/noise/native/sodium.ts";
import { compileTccAead } from "../src/noise/native/tcc.ts";
import { CipherState, defaultAeadProvider } from "../src/noise/cipher-state.ts";
import { FrameDecoder, encryptFrame } from "../src/noise/transport.ts";
import { InitiatorHandshake, ResponderHandshake, createResponderIdentity } from "../src/noise/handshake.ts";
import {
  ellswiftDecodeX,
  ellswiftEncode,
  generateEllSwiftKeyPair,
  prepareEllSwift,
  randomSecretKey,
  taggedEcdhHash,
  xonlyPublicKey,
} from "../src/noise/ellswift.ts";
import { multiplyXonly, multiplyXonlyPair, preparePoint, scalarFromBytes } from "../src/noise/scalar-mult.ts";
import { useEcWasm } from "../src/noise/wasm/secp256k1.ts";
import { loadWasmAead } from "../src/noise/wasm/aead.ts";
import { nativeSecp256k1, useNativeSecp256k1 } from "../src/noise/native/secp256k1.ts";
import { generateAuthorityKeyPair } from "../src/noise/keys.ts";
import { encodeCertificate, signCertificate, verifyCertificate } from "../src/noise/certificate.ts";
import { SymmetricState } from "../src/noise/symmetric-state.ts";
import { secp256k1 } from "@noble/curves/secp256k1.js";

/** Encrypt + decrypt of one whole SV2 frame (header + payload) through the transport. */
function frameRoundTrip(provider: AeadProvider, payloadLength: number, ms: number, label: string): Measurement {
  const key = new Uint8Array(32).fill(0x42);
  const tx = new CipherState(key, provider);
  const decoder = new FrameDecoder(new CipherState(key, provider));
  const frame = { extensionType: 0x8000, msgType: 0x1b, payload: new Uint8Array(payloadLength).fill(7) };
  return measure(label, () => {
    const frames = decoder.push(encryptFrame(tx, frame));
    if (frames.length !== 1) throw new Error("round trip lost a frame");
    return frames;
  }, ms);
}

function us(m: Measurement): number {
  return Math.round(m.nsPerOp / 10) / 100;
}

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const ms = opts.quick ? 150 : 1000;
  const hsMs = opts.quick ? 400 : 3000;
  const figures: Record<string, number> = {};
  const rows: Measurement[] = [];

  // AEAD candidates, each through the same transport code.
  const candidates: AeadProvider[] = [pureAead, nobleAead];
  const wasmAead = loadWasmAead();
  if (wasmAead) candidates.push(wasmAead);
  const sodium = loadSodiumAead();
  if (sodium) candidates.push(sodium);
  const tccStart = performance.now();
  const tcc = compileTccAead();
  const tccCompileMs = performance.now() - tccStart;
  if (tcc) {
    candidates.push(tcc);
    figures.aead_tcc_compile_ms = Math.round(tccCompileMs * 10) / 10;
  }
  for (const provider of candidates) {
    const small = frameRoundTrip(provider, 64, ms, `frame round trip 64 B [${provider.name}]`);
    const large = frameRoundTrip(provider, 1400, ms, `frame round trip 1400 B [${provider.name}]`);
    rows.push(small, large);
    const key = provider.name.replace(/[^a-z0-9]/g, "");
    figures[`aead_${key}_roundtrip_64b_us`] = us(small);
    figures[`aead_${key}_roundtrip_1400b_us`] = us(large);
  }
  figures.aead_roundtrip_64b_us = figures[`aead_${defaultAeadProvider.name.replace(/[^a-z0-9]/g, "")}_roundtrip_64b_us`] as number;
  figures.aead_roundtrip_1400b_us = figures[`aead_${defaultAeadProvider.name.replace(/[^a-z0-9]/g, "")}_roundtrip_1400b_us`] as number;

  // Handshake pieces.
  const authority = generateAuthorityKeyPair();
  const identity = createResponderIdentity({ authoritySecret: authority.secret, nowSec: Date.now() / 1000 });
  const initiatorKey = generateEllSwiftKeyPair();
  const act1 = initiatorKey.encoding;
  const secret = randomSecretKey();
  const xonly = xonlyPublicKey(secret);
  const remote = prepareEllSwift(act1);
  const d = scalarFromBytes(secret);
  const d2 = scalarFromBytes(identity.staticKey.secret);
  // The same remote point as a noble Point (even y), for the reference figures.
  const remoteNoble = secp256k1.Point.fromHex(`02${remote.x.toString(16).padStart(64, "0")}`);

  // The default path is libsecp256k1 through FFI where installed, else WebAssembly (src/noise/wasm);
  // the WebAssembly-only and bigint paths are measured too, for comparison.
  const native = nativeSecp256k1();
  figures.ec_native_libsecp256k1 = native === null ? 0 : 1;
  const withoutNative = <T>(fn: () => T): T => {
    useNativeSecp256k1(false);
    try {
      return fn();
    } finally {
      useNativeSecp256k1(true);
    }
  };
  const withoutWasm = <T>(fn: () => T): T =>
    withoutNative(() => {
      useEcWasm(false);
      try {
        return fn();
      } finally {
        useEcWasm(true);
      }
    });
  const remoteBigint = withoutWasm(() => prepareEllSwift(act1));
  const remoteWasm = withoutNative(() => prepareEllSwift(act1));

  const steps: [string, string, () => unknown][] = [
    ["keygen_us", `keygen: x(secret·G) [${native === null ? "WebAssembly" : "libsecp256k1"}]`, () => xonlyPublicKey(randomSecretKey())],
    ["keygen_noble_us", "keygen reference: noble getPublicKey", () => secp256k1.getPublicKey(secret)],
    ["ellswift_encode_us", "ellswift encode (x → 64 B)", () => ellswiftEncode(xonly)],
    ["ellswift_decode_us", "ellswift decode (64 B → x)", () => ellswiftDecodeX(act1)],
    ["ecdh_prepare_us", "ECDH prepare (x → table)", () => preparePoint(remote.x, true)],
    ["ecdh_multiply_us", "ECDH multiply (own GLV, prepared)", () => multiplyXonly(remote, d)],
    ["ecdh_pair_us", `ECDH pair (responder: ee + es) [${native === null ? "WebAssembly" : "libsecp256k1"}]`, () => multiplyXonlyPair(remote, d, d2)],
    ["keygen_wasm_us", "keygen, WebAssembly path", () => withoutNative(() => xonlyPublicKey(randomSecretKey()))],
    ["ecdh_pair_wasm_us", "ECDH pair, WebAssembly path", () => withoutNative(() => multiplyXonlyPair(remoteWasm, d, d2))],
    ["keygen_bigint_us", "keygen, bigint path (WebAssembly off)", () => withoutWasm(() => xonlyPublicKey(randomSecretKey()))],
    ["ellswift_encode_bigint_us", "ellswift encode, bigint path", () => withoutWasm(() => ellswiftEncode(xonly))],
    ["ecdh_pair_bigint_us", "ECDH pair, bigint path", () => withoutWasm(() => multiplyXonlyPair(remoteBigint, d, d2))],
    ["ecdh_noble_multiply_us", "ECDH reference: noble multiply", () => remoteNoble.multiply(d)],
    ["ecdh_noble_multiply_unsafe_us", "ECDH reference: noble multiplyUnsafe", () => remoteNoble.multiplyUnsafe(d)],
    ["ecdh_tagged_hash_us", "tagged ECDH hash", () => taggedEcdhHash(act1, act1, xonly)],
    [
      "symmetric_state_us",
      "symmetric state: 5 MixHash + 2 MixKey + 2 AEAD + split",
      () => {
        const ss = new SymmetricState(undefined, undefined);
        ss.mixHash(act1);
        ss.mixHash(new Uint8Array(0));
        ss.mixHash(act1);
        ss.mixKey(xonly);
        ss.encryptAndHash(act1);
        ss.mixKey(xonly);
        ss.encryptAndHash(encodeCertificate(identity.certificate));
        return ss.split();
      },
    ],
    [
      "certificate_sign_us",
      "certificate sign (pool start-up / renewal)",
      () => signCertificate({ authoritySecret: authority.secret, staticXonly: xonly, validFrom: 1, notValidAfter: 2 }),
    ],
    ["certificate_verify_us", "certificate verify (initiator)", () => verifyCertificate(identity.certificate, identity.staticXonly, authority.xonly, Date.now() / 1000)],
  ];
  for (const [name, label, fn] of steps) {
    const m = measure(label, fn, ms);
    rows.push(m);
    figures[name] = us(m);
  }

  // Whole responder handshakes: with the ephemeral key generated inline, and pre-generated.
  const responderFull = measure("responder handshake (ephemeral generated inline)", () => new ResponderHandshake({ identity }).respond(act1), hsMs);
  const pregenerated = Array.from({ length: 256 }, () => generateEllSwiftKeyPair());
  let next = 0;
  const responderPregen = measure("responder handshake (pre-generated ephemeral)", () => {
    const ephemeralKey = pregenerated[next++ & 255];
    return new ResponderHandshake({ identity, ephemeralKey }).respond(act1);
  }, hsMs);
  // The same act 2 answers every initiator that uses the same ephemeral key.
  const act2 = new ResponderHandshake({ identity, ephemeralKey: pregenerated[0] }).respond(act1).act2;
  const nowSec = Math.floor(Date.now() / 1000);
  const initiator = measure("initiator handshake (start + finish, verify cert)", () => {
    const i = new InitiatorHandshake({ authorityXonly: authority.xonly, ephemeralKey: initiatorKey });
    i.start();
    return i.finish(act2, nowSec);
  }, hsMs);
  rows.push(responderFull, responderPregen, initiator);
  figures.handshakes_per_sec = Math.round(responderFull.opsPerSec);
  figures.handshakes_per_sec_pregenerated_ephemeral = Math.round(responderPregen.opsPerSec);
  figures.responder_handshake_us = us(responderFull);
  figures.responder_handshake_pregenerated_us = us(responderPregen);
  figures.initiator_handshake_us = us(initiator);

  printTable(rows);
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(48)} ${v}`);
  return figures;
}

if (import.meta.main) {
  await run({ quick: process.argv.includes("--quick") });
}
