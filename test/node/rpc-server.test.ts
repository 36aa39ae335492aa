// The real RPC stack end to end: RpcNode (fetch) ⇄ RpcServer (Bun.serve on 127.0.0.1:0) ⇄ EmbeddedNode.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { bip34HeightScript } from "../../src/bitcoin/script.ts";
import { createMemoryLogger } from "../../src/log.ts";
import { EmbeddedNode, REGTEST_GENESIS_HASH } from "../../src/node/embedded.ts";
import { RpcNode } from "../../src/node/rpc-node.ts";
import { NodeRequestError } from "../../src/node/rpc-protocol.ts";
import { RpcServer } from "../../src/node/rpc-server.ts";
import { syntheticTransaction } from "../../src/node/synthetic-txs.ts";

const dir = mkdtempSync(join(tmpdir(), "sv2-rpc-"));
const cookieFile = join(dir, ".cookie");
const logger = createMemoryLogger();
let embedded: EmbeddedNode;
let server: RpcServer;
let node: RpcNode;

beforeAll(async () => {
  embedded = new EmbeddedNode({ mempoolTxs: 6 });
  server = await RpcServer.start({ node: embedded, auth: { kind: "cookie", cookieFile } });
  node = new RpcNode({ url: server.url, auth: { kind: "cookie", cookieFile }, logger });
});
afterAll(async () => {
  embedded.close();
  await server.stop();
});

async function rawPost(url: string, body: string, auth: string | null): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth !== null) headers["authorization"] = auth;
  return fetch(url, { method: "POST", headers, body });
}

function cookieAuth(): string {
  return `Basic ${Buffer.from(readFileSync(cookieFile, "utf8")).toString("base64")}`;
}

describe("authentication", () => {
  test("the cookie file is Core's format, owner-only", () => {
    expect(readFileSync(cookieFile, "utf8")).toMatch(/^__cookie__:[0-9a-f]{64}$/);
    expect(statSync(cookieFile).mode & 0o777).toBe(0o600);
  });

  test("cookie auth works, and a rotated cookie (node restart) is picked up after a 401", async () => {
    expect(await node.getBestBlockHash()).toBe(embedded.tipHash);
    const before = readFileSync(cookieFile, "utf8");
    await server.rotateCookie();
    expect(readFileSync(cookieFile, "utf8")).not.toBe(before);
    expect(await node.getBestBlockHash()).toBe(embedded.tipHash);
    expect(logger.records.filter((r) => r.msg.startsWith("RPC cookie changed")).length).toBe(1);
  });

  test("user/password auth, and a wrong password", async () => {
    const s = await RpcServer.start({ node: embedded, auth: { kind: "userpass", user: "pool", password: "hunter2" } });
    try {
      const good = new RpcNode({ url: s.url, auth: { kind: "userpass", user: "pool", password: "hunter2" } });
      expect(await good.getBestBlockHash()).toBe(embedded.tipHash);
      const bad = new RpcNode({ url: s.url, auth: { kind: "userpass", user: "pool", password: "hunter3" } });
      const err = (await bad.getBestBlockHash().catch((e: unknown) => e)) as NodeRequestError;
      expect(err).toBeInstanceOf(NodeRequestError);
      expect(err.failure).toBe("auth");
      expect(err.message).toContain('rejected rpcuser "pool" (HTTP 401)');
    } finally {
      await s.stop();
    }
  });

  test("bad credentials get 401 without a body and Core's WWW-Authenticate", async () => {
    const res = await rawPost(server.url, '{"method":"getbestblockhash","params":[],"id":1}', "Basic eDp5");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Basic realm="jsonrpc"');
    expect(await res.text()).toBe("");
  });

  test("the cookie file is removed at stop, as Core does", async () => {
    const other = join(dir, "other.cookie");
    const s = await RpcServer.start({ node: embedded, auth: { kind: "cookie", cookieFile: other } });
    expect(readFileSync(other, "utf8").startsWith("__cookie__:")).toBe(true);
    await s.stop();
    expect(() => readFileSync(other)).toThrow();
  });
});

