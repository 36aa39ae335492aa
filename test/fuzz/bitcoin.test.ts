// Fuzzing the Bitcoin decoders: payout addresses (decodeAddress: only AddressError), output scripts
// (scriptToAddress: never throws) and real mainnet blocks and their transactions mutated
// (parseBlock / parseTransaction: only StratumV2Error), seeded and reproducible (see lib.ts).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { AddressError, decodeAddress, scriptToAddress } from "../../src/bitcoin/address.ts";
import { parseBlock, serializeBlock } from "../../src/bitcoin/block.ts";
import { equalBytes, hexToBytes } from "../../src/bitcoin/bytes.ts";
import { NETWORKS, type Network } from "../../src/bitcoin/network.ts";
import { parseTransaction, serializeTransaction } from "../../src/bitcoin/tx.ts";
import { sharedPath, readSharedJson } from "../helpers/shared.ts";
import { countOutcomes, fuzzCount, hexOf, instanceOf, REPLAYING, runFuzz, stratumError } from "./lib.ts";
import { mutateBytes, mutateText } from "./mutate.ts";

const FILE = "test/fuzz/bitcoin.test.ts";
const NETWORK_NAMES = Object.keys(NETWORKS) as Network[];

interface KeyIoVector {
  address: string;
  script: string;
}

const ADDRESSES: string[] = JSON.parse(readFileSync(new URL("../bitcoin/fixtures/address-key-io-valid.json", import.meta.url), "utf8")).vectors.map(
  (v: KeyIoVector) => v.address,
);
const BECH32_CHARS = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BASE58_CHARS = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const ADDRESS_TOKENS = ["bc1", "tb1", "bcrt1", "BC1", "1", "3", "m", "n", "2", "0", "O", "I", "l", "bc1p", "bc1q", " ", "\u200b"];

const N_ADDRESS = fuzzCount(25_000);
test(`fuzz decodeAddress: ${N_ADDRESS} mutated addresses on every network throw only AddressError`, async () => {
  const stats = await runFuzz<{ address: string; network: Network }>({
    name: "decodeAddress",
    file: FILE,
    count: N_ADDRESS,
    generate: (rng) => {
      const network = rng.pick(NETWORK_NAMES);
      if (rng.int(20) === 0) return { input: { address: rng.pick(ADDRESSES), network }, label: "valid" };
      const base = rng.pick(ADDRESSES);
      const m = mutateText(rng, base, { alphabet: rng.bool() ? BECH32_CHARS : BASE58_CHARS, tokens: ADDRESS_TOKENS, corpus: ADDRESSES });
      return { input: { address: m.value, network }, label: m.label };
    },
    run: ({ address, network }) => {
      const d = decodeAddress(address, network);
      // A decoded address always has a script, and decoding it back gives an address (for known types).
      if (!(d.script instanceof Uint8Array) || d.script.length === 0) throw new Error("decoded address without a script");
      return `ok:${d.type}`;
    },
    classify: instanceOf(AddressError, (e) => (e as AddressError).reason),
    show: ({ address, network }) => `${network} ${JSON.stringify(address)}`,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_ADDRESS);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "ok:")).toBeGreaterThan(N_ADDRESS / 50);
    expect(countOutcomes(stats, "error:AddressError")).toBeGreaterThan(N_ADDRESS / 2);
  }
});

