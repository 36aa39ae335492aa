// Bitcoin primitive benchmarks: the per-share hot path (header hash, merkle fold, coinbase txid,
// target comparison) and nBits expansion.
// Run directly: `bun bench/bitcoin.ts [--quick] [--json]`.
import { measure, printTable } from "./lib.ts";
import type { Measurement } from "./lib.ts";
import { hexToBytes, u32le } from "../src/bitcoin/bytes.ts";
import { sha256d } from "../src/bitcoin/hash.ts";
import { merkleRootFromPath } from "../src/bitcoin/merkle.ts";
import { assembleCoinbase, buildCoinbaseParts, sv2CoinbaseTag } from "../src/bitcoin/coinbase.ts";
import { witnessCommitmentScript } from "../src/bitcoin/witness.ts";
import { bip34HeightScript } from "../src/bitcoin/script.ts";
import { hashMeetsTarget, nbitsToTarget, targetToLeBytes } from "../src/bitcoin/target.ts";

function ns(m: Measurement): number {
  return Math.round(m.nsPerOp * 10) / 10;
}

export async function run(opts: { quick?: boolean } = {}): Promise<Record<string, number>> {
  const ms = opts.quick ? 150 : 1000;
  const rows: Measurement[] = [];
  const figures: Record<string, number> = {};
  const add = (key: string, label: string, fn: () => unknown): void => {
    const m = measure(label, fn, ms);
    rows.push(m);
    figures[key] = ns(m);
  };

  // Block 100000's header.
  const header = hexToBytes(
    "0100000050120119172a610421a6c3011dd330d9df07b63616c2cc1f1cd00200000000006657a9252aacd5c0b2940996ecff952228c3067cc38d4885efb5a4ac4247e9f337221b4d4c86041b0f2b5710",
  );
  // Vary the nonce so no layer can cache the result.
  let nonce = 0;
  add("sha256d_header_ns", "sha256d of an 80-byte header", () => {
    header[76] = nonce++ & 0xff;
    return sha256d(header);
  });

  // Reference only (printed, not returned): Bun's native hasher called directly, to show what the
  // wrapper in src/bitcoin/hash.ts costs on top of it.
  const native = Bun.SHA256;
  rows.push(
    measure("(reference) Bun.SHA256.hash twice, no wrapper", () => {
      header[76] = nonce++ & 0xff;
      const out = new Uint8Array(32);
      native.hash(header, out);
      native.hash(out, out);
      return out;
    }, ms),
  );

  // A 12-entry path: a block of ~4096 transactions.
  const path = Array.from({ length: 12 }, (_, i) => sha256d(u32le(i)));
  const leaf = sha256d(u32le(0xc0ffee));
  add("merkle_root_12deep_ns", "merkleRootFromPath (12 branches)", () => merkleRootFromPath(leaf, path));

  // An SV2 pool coinbase: BIP34 height, pool tag, 32-byte extranonce, P2WPKH payout + commitment.
  const parts = buildCoinbaseParts({
    version: 2,
    scriptSigPrefix: bip34HeightScript(900_000),
    tag: sv2CoinbaseTag("Stratum V2 SRI Pool", "farm-01"),
    extranonceLength: 32,
    sequence: 0xffffffff,
    outputs: [
      { value: 312_500_000n, script: hexToBytes("0014ebe1b7dcc293ccaa0ee743a86f89df8258c208fc") },
      { value: 0n, script: witnessCommitmentScript(new Uint8Array(32).fill(0xe2)) },
    ],
    locktime: 899_999,
    segwit: true,
  });
  const extranonce = new Uint8Array(32);
  const coinbaseSize = parts.prefix.length + extranonce.length + parts.suffix.length;
  let counter = 0;
  add("coinbase_txid_ns", `assembleCoinbase + sha256d (${coinbaseSize} B coinbase)`, () => {
    extranonce[31] = counter++ & 0xff;
    return sha256d(assembleCoinbase(parts.prefix, extranonce, parts.suffix));
  });

  const bitsList = [0x1d00ffff, 0x170ed0eb, 0x1e0377ae, 0x207fffff];
  let b = 0;
  add("nbits_to_target_ns", "nbitsToTarget", () => nbitsToTarget(bitsList[b++ & 3] as number));

  // A share hash that matches the target's top bytes, so the comparison walks several bytes.
  const target = targetToLeBytes(nbitsToTarget(0x170ed0eb));
  const hashes = [0, 1, 2, 3].map((i) => {
    const h = target.slice();
    h[20] = (h[20] as number) ^ (i + 1);
    return h;
  });
  let k = 0;
  add("hash_meets_target_ns", "hashMeetsTarget (32-byte LE compare)", () => hashMeetsTarget(hashes[k++ & 3] as Uint8Array, target));

  printTable(rows);
  return figures;
}

if (import.meta.main) {
  const figures = await run({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
}