describe("Core's JSON-RPC 1.0 answers", () => {
  test("a result carries both keys, status 200", async () => {
    const res = await rawPost(server.url, '{"jsonrpc":"1.0","method":"getbestblockhash","params":[],"id":"x"}', cookieAuth());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: embedded.tipHash, error: null, id: "x" });
  });

  test("unknown method: 404 with error -32601", async () => {
    const res = await rawPost(server.url, '{"method":"nosuch","params":[],"id":7}', cookieAuth());
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ result: null, error: { code: -32601, message: "Method not found" }, id: 7 });
  });

  test("getblocktemplate without the segwit rule: 500 with error -8", async () => {
    const res = await rawPost(server.url, '{"method":"getblocktemplate","params":[{}],"id":1}', cookieAuth());
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      result: null,
      error: { code: -8, message: 'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})' },
      id: 1,
    });
  });

  test("unparsable JSON: error -32700", async () => {
    const res = await rawPost(server.url, "{nope", cookieAuth());
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ result: null, error: { code: -32700, message: "Parse error" }, id: null });
  });

  test("getblockheader of an unknown block: error -5", async () => {
    const res = await rawPost(server.url, `{"method":"getblockheader","params":["${"ab".repeat(32)}"],"id":2}`, cookieAuth());
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ result: null, error: { code: -5, message: "Block not found" }, id: 2 });
  });

  test("GET is refused with 405", async () => {
    const res = await fetch(server.url, { headers: { authorization: cookieAuth() } });
    expect(res.status).toBe(405);
  });

  test("a batch gets an array of answers", async () => {
    const res = await rawPost(
      server.url,
      '[{"method":"getbestblockhash","params":[],"id":1},{"method":"nosuch","params":[],"id":2}]',
      cookieAuth(),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      { result: embedded.tipHash, error: null, id: 1 },
      { result: null, error: { code: -32601, message: "Method not found" }, id: 2 },
    ]);
  });
});

describe("templates, long-poll and submitblock over RPC", () => {
  test("getblocktemplate has Core's shape", async () => {
    const fresh = new EmbeddedNode({ mempoolTxs: 3 });
    const s = await RpcServer.start({ node: fresh, auth: { kind: "userpass", user: "u", password: "p" } });
    try {
      const res = await rawPost(
        s.url,
        '{"method":"getblocktemplate","params":[{"rules":["segwit"]}],"id":1}',
        `Basic ${Buffer.from("u:p").toString("base64")}`,
      );
      const gbt = ((await res.json()) as { result: Record<string, unknown> }).result;
      expect(Object.keys(gbt)).toEqual([
        "capabilities",
        "version",
        "rules",
        "vbavailable",
        "vbrequired",
        "previousblockhash",
        "transactions",
        "coinbaseaux",
        "coinbasevalue",
        "longpollid",
        "target",
        "mintime",
        "mutable",
        "noncerange",
        "sigoplimit",
        "sizelimit",
        "weightlimit",
        "curtime",
        "bits",
        "height",
        "default_witness_commitment",
      ]);
      expect(gbt["version"]).toBe(0x20000000);
      expect(gbt["rules"]).toEqual(["csv", "!segwit", "taproot"]);
      expect(gbt["previousblockhash"]).toBe(REGTEST_GENESIS_HASH);
      expect(gbt["height"]).toBe(1);
      expect(gbt["bits"]).toBe("207fffff");
      expect(gbt["target"]).toBe("7fffff0000000000000000000000000000000000000000000000000000000000");
      // Regtest genesis time 1296688602: the next block's time must exceed it.
      expect(gbt["mintime"]).toBe(1296688603);
      const txs = gbt["transactions"] as Record<string, unknown>[];
      expect(txs.length).toBe(3);
      expect(Object.keys(txs[0] ?? {})).toEqual(["data", "txid", "hash", "depends", "fee", "sigops", "weight"]);
      const fees = txs.reduce((s2, t) => s2 + (t["fee"] as number), 0);
      expect(gbt["coinbasevalue"]).toBe(5_000_000_000 + fees);
      expect(gbt["longpollid"]).toBe(`${REGTEST_GENESIS_HASH}0`);
    } finally {
      fresh.close();
      await s.stop();
    }
  });

  test("a long-poll wakes when another miner finds a block", async () => {
    const first = await node.getBlockTemplate();
    const t0 = performance.now();
    const waiting = node.getBlockTemplate({ longpollId: first.longpollid as string });
    const mined = await embedded.mineBlock();
    const next = await waiting;
    console.log(`long-poll answered ${(performance.now() - t0).toFixed(2)} ms after it was sent (block found in between)`);
    expect(mined.answer).toEqual({ result: null, accepted: true });
    expect(next.previousblockhash).toBe(mined.hash);
    expect(next.height).toBe(first.height + 1);
  });

  test("a long-poll wakes when the mempool changes", async () => {
    const first = await node.getBlockTemplate();
    const waiting = node.getBlockTemplate({ longpollId: first.longpollid as string });
    embedded.addSyntheticTransactions(2);
    const next = await waiting;
    expect(next.previousblockhash).toBe(first.previousblockhash);
    expect(next.transactions.length).toBe(first.transactions.length + 2);
  });

  test("submitblock of a mined block is accepted and the tip advances", async () => {
    const height = embedded.tipHeight;
    const block = await embedded.craftBlock();
    expect(await node.submitBlock(bytesToHex(block.bytes))).toEqual({ result: null, accepted: true });
    expect(embedded.tipHeight).toBe(height + 1);
    const best = await node.getBestBlockHash();
    expect(embedded.getBlock(best)).toBe(bytesToHex(block.bytes));
    const header = await node.getBlockHeader(best);
    expect(header.height).toBe(height + 1);
    expect(header.bits).toBe("207fffff");
    const info = await node.getBlockchainInfo();
    expect([info.chain, info.blocks, info.bestblockhash, info.initialblockdownload]).toEqual(["regtest", height + 1, best, false]);
  });
});

