// EmbeddedNode: the in-process regtest chain (genesis, subsidy, BIP34, witness commitment, MTP,
// synthetic transactions, difficulty, long-poll, notifications).
import { describe, expect, test } from "bun:test";
import { bytesToHex, displayHexToInternal, hexToBytes, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { parseBlock } from "../../src/bitcoin/block.ts";
import { sha256d } from "../../src/bitcoin/hash.ts";
import { serializeHeader } from "../../src/bitcoin/header.ts";
import { parseBip34Height } from "../../src/bitcoin/script.ts";
import { hashMeetsTarget, nbitsToTarget, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { parseTransaction, txid, type Transaction } from "../../src/bitcoin/tx.ts";
import { witnessCommitment, witnessCommitmentScript, witnessMerkleRoot } from "../../src/bitcoin/witness.ts";
import { BlockTemplateGenerator } from "../../src/node/block-template-generator.ts";
import { EmbeddedNode, REGTEST_GENESIS_HASH, REGTEST_GENESIS_HEX } from "../../src/node/embedded.ts";
import { NodeRequestError, RpcError } from "../../src/node/rpc-protocol.ts";
import { ManualClock } from "../../src/pool/clock.ts";

/** 2023-11-14T22:13:20Z: a fixed "now" for reproducible block times. */
const NOW_MS = 1_700_000_000_000;

/** The default commitment of a block without transactions (also in ../shared/bitcoin/gbt/signet-p2poolv2). */
const EMPTY_BLOCK_COMMITMENT = "6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9";

describe("genesis", () => {
  test("the chain starts from the real regtest genesis block", async () => {
    const node = new EmbeddedNode();
    expect(node.tipHash).toBe(REGTEST_GENESIS_HASH);
    expect(node.tipHeight).toBe(0);
    expect(node.getBlock(REGTEST_GENESIS_HASH)).toBe(REGTEST_GENESIS_HEX);
    const block = parseBlock(hexToBytes(REGTEST_GENESIS_HEX));
    expect(internalToDisplayHex(sha256d(serializeHeader(block.header)))).toBe(
      "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
    );
    expect(internalToDisplayHex(block.header.merkleRoot)).toBe("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
    expect(await node.getBlockHeader(REGTEST_GENESIS_HASH)).toEqual({
      hash: REGTEST_GENESIS_HASH,
      height: 0,
      previousblockhash: null,
      bits: "207fffff",
      time: 1296688602,
      mediantime: 1296688602,
    });
  });

  test("an empty template carries the well-known empty-block witness commitment", async () => {
    const gbt = await new EmbeddedNode().getBlockTemplate();
    expect(gbt.transactions).toEqual([]);
    expect(gbt.default_witness_commitment).toBe(EMPTY_BLOCK_COMMITMENT);
  });
});

describe("subsidy and BIP34", () => {
  test("coinbasevalue halves every 150 blocks; every coinbase starts with its height", async () => {
    const clock = new ManualClock(NOW_MS);
    const node = new EmbeddedNode({ clock });
    const values = new Map<number, number>();
    for (let h = 1; h <= 301; h++) {
      const gbt = await node.getBlockTemplate();
      expect(gbt.height).toBe(h);
      values.set(h, gbt.coinbasevalue);
      const mined = await node.mineBlock();
      expect(mined.answer.result).toBeNull();
      clock.advance(600_000);
    }
    expect([values.get(1), values.get(149), values.get(150), values.get(299), values.get(300), values.get(301)]).toEqual([
      5_000_000_000, 5_000_000_000, 2_500_000_000, 2_500_000_000, 1_250_000_000, 1_250_000_000,
    ]);
    const hashes = node.chainHashes;
    expect(hashes.length).toBe(302);
    for (let h = 1; h < hashes.length; h++) {
      const block = parseBlock(hexToBytes(node.getBlock(hashes[h] as string) as string));
      const scriptSig = block.transactions[0]?.inputs[0]?.scriptSig ?? new Uint8Array();
      expect(parseBip34Height(scriptSig)).toBe(h);
    }
  });
});

describe("synthetic mempool", () => {
  test("legacy and segwit transactions, unique, with fees, depends and a non-trivial merkle path", async () => {
    const node = new EmbeddedNode({ mempoolTxs: 9, clock: new ManualClock(NOW_MS) });
    const gbt = await node.getBlockTemplate();
    const txs = gbt.transactions;
    expect(txs.length).toBe(9);
    expect(new Set(txs.map((t) => t.txid)).size).toBe(9);
    const segwit = txs.filter((t) => t.hash !== t.txid).length;
    expect(segwit).toBeGreaterThan(0);
    expect(segwit).toBeLessThan(9);
    // The fourth and eighth spend an output of the transaction before them.
    expect(txs.map((t) => t.depends)).toEqual([[], [], [], [3], [], [], [], [7], []]);
    for (const t of txs) {
      expect(txid(parseTxHex(t.data))).toEqual(displayHexToInternal(t.txid as string));
      expect(t.fee).toBeGreaterThan(0);
      expect(t.weight).toBe(weightOf(t.data, t.txid !== t.hash));
    }
    const fees = txs.reduce((s, t) => s + (t.fee ?? 0), 0);
    expect(gbt.coinbasevalue).toBe(5_000_000_000 + fees);
    // The commitment covers the transactions' wtxids (coinbase as zero).
    const wtxids = [new Uint8Array(32), ...txs.map((t) => displayHexToInternal(t.hash as string))];
    expect(gbt.default_witness_commitment).toBe(
      bytesToHex(witnessCommitmentScript(witnessCommitment(witnessMerkleRoot(wtxids), new Uint8Array(32)))),
    );
    expect(gbt.default_witness_commitment).not.toBe(EMPTY_BLOCK_COMMITMENT);

    // The template's merkle path, folded over the coinbase txid, gives the mined block's merkle root.
    const template = await new BlockTemplateGenerator(node).generateTemplate();
    expect(template.merklePath.length).toBe(4);
    const mined = await node.mineBlock();
    expect(mined.answer.result).toBeNull();
    const block = parseBlock(hexToBytes(mined.hex));
    let root = txid(block.transactions[0] as Transaction);
    for (const sibling of template.merklePath) {
      const pair = new Uint8Array(64);
      pair.set(root, 0);
      pair.set(sibling, 32);
      root = sha256d(pair);
    }
    expect(root).toEqual(block.header.merkleRoot);
    expect(block.transactions.length).toBe(10);

    // Mined transactions leave the mempool, which is refilled to 9 new ones.
    const next = await node.getBlockTemplate();
    expect(next.transactions.length).toBe(9);
    const minedIds = new Set(txs.map((t) => t.txid));
    expect(next.transactions.some((t) => minedIds.has(t.txid))).toBe(false);
  });
});

function parseTxHex(hex: string): Transaction {
  return parseTransaction(hexToBytes(hex));
}

/** Weight from the serialization: a segwit tx's marker, flag and witnesses count once, the rest 4×. */
function weightOf(hex: string, segwit: boolean): number {
  const total = hex.length / 2;
  if (!segwit) return total * 4;
  const tx = parseTxHex(hex);
  let witnessBytes = 2;
  for (const input of tx.inputs) {
    witnessBytes += 1;
    for (const item of input.witness) witnessBytes += 1 + item.length;
  }
  return (total - witnessBytes) * 4 + witnessBytes;
}

describe("median time past", () => {
  test("mintime is the median of the last 11 block times + 1, and the block at the median is too old", async () => {
    const clock = new ManualClock(NOW_MS);
    const node = new EmbeddedNode({ clock });
    const base = NOW_MS / 1000;
    const offsets = [100, 50, 300, 200, 150, 400, 250, 350, 500, 450, 600, 20];
    const times: number[] = [];
    for (const off of offsets) {
      const gbt = await node.getBlockTemplate();
      const time = Math.max(base + off, gbt.mintime as number);
      times.push(time);
      expect((await node.mineBlock({ time })).answer.result).toBeNull();
    }
    const last11 = times.slice(-11).sort((a, b) => a - b);
    const mtp = last11[5] as number;
    const gbt = await node.getBlockTemplate();
    expect(gbt.mintime).toBe(mtp + 1);
    expect((await node.getBlockHeader(node.tipHash)).mediantime).toBe(mtp);
    expect((await node.mineBlock({ time: mtp })).answer.result).toBe("time-too-old");
    expect((await node.mineBlock({ time: mtp + 1 })).answer.result).toBeNull();
  });
});

describe("difficulty", () => {
  test("difficulty 0.0001 sets nBits 1e270fd8; blocks must meet it and carry it", async () => {
    const node = new EmbeddedNode({ difficulty: 0.0001 });
    expect(node.bits).toBe(0x1e270fd8);
    const gbt = await node.getBlockTemplate();
    expect(gbt.bits).toBe("1e270fd8");
    expect(gbt.target).toBe(`0000270fd8${"0".repeat(54)}`);
    const mined = await node.mineBlock();
    expect(mined.answer.result).toBeNull();
    const block = parseBlock(hexToBytes(mined.hex));
    expect(hashMeetsTarget(sha256d(serializeHeader(block.header)), targetToLeBytes(nbitsToTarget(0x1e270fd8)))).toBe(true);
    expect((await node.getBlockHeader(mined.hash)).bits).toBe("1e270fd8");
    // A block solved for regtest's easier nBits is not valid on this chain.
    expect((await node.mineBlock({ editHeader: (h) => (h.bits = 0x207fffff) })).answer.result).toBe("bad-diffbits");
  });

  test("explicit bits", () => {
    expect(new EmbeddedNode({ bits: 0x1f00ffff }).bits).toBe(0x1f00ffff);
    expect(new EmbeddedNode({ difficulty: 0 }).bits).toBe(0x207fffff);
  });
});

describe("long-poll, notifications, IBD", () => {
  test("a long-poll with a current id answers after the max wait with the same template", async () => {
    const node = new EmbeddedNode({ longPollMaxWaitMs: 30 });
    const first = await node.getBlockTemplate();
    const again = await node.getBlockTemplate({ longpollId: first.longpollid as string });
    expect(again.longpollid).toBe(first.longpollid);
  });

  test("a long-poll with an old id answers at once", async () => {
    const node = new EmbeddedNode({ longPollMaxWaitMs: 60_000 });
    const gbt = await node.getBlockTemplate({ longpollId: `${"00".repeat(32)}0` });
    expect(gbt.height).toBe(1);
  });

  test("an aborted long-poll fails as aborted; close() ends the others", async () => {
    const node = new EmbeddedNode({ longPollMaxWaitMs: 60_000 });
    const id = (await node.getBlockTemplate()).longpollid as string;
    const controller = new AbortController();
    const aborted = node.getBlockTemplate({ longpollId: id, signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    const e1 = (await aborted) as NodeRequestError;
    expect(e1).toBeInstanceOf(NodeRequestError);
    expect(e1.failure).toBe("aborted");
    const closed = node.getBlockTemplate({ longpollId: id }).catch((e: unknown) => e);
    node.close();
    expect(((await closed) as NodeRequestError).failure).toBe("aborted");
  });

  test("new-tip listeners hear every new block, until they unsubscribe", async () => {
    const node = new EmbeddedNode();
    const heard: string[] = [];
    const off = node.subscribeNewTip((hash) => heard.push(hash));
    const a = await node.mineBlock();
    const b = await node.mineBlock();
    off();
    await node.mineBlock();
    expect(heard).toEqual([a.hash, b.hash]);
  });

  test("in initial block download, getblocktemplate fails with -10 as Core does", async () => {
    const node = new EmbeddedNode();
    node.setInitialBlockDownload(true);
    const err = (await node.getBlockTemplate().catch((e: unknown) => e)) as RpcError;
    expect(err).toBeInstanceOf(RpcError);
    expect([err.code, err.rpcMessage]).toEqual([-10, "Bitcoin Core is in initial sync and waiting for blocks..."]);
    expect((await node.getBlockchainInfo()).initialblockdownload).toBe(true);
    node.setInitialBlockDownload(false);
    expect((await node.getBlockTemplate()).height).toBe(1);
  });

  test("getblockheader of an unknown block: -5", async () => {
    const err = (await new EmbeddedNode().getBlockHeader("ab".repeat(32)).catch((e: unknown) => e)) as RpcError;
    expect([err.code, err.rpcMessage]).toEqual([-5, "Block not found"]);
  });
});
