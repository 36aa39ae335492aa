/**
 * BIP324 ElligatorSwift: 64-byte encodings u‖t of secp256k1 x coordinates that look like random
 * bytes, and the x-only ECDH on them that SV2's Noise handshake uses.
 *
 * Written from the BIP324 specification (the XSwiftEC map, its inverse, and the encoding loop);
 * every function is checked against the BIP's CSV vectors in test/noise/ellswift.test.ts.
 */
import { sha256 } from "./hash.ts";
import { randomBytes } from "@noble/hashes/utils.js";
import { N, P, add, bigIntTo32Bytes, bytesToBigInt, inv, isSquare, isValidX, mod, mul, neg, sqr, sqrt, sub } from "./field.ts";
import { multiplyXonly, multiplyXonlyPair, preparePoint, scalarFromBytes } from "./scalar-mult.ts";
import { nativeSecp256k1 } from "./native/secp256k1.ts";
import { baseMultiplyXonly } from "./base-mult.ts";
import { IO_IN, IO_IN2, IO_OUT, ecWasm } from "./wasm/secp256k1.ts";
import type { Secp256k1Wasm } from "./wasm/secp256k1.ts";
import type { PreparedPoint } from "./scalar-mult.ts";

/** Source of random bytes; injectable so handshakes can be replayed from fixed vectors. */
export type RandomSource = (length: number) => Uint8Array;

export const defaultRandom: RandomSource = (length) => randomBytes(length);

/** √−3 mod p (the constant of the XSwiftEC map). */
const SQRT_MINUS_3 = sqrt(P - 3n) as bigint;
/** (√−3 − 1) / 2, the constant of the inverse map. */
const C_INV = mul(sub(SQRT_MINUS_3, 1n), inv(2n));
const INV_2 = inv(2n);

/**
 * XSwiftEC(u, t): the x coordinate a pair of field elements decodes to (always a valid x).
 * Inputs are reduced mod p first, as the BIP's decoder does with 32-byte values.
 *
 * The BIP's formulas divide three times; here every candidate is kept as a fraction A/B and the
 * curve test is made on A and B directly (B is a square, or B is multiplied in to make the
 * denominator a square), so only the chosen candidate costs an inversion.
 */
export function xswiftec(uIn: bigint, tIn: bigint): bigint {
  let u = mod(uIn);
  let t = mod(tIn);
  if (u === 0n) u = 1n;
  if (t === 0n) t = 1n;
  const u2 = sqr(u);
  const u3plus7 = add(mul(u2, u), 7n);
  let t2 = sqr(t);
  if (add(u3plus7, t2) === 0n) {
    t = add(t, t);
    t2 = sqr(t);
  }
  // X = n / 2t and X + t = m / 2t, so Y = (X + t) / (√−3·u) = m / (2t·√−3·u).
  const n = sub(u3plus7, t2);
  const m = add(n, add(t2, t2));
  // x1 = u + 4Y² = (u·q + m²) / q with q = (t·√−3·u)² = −3·t²·u², a non-zero square.
  const q = neg(mul(3n, mul(t2, u2)));
  const a1 = add(mul(u, q), sqr(m));
  if (isSquare(add(mul(sqr(a1), a1), mul(7n, mul(sqr(q), q))))) return mul(a1, inv(q));
  // X / Y = n·√−3·u / m; x2 = (−X/Y − u) / 2 = −u(n√−3 + m) / 2m, x3 = (X/Y − u) / 2 = u(n√−3 − m) / 2m.
  const nc = mul(n, SQRT_MINUS_3);
  const b23 = add(m, m);
  const a2 = neg(mul(u, add(nc, m)));
  // x2³ + 7 = (a2³ + 7·b³) / b³: a square exactly when (a2³ + 7·b³)·b is.
  const b3times7 = mul(7n, mul(sqr(b23), b23));
  if (isSquare(mul(add(mul(sqr(a2), a2), b3times7), b23))) return mul(a2, inv(b23));
  // The map guarantees that one of the three is on the curve.
  return mul(mul(u, sub(nc, m)), inv(b23));
}