describe("every rejection reason, provoked with a tampered block over RPC", () => {
  async function submit(options: Parameters<EmbeddedNode["craftBlock"]>[0]): Promise<string | null> {
    const block = await embedded.craftBlock(options);
    return (await node.submitBlock(bytesToHex(block.bytes))).result;
  }

  test("high-hash: the header misses the target of its nBits", async () => {
    expect(await submit({ missTarget: true })).toBe("high-hash");
  });

  test("bad-diffbits: solved, but for other nBits than the chain's", async () => {
    expect(await submit({ editHeader: (h) => (h.bits = 0x207ffffe) })).toBe("bad-diffbits");
  });

  test("prev-blk-not-found", async () => {
    expect(await submit({ editHeader: (h) => (h.prevHash = new Uint8Array(32).fill(0x11)) })).toBe("prev-blk-not-found");
  });

  test("duplicate: the same block twice", async () => {
    const block = await embedded.craftBlock();
    const hex = bytesToHex(block.bytes);
    expect((await node.submitBlock(hex)).result).toBeNull();
    expect(await node.submitBlock(hex)).toEqual({ result: "duplicate", accepted: true });
  });

  test("bad-txnmrklroot", async () => {
    expect(await submit({ editHeader: (h) => (h.merkleRoot = h.merkleRoot.map((b, i) => (i === 0 ? b ^ 1 : b))) })).toBe(
      "bad-txnmrklroot",
    );
  });

  test("bad-cb-height: BIP34 height of another block", async () => {
    const height = embedded.tipHeight + 1;
    const result = await submit({
      editTransactions: (txs) => {
        const input = txs[0]?.inputs[0];
        if (input !== undefined) input.scriptSig = Uint8Array.of(...bip34HeightScript(height + 1), 0x01, 0x00);
      },
    });
    expect(result).toBe("bad-cb-height");
  });

  test("bad-cb-amount: the coinbase pays one satoshi too much; again: duplicate-invalid", async () => {
    const block = await embedded.craftBlock({
      editTransactions: (txs) => {
        const out = txs[0]?.outputs[0];
        if (out !== undefined) out.value += 1n;
      },
    });
    const hex = bytesToHex(block.bytes);
    expect((await node.submitBlock(hex)).result).toBe("bad-cb-amount");
    expect((await node.submitBlock(hex)).result).toBe("duplicate-invalid");
  });

  test("bad-witness-merkle-match: a wrong commitment", async () => {
    const result = await submit({
      keepCommitment: true,
      editTransactions: (txs) => {
        const out = txs[0]?.outputs[1];
        if (out !== undefined) out.script = out.script.map((b, i) => (i === 37 ? b ^ 1 : b));
      },
    });
    expect(result).toBe("bad-witness-merkle-match");
  });

  test("bad-witness-nonce-size: a 31-byte witness reserved value", async () => {
    const result = await submit({
      editTransactions: (txs) => {
        const input = txs[0]?.inputs[0];
        if (input !== undefined) input.witness = [new Uint8Array(31)];
      },
    });
    expect(result).toBe("bad-witness-nonce-size");
  });

  test("a missing witness reserved value is added by submitblock, as Core does", async () => {
    const result = await submit({
      editTransactions: (txs) => {
        const input = txs[0]?.inputs[0];
        if (input !== undefined) input.witness = [];
      },
    });
    expect(result).toBeNull();
  });

  test("unexpected-witness: segwit transactions without a commitment", async () => {
    const result = await submit({
      editTransactions: (txs) => {
        const cb = txs[0];
        if (cb !== undefined) {
          cb.outputs = cb.outputs.slice(0, 1);
          (cb.inputs[0] as { witness: Uint8Array[] }).witness = [];
        }
      },
    });
    expect(result).toBe("unexpected-witness");
  });

  test("time-too-old: at the median time past", async () => {
    const gbt = await embedded.getBlockTemplate();
    expect(await submit({ time: (gbt.mintime as number) - 1 })).toBe("time-too-old");
    expect(await submit({ time: gbt.mintime as number })).toBeNull();
  });

  test("time-too-new: more than two hours ahead", async () => {
    expect(await submit({ time: Math.floor(Date.now() / 1000) + 2 * 3600 + 60 })).toBe("time-too-new");
  });

  test("bad-cb-missing: the first transaction is not a coinbase", async () => {
    expect(await submit({ editTransactions: (txs) => void txs.shift() })).toBe("bad-cb-missing");
  });

  test("bad-txns-duplicate: a transaction twice (merkle mutation)", async () => {
    const result = await submit({ editTransactions: (txs) => void txs.splice(3, 0, txs[2] as (typeof txs)[number]) });
    expect(result).toBe("bad-txns-duplicate");
  });

  test("bad-txns-inputs-missingorspent: a transaction the node never saw", async () => {
    const stranger = syntheticTransaction(new TextEncoder().encode("elsewhere"), 1).tx;
    expect(await submit({ editTransactions: (txs) => void txs.push(stranger) })).toBe("bad-txns-inputs-missingorspent");
  });

  test("bad-txns-nonfinal: a coinbase locked far in the future", async () => {
    expect(await submit({ editTransactions: (txs) => void ((txs[0] as { locktime: number }).locktime = 0xffffffff) })).toBe(
      "bad-txns-nonfinal",
    );
  });

  test("bad-version: version 1 after BIP34/65/66", async () => {
    expect(await submit({ editHeader: (h) => (h.version = 1) })).toBe("bad-version(0x00000001)");
  });

  test("a block that does not decode: Core's -22, a final rejection", async () => {
    expect(await node.submitBlock("0000")).toEqual({ result: "rpc-error -22: Block decode failed", accepted: false });
    expect(await node.submitBlock("zz")).toEqual({ result: "rpc-error -22: Block decode failed", accepted: false });
  });

  test("inconclusive: a valid block on a side branch, then a reorganization to the longer branch", async () => {
    const stale = await embedded.craftBlock({ extraNonce: Uint8Array.of(0xaa), withTransactions: false });
    const winnerTemplate = await embedded.getBlockTemplate();
    const winnerTxids = winnerTemplate.transactions.map((t) => t.txid);
    expect(winnerTxids.length).toBeGreaterThan(0);
    const winner = await embedded.mineBlock();
    expect(winner.answer.result).toBeNull();
    expect(await node.submitBlock(bytesToHex(stale.bytes))).toEqual({ result: "inconclusive", accepted: true });
    expect(await node.getBestBlockHash()).toBe(winner.hash);
    // One more block on the stale branch makes it the longer chain: the node reorganizes, and the
    // transactions of the block it drops are back in its templates.
    const staleHash = internalToDisplayHex(stale.hash);
    const next = await embedded.craftBlock({ parent: staleHash });
    expect((await node.submitBlock(bytesToHex(next.bytes))).result).toBeNull();
    const tip = await node.getBestBlockHash();
    expect(tip).toBe(internalToDisplayHex(next.hash));
    expect((await node.getBlockHeader(tip)).previousblockhash).toBe(staleHash);
    expect(embedded.chainHashes.includes(winner.hash)).toBe(false);
    const template = await node.getBlockTemplate();
    const inTemplate = new Set(template.transactions.map((t) => t.txid));
    for (const t of winnerTxids) expect(inTemplate.has(t)).toBe(true);
  });
});
