import { describe, expect, test } from "bun:test";
import { SeenShares } from "../../src/pool/seen-shares.ts";
import { sha256 } from "../../src/bitcoin/hash.ts";

const hashOf = (i: number): Uint8Array => sha256(new Uint8Array([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff]));

describe("SeenShares (duplicate detection by header hash)", () => {
  test("a hash is new once, then a duplicate; distinct hashes are all new", () => {
    const seen = new SeenShares(100_000);
    for (let i = 0; i < 20_000; i++) expect(seen.add(hashOf(i))).toBe(true);
    for (let i = 0; i < 20_000; i++) expect(seen.add(hashOf(i))).toBe(false);
    expect(seen.size).toBe(20_000);
  });

  test("a copy of the hash in another array is still a duplicate", () => {
    const seen = new SeenShares(10);
    const h = hashOf(7);
    expect(seen.add(h)).toBe(true);
    expect(seen.add(h.slice())).toBe(false);
  });

  test("bytes beyond the compared 106 bits, or the 3 ignored high bits of byte 6, do not make a new share", () => {
    const seen = new SeenShares(10);
    const h = hashOf(1);
    expect(seen.add(h)).toBe(true);
    const later = h.slice();
    later[31] = (later[31] as number) ^ 0xff; // bytes 15..31 are not compared
    expect(seen.add(later)).toBe(false);
  });

  test("same first 53 bits but a different second slice: accepted (never a false duplicate), not recorded", () => {
    const seen = new SeenShares(10);
    const a = hashOf(2);
    const b = a.slice();
    b[9] = (b[9] as number) ^ 0x01; // inside the second 53-bit slice
    expect(seen.add(a)).toBe(true);
    expect(seen.add(b)).toBe(true);
    expect(seen.size).toBe(1);
    expect(seen.add(a)).toBe(false);
  });

  test("past its capacity nothing new is recorded, so memory stays bounded", () => {
    const seen = new SeenShares(100);
    for (let i = 0; i < 500; i++) seen.add(hashOf(i));
    expect(seen.size).toBe(100);
    expect(seen.add(hashOf(50))).toBe(false);
    expect(seen.add(hashOf(400))).toBe(true);
  });
});