/**
 * The inverse map: a t with XSwiftEC(u, t) = x, or null. `c` (0..7) picks one of up to eight
 * preimages; the encoder tries random (u, c) until one exists.
 */
export function xswiftecInv(u: bigint, x: bigint, c: number): bigint | null {
  let v: bigint;
  let s: bigint;
  const u2 = sqr(u);
  const u3plus7 = add(mul(u2, u), 7n);
  if ((c & 2) === 0) {
    // Cases 0, 1, 4, 5 need −x−u not to be a valid x (otherwise the decoder would stop earlier).
    const minusXminusU = sub(neg(x), u);
    if (isValidX(minusXminusU)) return null;
    v = (c & 1) === 0 ? x : minusXminusU;
    const denom = add(add(u2, mul(u, v)), sqr(v));
    if (denom === 0n) return null;
    s = neg(mul(u3plus7, inv(denom)));
  } else {
    s = sub(x, u);
    if (s === 0n) return null;
    // r = √(−s·(4(u³ + 7) + 3·s·u²))
    const inner = add(mul(4n, u3plus7), mul(mul(3n, s), u2));
    let r = sqrt(neg(mul(s, inner)));
    if (r === null) return null;
    if ((c & 1) !== 0) {
      if (r === 0n) return null;
      r = neg(r);
    }
    v = mul(sub(mul(r, inv(s)), u), INV_2);
  }
  let w = sqrt(s);
  if (w === null) return null;
  if ((c & 4) !== 0) w = neg(w);
  return mul(w, sub(mul(u, C_INV), v));
}

/**
 * xswiftecInv up to the sign of t, with a single inversion and only when a solution exists
 * (the reference divides before knowing). In cases 0, 1, 4, 5 the square root is taken of
 * −(u³+7)·den instead of −(u³+7)/den, which may give the other root: t then comes out negated.
 * Both t and −t are preimages of x and the case's bit 2 flips that sign anyway, so a uniformly
 * drawn case still yields a uniformly random encoding. Used by the encoder, not for the vectors.
 */
export function xswiftecInvUnnormalized(u: bigint, x: bigint, c: number): bigint | null {
  const u2 = sqr(u);
  const u3plus7 = add(mul(u2, u), 7n);
  if ((c & 2) === 0) {
    const minusXminusU = sub(neg(x), u);
    if (isValidX(minusXminusU)) return null;
    const v = (c & 1) === 0 ? x : minusXminusU;
    const den = add(add(u2, mul(u, v)), sqr(v));
    if (den === 0n) return null;
    // √s with s = −(u³+7)/den is ±√(−(u³+7)·den)/den.
    let w = sqrt(neg(mul(u3plus7, den)));
    if (w === null) return null;
    if ((c & 4) !== 0) w = neg(w);
    return mul(mul(w, sub(mul(u, C_INV), v)), inv(den));
  }
  const s = sub(x, u);
  if (s === 0n) return null;
  let r = sqrt(neg(mul(s, add(mul(4n, u3plus7), mul(mul(3n, s), u2)))));
  if (r === null) return null;
  if ((c & 1) !== 0) {
    if (r === 0n) return null;
    r = neg(r);
  }
  let w = sqrt(s);
  if (w === null) return null;
  if ((c & 4) !== 0) w = neg(w);
  // u·C − v with v = (r/s − u)/2 is (2s·u·C − r + s·u) / 2s.
  const num = add(sub(mul(add(s, s), mul(u, C_INV)), r), mul(s, u));
  return mul(mul(w, num), inv(add(s, s)));
}

/** Decodes a 64-byte ElligatorSwift encoding to its 32-byte x coordinate (any 64 bytes decode). */
export function ellswiftDecode(encoding: Uint8Array): Uint8Array {
  return bigIntTo32Bytes(ellswiftDecodeX(encoding));
}

