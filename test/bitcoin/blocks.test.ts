// Real mainnet blocks (../shared/bitcoin/blocks): parse, hash, merkle root, witness commitment,
// BIP34 height, coinbase merkle path, targets and a byte-exact round trip, each checked against
// the recorded index and against bitcoinjs-lib as an independent implementation.
import { describe, expect, test } from "bun:test";
import { Block as JsBlock } from "bitcoinjs-lib";
import { bytesToHex, hexToBytes, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { compactSizeLength } from "../../src/bitcoin/compactsize.ts";
import { headerHash, serializeHeader } from "../../src/bitcoin/header.ts";
import { parseBlock, serializeBlock, type Block } from "../../src/bitcoin/block.ts";
import { hasWitness, serializeTransaction, txid, wtxid, type Transaction } from "../../src/bitcoin/tx.ts";
import { coinbaseMerklePath, merkleRoot, merkleRootFromPath } from "../../src/bitcoin/merkle.ts";
import { findWitnessCommitment, witnessCommitment, witnessCommitmentScript, witnessMerkleRoot } from "../../src/bitcoin/witness.ts";
import { parseBip34Height } from "../../src/bitcoin/script.ts";
import { hashMeetsTarget, hashToBigInt, nbitsToTarget, targetToLeBytes, targetToNbits } from "../../src/bitcoin/target.ts";
import { StratumV2Error } from "../../src/errors.ts";
import { readSharedJson, readSharedText } from "../helpers/shared.ts";

interface IndexedBlock {
  height: number;
  file: string;
  hash: string;
  prev_hash: string;
  merkle_root: string;
  version: number;
  version_hex: string;
  bits: string;
  bits_int: number;
  time: number;
  nonce: number;
  tx_count: number;
  segwit_tx_count: number;
  size: number;
  stripped_size: number;
  weight: number;
  coinbase_output_total: number;
  bip34_height_in_coinbase: number | null;
  has_witness_commitment: boolean;
  witness_commitment: string | null;
  witness_commitment_script: string | null;
  coinbase_witness_reserved_value: string | null;
}

/** BIP34 activated on mainnet at this height; later coinbases start with the height. */
const BIP34_HEIGHT = 227931;

const index = readSharedJson<{ blocks: IndexedBlock[] }>("bitcoin", "blocks", "index.json").blocks;

interface Loaded {
  hex: string;
  bytes: Uint8Array;
  block: Block;
  txids: Uint8Array[];
  wtxids: Uint8Array[];
}

const cache = new Map<string, Loaded>();
function load(entry: IndexedBlock): Loaded {
  let l = cache.get(entry.file);
  if (l === undefined) {
    const hex = readSharedText("bitcoin", "blocks", entry.file);
    const bytes = hexToBytes(hex);
    const block = parseBlock(bytes);
    l = { hex, bytes, block, txids: block.transactions.map(txid), wtxids: block.transactions.map(wtxid) };
    cache.set(entry.file, l);
  }
  return l;
}

function coinbaseOf(block: Block): Transaction {
  const cb = block.transactions[0];
  if (cb === undefined) throw new Error("block without transactions");
  return cb;
}

test("the index lists every block file, heights ascending", () => {
  expect(index.map((b) => b.height)).toEqual([170, 100000, 277647, 413567, 460281, 542213, 574200, 702861]);
  expect(index.map((b) => b.file)).toEqual(index.map((b) => `${b.height}.hex`));
});

for (const entry of index) {
  describe(`mainnet block ${entry.height}`, () => {
    test("header fields and hash (display order) equal the index", () => {
      const { block } = load(entry);
      const h = block.header;
      expect(internalToDisplayHex(headerHash(h))).toBe(entry.hash);
      expect(internalToDisplayHex(h.prevHash)).toBe(entry.prev_hash);
      expect(internalToDisplayHex(h.merkleRoot)).toBe(entry.merkle_root);
      expect(h.version).toBe(entry.version);
      expect((h.version >>> 0).toString(16).padStart(8, "0")).toBe(entry.version_hex);
      expect(h.bits).toBe(entry.bits_int);
      expect(h.bits.toString(16).padStart(8, "0")).toBe(entry.bits);
      expect(h.time).toBe(entry.time);
      expect(h.nonce).toBe(entry.nonce);
    });

    test("merkle root recomputed from the txids equals the header's", () => {
      const { block, txids } = load(entry);
      expect(bytesToHex(merkleRoot(txids))).toBe(bytesToHex(block.header.merkleRoot));
    });

    test("coinbaseMerklePath + merkleRootFromPath gives the root", () => {
      const { block, txids } = load(entry);
      const path = coinbaseMerklePath(txids.slice(1));
      expect(path.length).toBe(Math.ceil(Math.log2(entry.tx_count)));
      expect(bytesToHex(merkleRootFromPath(txids[0] as Uint8Array, path))).toBe(bytesToHex(block.header.merkleRoot));
    });

    test("serializeBlock round-trips byte-exact; sizes and weight match", () => {
      const { block, bytes, hex } = load(entry);
      const out = serializeBlock(block);
      expect(out.length).toBe(bytes.length);
      expect(bytesToHex(out) === hex).toBe(true);
      expect(bytes.length).toBe(entry.size);
      let stripped = 80 + compactSizeLength(block.transactions.length);
      for (const tx of block.transactions) stripped += serializeTransaction(tx, false).length;
      expect(stripped).toBe(entry.stripped_size);
      expect(3 * stripped + bytes.length).toBe(entry.weight);
    });

    test("tx, txid and wtxid counts", () => {
      const { block, txids, wtxids } = load(entry);
      expect(block.transactions.length).toBe(entry.tx_count);
      expect(block.transactions.filter(hasWitness).length).toBe(entry.segwit_tx_count);
      expect(new Set(txids.map(bytesToHex)).size).toBe(entry.tx_count);
      expect(new Set(wtxids.map(bytesToHex)).size).toBe(entry.tx_count);
      // wtxid differs from txid exactly for the transactions that carry a witness.
      const differing = txids.filter((t, i) => bytesToHex(t) !== bytesToHex(wtxids[i] as Uint8Array)).length;
      expect(differing).toBe(entry.segwit_tx_count);
    });

    test("coinbase output total", () => {
      const cb = coinbaseOf(load(entry).block);
      expect(cb.outputs.reduce((s, o) => s + o.value, 0n)).toBe(BigInt(entry.coinbase_output_total));
      expect(cb.inputs.length).toBe(1);
      expect(bytesToHex(cb.inputs[0]?.prevTxid ?? new Uint8Array(0))).toBe("00".repeat(32));
      expect(cb.inputs[0]?.prevVout).toBe(0xffffffff);
    });

    test("witness commitment", () => {
      const { block, wtxids } = load(entry);
      const cb = coinbaseOf(block);
      const found = findWitnessCommitment(cb);
      if (!entry.has_witness_commitment) {
        expect(found).toBeNull();
        expect(entry.segwit_tx_count).toBe(0);
        return;
      }
      expect(found === null ? null : bytesToHex(found)).toBe(entry.witness_commitment);
      const reserved = cb.inputs[0]?.witness[0];
      expect(cb.inputs[0]?.witness.length).toBe(1);
      expect(reserved === undefined ? null : bytesToHex(reserved)).toBe(entry.coinbase_witness_reserved_value);
      const commitment = witnessCommitment(witnessMerkleRoot(wtxids), reserved);
      expect(bytesToHex(commitment)).toBe(entry.witness_commitment ?? "");
      expect(bytesToHex(witnessCommitmentScript(commitment))).toBe(entry.witness_commitment_script ?? "");
      // The commitment is also one of the coinbase outputs' scripts, verbatim.
      expect(cb.outputs.some((o) => bytesToHex(o.script) === entry.witness_commitment_script)).toBe(true);
    });

    test("BIP34 height in the coinbase", () => {
      const scriptSig = coinbaseOf(load(entry).block).inputs[0]?.scriptSig ?? new Uint8Array(0);
      const parsed = parseBip34Height(scriptSig);
      if (entry.height >= BIP34_HEIGHT) {
        expect(parsed).toBe(entry.height);
        expect(entry.bip34_height_in_coinbase).toBe(entry.height);
      } else {
        // Early miners pushed nBits first: a number, but not the height.
        expect(entry.bip34_height_in_coinbase).toBeNull();
        expect(parsed).toBe(entry.bits_int);
      }
    });

    test("nBits round-trips; the hash meets its target and misses target = hash - 1", () => {
      const { block } = load(entry);
      const target = nbitsToTarget(block.header.bits);
      expect(targetToNbits(target)).toBe(block.header.bits);
      const hash = headerHash(block.header);
      expect(hashMeetsTarget(hash, targetToLeBytes(target))).toBe(true);
      const h = hashToBigInt(hash);
      expect(h <= target).toBe(true);
      expect(hashMeetsTarget(hash, targetToLeBytes(h))).toBe(true);
      expect(hashMeetsTarget(hash, targetToLeBytes(h - 1n))).toBe(false);
    });

    test("bitcoinjs-lib agrees (hash, txids, wtxids, merkle, witness commit, target, weight, bytes)", () => {
      const { hex, block, txids, wtxids } = load(entry);
      const js = JsBlock.fromHex(hex);
      expect(js.getId()).toBe(entry.hash);
      expect(js.checkTxRoots()).toBe(true);
      expect(js.checkProofOfWork()).toBe(true);
      expect(js.weight()).toBe(entry.weight);
      expect(js.toHex() === hex).toBe(true);
      expect(js.toHex(true)).toBe(bytesToHex(serializeHeader(block.header)));
      expect(bytesToHex(JsBlock.calculateTarget(block.header.bits))).toBe(nbitsToTarget(block.header.bits).toString(16).padStart(64, "0"));
      const jsTxs = js.transactions ?? [];
      expect(jsTxs.map((t) => t.getId())).toEqual(txids.map(internalToDisplayHex));
      expect(jsTxs.map((t) => bytesToHex(t.getHash(true)))).toEqual(
        // bitcoinjs reports any coinbase's wtxid as zero (the witness-root convention of BIP141).
        wtxids.map((w, i) => (i === 0 ? "00".repeat(32) : bytesToHex(w))),
      );
      const commit = js.getWitnessCommit();
      expect(commit === null ? null : bytesToHex(commit)).toBe(entry.witness_commitment);
    });
  });
}

describe("malformed blocks", () => {
  test("truncated, trailing-byte and absurd-count blocks are StratumV2Errors", () => {
    const entry = index.find((b) => b.height === 100000) as IndexedBlock;
    const { bytes } = load(entry);
    for (const cut of [0, 79, 80, 81, 200, bytes.length - 1]) {
      let err: unknown = null;
      try {
        parseBlock(bytes.subarray(0, cut));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StratumV2Error);
    }
    const trailing = new Uint8Array(bytes.length + 1);
    trailing.set(bytes);
    expect(() => parseBlock(trailing)).toThrow(StratumV2Error);
    // Header followed by a count of 0xffffffff transactions and nothing else.
    const absurd = new Uint8Array(85);
    absurd.set(bytes.subarray(0, 80));
    absurd.set([0xfe, 0xff, 0xff, 0xff, 0xff], 80);
    expect(() => parseBlock(absurd)).toThrow(StratumV2Error);
  });
});
