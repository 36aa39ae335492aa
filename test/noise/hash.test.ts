// The handshake's SHA-256/HMAC (Bun native when available) against @noble/hashes and RFC 4231.
import { expect, test } from "bun:test";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { SHA256_IMPLEMENTATION, hmacSha256, sha256 } from "../../src/noise/hash.ts";
import { seededRandom } from "./helpers.ts";

test("runs on Bun's native SHA-256 here", () => {
  expect(SHA256_IMPLEMENTATION).toBe("bun");
});

test("SHA-256 of split inputs equals @noble/hashes on the joined input", () => {
  const rng = seededRandom(8);
  for (let len = 0; len < 300; len += 7) {
    const a = rng(len);
    const b = rng(len % 50);
    const joined = new Uint8Array(a.length + b.length);
    joined.set(a);
    joined.set(b, a.length);
    expect(bytesToHex(sha256(a, b))).toBe(bytesToHex(nobleSha256(joined)));
    expect(bytesToHex(sha256(a))).toBe(bytesToHex(nobleSha256(a)));
  }
});

test("HMAC-SHA256: RFC 4231 test cases 1, 2 and 6 (key longer than a block), and random keys", () => {
  expect(bytesToHex(hmacSha256(new Uint8Array(20).fill(0x0b), new TextEncoder().encode("Hi There")))).toBe(
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  );
  expect(bytesToHex(hmacSha256(new TextEncoder().encode("Jefe"), new TextEncoder().encode("what do ya want for nothing?")))).toBe(
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  expect(
    bytesToHex(hmacSha256(new Uint8Array(131).fill(0xaa), new TextEncoder().encode("Test Using Larger Than Block-Size Key - Hash Key First"))),
  ).toBe("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  const rng = seededRandom(10);
  for (let i = 0; i < 50; i++) {
    const key = rng(i < 25 ? 32 : i);
    const msg = rng(i * 3);
    expect(bytesToHex(hmacSha256(key, msg.subarray(0, i), msg.subarray(i)))).toBe(bytesToHex(hmac(nobleSha256, key, msg)));
  }
});