/**
 * XSwiftEC in secp256k1.c (Legendre-symbol square tests instead of exponentiations): the x
 * coordinate as a view of the module's output, valid until its next call.
 */
function decodeInWasm(w: Secp256k1Wasm, encoding: Uint8Array): Uint8Array {
  w.io.set(encoding.subarray(0, 32), IO_IN);
  w.io.set(encoding.subarray(32, 64), IO_IN2);
  w.decode();
  return w.io.subarray(IO_OUT, IO_OUT + 32);
}

export function ellswiftDecodeX(encoding: Uint8Array): bigint {
  if (encoding.length !== 64) throw new RangeError("ElligatorSwift encoding must be 64 bytes");
  const w = ecWasm();
  if (w !== null) return bytesToBigInt(decodeInWasm(w, encoding), 0);
  return xswiftec(bytesToBigInt(encoding, 0), bytesToBigInt(encoding, 32));
}

/**
 * Encodes an x coordinate: draws u (a non-zero field element) and a case from `rng` until the
 * inverse map has a solution (about four tries on average), giving a uniformly random encoding
 * among those of x.
 */
export function ellswiftEncode(pubkeyX: Uint8Array, rng: RandomSource = defaultRandom): Uint8Array {
  if (pubkeyX.length !== 32) throw new RangeError("x coordinate must be 32 bytes");
  const x = bytesToBigInt(pubkeyX);
  if (x >= P || !isValidX(x)) throw new RangeError("not the x coordinate of a secp256k1 point");
  return encodeValidX(pubkeyX, rng);
}

/** A draw of 32 random bytes is a usable u (1 ≤ u < p) — decided on the bytes unless they start with 0xffffffff or 0x00000000. */
function usableU(draw: Uint8Array): boolean {
  const head = ((draw[0] as number) << 24) | ((draw[1] as number) << 16) | ((draw[2] as number) << 8) | (draw[3] as number);
  if (head !== -1 && head !== 0) return true;
  const u = bytesToBigInt(draw, 0);
  return u !== 0n && u < P;
}

/** The encoding loop for an x already known to be on the curve (a key made here: no check needed). */
function encodeValidX(pubkeyX: Uint8Array, rng: RandomSource): Uint8Array {
  const w = ecWasm();
  const x = w === null ? bytesToBigInt(pubkeyX) : 0n;
  for (;;) {
    const draw = rng(33);
    if (draw.length !== 33) throw new RangeError("random source returned the wrong length");
    if (!usableU(draw)) continue;
    if (w !== null) {
      // One try in secp256k1.c: square tests by the Legendre symbol, a root only when it exists.
      w.io.set(draw.subarray(0, 32), IO_IN);
      w.io.set(pubkeyX, IO_IN2);
      if (!w.encodeTry((draw[32] as number) & 7)) continue;
      const out = new Uint8Array(64);
      out.set(draw.subarray(0, 32), 0);
      out.set(w.io.subarray(IO_OUT, IO_OUT + 32), 32);
      return out;
    }
    const u = bytesToBigInt(draw, 0);
    const t = xswiftecInvUnnormalized(u, x, (draw[32] as number) & 7);
    if (t === null) continue;
    const out = new Uint8Array(64);
    bigIntTo32Bytes(u, out, 0);
    bigIntTo32Bytes(t, out, 32);
    return out;
  }
}

/** x(secret·G) as 32 bytes. */
export function xonlyPublicKey(secret: Uint8Array): Uint8Array {
  // libsecp256k1 takes the bytes as they are (and refuses an invalid key, which scalarFromBytes then reports).
  const fromNative = secret.length === 32 ? (nativeSecp256k1()?.xonlyPublicKey(secret) ?? null) : null;
  return fromNative ?? baseMultiplyXonly(scalarFromBytes(secret));
}

/** The ElligatorSwift encoding of secret·G. */
export function ellswiftCreate(secret: Uint8Array, rng: RandomSource = defaultRandom): Uint8Array {
  return encodeValidX(xonlyPublicKey(secret), rng);
}