const N_SCRIPT = fuzzCount(20_000);
test(`fuzz scriptToAddress: ${N_SCRIPT} random and mutated output scripts never throw`, async () => {
  const scripts: Uint8Array[] = JSON.parse(readFileSync(new URL("../bitcoin/fixtures/address-key-io-valid.json", import.meta.url), "utf8")).vectors.map((v: KeyIoVector) =>
    hexToBytes(v.script),
  );
  const stats = await runFuzz<{ script: Uint8Array; network: Network }>({
    name: "scriptToAddress",
    file: FILE,
    count: N_SCRIPT,
    generate: (rng) => {
      const network = rng.pick(NETWORK_NAMES);
      if (rng.int(8) === 0) return { input: { script: rng.bytes(rng.int(60)), network }, label: "random" };
      const m = mutateBytes(rng, rng.pick(scripts), { corpus: scripts, lengthFields: (b) => (b.length > 1 ? [{ offset: 1, size: 1 }] : []) });
      return { input: { script: m.value, network }, label: m.label };
    },
    run: ({ script, network }) => {
      const a = scriptToAddress(script, network);
      if (a === null) return "null";
      // Whatever it names must decode back to the same script.
      const back = decodeAddress(a, network).script;
      if (!equalBytes(back, script)) throw new Error(`scriptToAddress gave ${a}, which decodes to ${hexOf(back)}`);
      return "address";
    },
    // scriptToAddress promises no throws at all.
    classify: () => null,
    show: ({ script, network }) => `${network} ${hexOf(script)}`,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_SCRIPT);
});

interface BlockIndex {
  blocks: { file: string; height: number }[];
}

function loadBlocks(maxHexLength: number): Uint8Array[] {
  const index = readSharedJson<BlockIndex>("bitcoin", "blocks", "index.json");
  const out: Uint8Array[] = [];
  for (const b of index.blocks) {
    const hex = readFileSync(sharedPath("bitcoin", "blocks", b.file), "utf8").trim();
    if (hex.length <= maxHexLength) out.push(hexToBytes(hex));
  }
  return out;
}

/** Length fields of a block: its transaction count, each transaction's counts and script lengths. */
function blockLengthFields(b: Uint8Array): { offset: number; size: 1 }[] {
  // A cheap approximation: CompactSize bytes sit at the tx count (offset 80) and all over each
  // transaction; offering offset 80 plus random offsets (the mutator's default) covers both.
  return b.length > 81 ? [{ offset: 80, size: 1 }] : [];
}

const N_BLOCK = fuzzCount(6_000);
test(`fuzz parseBlock: ${N_BLOCK} mutated mainnet blocks throw only StratumV2Error`, async () => {
  // The small blocks (up to ~4 KB) take most iterations; the big ones (up to 1.4 MB) a few.
  const small = loadBlocks(10_000);
  const big = loadBlocks(3_000_000).filter((b) => b.length > 5_000);
  expect(small.length).toBeGreaterThanOrEqual(4);
  expect(big.length).toBeGreaterThanOrEqual(3);
  const stats = await runFuzz<Uint8Array>({
    name: "parseBlock",
    file: FILE,
    count: N_BLOCK,
    generate: (rng) => {
      const corpus = rng.int(50) === 0 ? big : small;
      const base = rng.pick(corpus);
      if (rng.int(30) === 0) return { input: base, label: "valid" };
      const m = mutateBytes(rng, base, { corpus: small, lengthFields: blockLengthFields });
      return { input: m.value, label: m.label };
    },
    run: (bytes) => {
      const block = parseBlock(bytes);
      // What parses re-serializes to bytes that parse to the same serialization (a stable form).
      const again = serializeBlock(block);
      if (!equalBytes(serializeBlock(parseBlock(again)), again)) throw new Error("block re-serialization is not stable");
      return equalBytes(again, bytes) ? "parsed" : "parsed-noncanonical";
    },
    classify: stratumError(),
    show: (b) => hexOf(b, 400),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_BLOCK);
  if (!REPLAYING) expect(countOutcomes(stats, "error:")).toBeGreaterThan(N_BLOCK / 2);
});

const N_TX = fuzzCount(30_000);
test(`fuzz parseTransaction: ${N_TX} mutated real transactions throw only StratumV2Error`, async () => {
  const txs: Uint8Array[] = [];
  for (const b of loadBlocks(10_000)) for (const tx of parseBlock(b).transactions) txs.push(serializeTransaction(tx, true));
  expect(txs.length).toBeGreaterThan(10);
  const stats = await runFuzz<Uint8Array>({
    name: "parseTransaction",
    file: FILE,
    count: N_TX,
    generate: (rng) => {
      if (rng.int(20) === 0) return { input: rng.bytes(rng.int(120)), label: "random" };
      const m = mutateBytes(rng, rng.pick(txs), {
        corpus: txs,
        // version (4 bytes), then the input count or the segwit marker.
        lengthFields: (b) => (b.length > 6 ? [{ offset: 4, size: 1 }, { offset: 5, size: 1 }] : []),
      });
      return { input: m.value, label: m.label };
    },
    run: (bytes) => {
      const tx = parseTransaction(bytes);
      const again = serializeTransaction(tx, true);
      // Not always byte-identical (a witness flag with empty witnesses is refused, so it is), but
      // what parses must re-parse to the same serialization.
      const twice = serializeTransaction(parseTransaction(again), true);
      if (!equalBytes(twice, again)) throw new Error("re-serialization is not stable");
      return equalBytes(again, bytes) ? "parsed" : "parsed-noncanonical";
    },
    classify: stratumError(),
    show: (b) => hexOf(b, 600),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_TX);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "parsed")).toBeGreaterThan(N_TX / 100);
    expect(countOutcomes(stats, "error:")).toBeGreaterThan(N_TX / 2);
  }
});