/** A secret key with the 64-byte encoding that will be sent for it (computed once, reused). */
export interface EllSwiftKeyPair {
  readonly secret: Uint8Array;
  readonly encoding: Uint8Array;
}

/** A uniformly random secret key in [1, n−1]. */
export function randomSecretKey(rng: RandomSource = defaultRandom): Uint8Array {
  for (;;) {
    const candidate = rng(32);
    const d = bytesToBigInt(candidate);
    if (d !== 0n && d < N) return candidate;
  }
}

export function generateEllSwiftKeyPair(rng: RandomSource = defaultRandom): EllSwiftKeyPair {
  return ellSwiftKeyPairFromSecret(randomSecretKey(rng), rng);
}

/** A key pair for an existing secret (e.g. the pool's static key read from its key file). */
export function ellSwiftKeyPairFromSecret(secret: Uint8Array, rng: RandomSource = defaultRandom): EllSwiftKeyPair {
  return { secret: secret.slice(), encoding: ellswiftCreate(secret, rng) };
}

/** A decoded remote encoding made ready for one or more ECDH computations. */
export function prepareEllSwift(theirEncoding: Uint8Array): PreparedPoint {
  return preparePoint(ellswiftDecodeX(theirEncoding), true);
}

/**
 * The responder's two x-only ECDHs on one remote encoding (ee with its ephemeral secret, es with
 * its static one), 32 bytes each. With libsecp256k1 installed the decoded x goes to it as bytes,
 * straight from the WebAssembly decoder (no bigint round trips on the handshake's hot path).
 */
export function ellswiftEcdhXonlyPair(theirEncoding: Uint8Array, secret1: Uint8Array, secret2: Uint8Array): [Uint8Array, Uint8Array] {
  if (theirEncoding.length !== 64) throw new RangeError("ElligatorSwift encoding must be 64 bytes");
  const native = nativeSecp256k1();
  const w = ecWasm();
  if (native !== null && w !== null) {
    const pair = native.ecdhXonlyPair(decodeInWasm(w, theirEncoding), secret1, secret2);
    if (pair !== null) return pair;
  }
  return multiplyXonlyPair(prepareEllSwift(theirEncoding), scalarFromBytes(secret1), scalarFromBytes(secret2));
}

/** x-only ECDH: x(secret · lift_x(decode(theirEncoding))), 32 bytes. */
export function ellswiftEcdhXonly(secret: Uint8Array, theirEncoding: Uint8Array): Uint8Array {
  return multiplyXonly(prepareEllSwift(theirEncoding), scalarFromBytes(secret));
}

const TAG_HASH = sha256(new TextEncoder().encode("bip324_ellswift_xonly_ecdh"));

/**
 * BIP324 v2_ecdh: SHA256(T ‖ T ‖ E_initiator ‖ E_responder ‖ x) with T = SHA256("bip324_ellswift_xonly_ecdh").
 * The initiator's encoding always comes first, whichever side computes it.
 */
export function v2Ecdh(secret: Uint8Array, ourEncoding: Uint8Array, theirEncoding: Uint8Array, initiating: boolean): Uint8Array {
  if (ourEncoding.length !== 64 || theirEncoding.length !== 64) throw new RangeError("v2Ecdh needs both 64-byte encodings");
  const x = ellswiftEcdhXonly(secret, theirEncoding);
  return initiating ? taggedEcdhHash(ourEncoding, theirEncoding, x) : taggedEcdhHash(theirEncoding, ourEncoding, x);
}

/** The BIP324 tagged hash over (initiator encoding, responder encoding, shared x). */
export function taggedEcdhHash(initiatorEncoding: Uint8Array, responderEncoding: Uint8Array, sharedX: Uint8Array): Uint8Array {
  return sha256(TAG_HASH, TAG_HASH, initiatorEncoding, responderEncoding, sharedX);
}
