// RpcClient / RpcNode against a Core look-alike serving recorded templates and misbehaving on demand.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, displayHexToInternal, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { witnessCommitment, witnessCommitmentScript, witnessMerkleRoot } from "../../src/bitcoin/witness.ts";
import { StratumV2Error } from "../../src/errors.ts";
import { BlockTemplateGenerator } from "../../src/node/block-template-generator.ts";
import { RpcClient } from "../../src/node/rpc.ts";
import { RpcNode } from "../../src/node/rpc-node.ts";
import { isAbortFailure, NodeRequestError, RpcError } from "../../src/node/rpc-protocol.ts";
import { templateFromGbt } from "../../src/pool/template.ts";
import { readSharedJson } from "../helpers/shared.ts";
import { FakeCore, loadRecordedGbt, startCuttingServer } from "./fake-core.ts";

let core: FakeCore;
let node: RpcNode;

beforeAll(() => {
  core = FakeCore.start("alice", "s3cret");
  node = new RpcNode({ url: core.url, auth: { kind: "userpass", user: "alice", password: "s3cret" }, timeoutMs: 2_000 });
});
afterAll(() => core.stop());

/** Expects `p` to reject with a NodeRequestError of this failure and returns it. */
async function failure(p: Promise<unknown>, kind: NodeRequestError["failure"]): Promise<NodeRequestError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NodeRequestError);
    const err = e as NodeRequestError;
    expect(err.failure).toBe(kind);
    return err;
  }
  throw new Error(`expected a ${kind} failure`);
}

describe("recorded templates through RpcNode and templateFromGbt", () => {
  // ckpool's mining.notify for each regtest template: params[4] is the coinbase merkle branch
  // (internal byte order), params[3] = coinb2 carries the witness commitment output.
  for (const [dir, branches] of [
    ["one-txn", 1],
    ["two-txns", 2],
    ["three-txns", 2],
    ["four-txns", 3],
  ] as const) {
    test(`regtest ${dir}: merkle branch and witness commitment match ckpool's notify`, async () => {
      const gbt = loadRecordedGbt("regtest-ckpool", dir, "gbt.json");
      core.template = gbt;
      const notify = readSharedJson<{ params: unknown[] }>("bitcoin", "gbt", "regtest-ckpool", dir, "notify.json");
      const template = templateFromGbt(await node.getBlockTemplate(), 7);
      expect(template.id).toBe(7);
      expect(template.height).toBe(gbt["height"] as number);
      expect(template.merklePath.length).toBe(branches);
      expect(template.merklePath.map(bytesToHex)).toEqual(notify.params[4] as string[]);
      const commitment = bytesToHex(template.witnessCommitmentScript ?? new Uint8Array());
      expect(commitment).toBe(gbt["default_witness_commitment"] as string);
      expect((notify.params[3] as string).includes(commitment)).toBe(true);
      expect(internalToDisplayHex(template.prevHash)).toBe(gbt["previousblockhash"] as string);
      expect(template.coinbaseValue).toBe(BigInt(gbt["coinbasevalue"] as number));
    });
  }

  test("signet: the node refuses without the signet rule, RpcNode learns it and asks again", async () => {
    const gbt = loadRecordedGbt("signet-p2poolv2", "stratum", "b", "template.json");
    core.template = gbt;
    core.requireSignetRule = true;
    const signetNode = new RpcNode({ url: core.url, auth: { kind: "userpass", user: "alice", password: "s3cret" } });
    const before = core.calls.length;
    const template = templateFromGbt(await signetNode.getBlockTemplate(), 1);
    const rules = core.calls.slice(before).map((c) => (c.params[0] as { rules: string[] }).rules);
    expect(rules).toEqual([["segwit"], ["segwit", "signet"]]);
    await signetNode.getBlockTemplate();
    expect((core.calls.at(-1)?.params[0] as { rules: string[] }).rules).toEqual(["segwit", "signet"]);
    core.requireSignetRule = false;
    const notify = readSharedJson<{ params: unknown[] }>("bitcoin", "gbt", "signet-p2poolv2", "stratum", "b", "notify.json");
    expect(template.merklePath).toEqual([]);
    expect(notify.params[4]).toEqual([]);
    expect(template.height).toBe(123);
    expect(template.bits).toBe(0x1e0377ae);
    expect(bytesToHex(template.witnessCommitmentScript ?? new Uint8Array())).toBe(
      "6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9",
    );
  });

  test("testnet3 with the {result} wrapper and Core 0.12 fields (hash only, no txid)", async () => {
    const gbt = loadRecordedGbt("testnet3", "898487-btcpool.json");
    core.template = gbt;
    const template = await new BlockTemplateGenerator(node).generateTemplate();
    const txs = gbt["transactions"] as { hash: string }[];
    expect(template.height).toBe(898487);
    expect(template.transactions.length).toBe(1);
    expect(template.merklePath.map(internalToDisplayHex)).toEqual([txs[0]?.hash ?? ""]);
    expect(template.witnessCommitmentScript).toBeNull();
  });

  test("testnet3 public-pool template: 5 txs, 3 branches, commitment kept", async () => {
    const gbt = loadRecordedGbt("testnet3", "2442185-public-pool.json");
    core.template = gbt;
    const template = templateFromGbt(await node.getBlockTemplate(), 1);
    expect(template.transactions.length).toBe(5);
    expect(template.merklePath.length).toBe(3);
    const txids = (gbt["transactions"] as { txid: string }[]).map((t) => t.txid);
    // The first branch of a coinbase path is always the first transaction.
    expect(internalToDisplayHex(template.merklePath[0] ?? new Uint8Array())).toBe(txids[0] ?? "");
    expect(bytesToHex(template.witnessCommitmentScript ?? new Uint8Array())).toBe(gbt["default_witness_commitment"] as string);
  });
});

describe("witness commitments of the self-consistent recordings", () => {
  // Recomputed from the transactions' wtxids (`hash`), coinbase as zero, reserved value zero: the
  // node's default_witness_commitment is exactly what the pool puts in its coinbase.
  for (const parts of [
    ["testnet3", "2442185-public-pool.json"],
    ["signet-p2poolv2", "956-gbt-with-transactions.json"],
    ["signet-p2poolv2", "108-gbt-no-transactions.json"],
    ["regtest-ckpool", "four-txns", "gbt.json"],
  ]) {
    test(parts.join("/"), async () => {
      const gbt = loadRecordedGbt(...parts);
      core.template = gbt;
      const template = templateFromGbt(await node.getBlockTemplate(), 1);
      const wtxids = [new Uint8Array(32), ...(gbt["transactions"] as { hash: string }[]).map((t) => displayHexToInternal(t.hash))];
      const script = witnessCommitmentScript(witnessCommitment(witnessMerkleRoot(wtxids), new Uint8Array(32)));
      expect(bytesToHex(template.witnessCommitmentScript ?? new Uint8Array())).toBe(bytesToHex(script));
    });
  }
});

describe("RPC failures are typed and say what to do", () => {
  test("node down: PoolConnectionError naming the URL", async () => {
    const gone = FakeCore.start();
    const url = gone.url;
    gone.stop();
    const down = new RpcNode({ url, auth: { kind: "userpass", user: "alice", password: "s3cret" } });
    const err = await failure(down.getBestBlockHash(), "unreachable");
    expect(err.kind).toBe("PoolConnectionError");
    expect(err.message).toContain(`cannot reach Bitcoin Core at ${url}`);
  });

  test("wrong password: auth error naming the user and the settings to fix", async () => {
    const bad = new RpcNode({ url: core.url, auth: { kind: "userpass", user: "alice", password: "nope" } });
    const err = await failure(bad.getBestBlockHash(), "auth");
    expect(err.kind).toBe("ConfigError");
    expect(err.message).toContain('rejected rpcuser "alice" (HTTP 401)');
    expect(err.message).toContain("rpcpassword");
  });

  test("missing cookie file: auth error naming the file", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "sv2-cookie-")), ".cookie");
    const c = new RpcNode({ url: core.url, auth: { kind: "cookie", cookieFile: path } });
    const err = await failure(c.getBestBlockHash(), "auth");
    expect(err.message).toContain(`cannot read the RPC cookie file ${path}`);
  });

  test("HTTP 403: rpcallowip", async () => {
    core.fault = { kind: "status", status: 403 };
    const err = await failure(node.getBestBlockHash(), "auth");
    core.fault = { kind: "none" };
    expect(err.message).toContain("rpcallowip");
  });

  test("RPC error -10 (initial block download) keeps code and message, and is transient", async () => {
    core.fault = { kind: "rpc-error", code: -10, message: "Bitcoin Core is in initial sync and waiting for blocks..." };
    const err = await node.getBlockTemplate().catch((e: unknown) => e);
    core.fault = { kind: "none" };
    expect(err).toBeInstanceOf(RpcError);
    const rpc = err as RpcError;
    expect([rpc.code, rpc.rpcMessage, rpc.method, rpc.transient, rpc.kind]).toEqual([
      -10,
      "Bitcoin Core is in initial sync and waiting for blocks...",
      "getblocktemplate",
      true,
      "PoolConnectionError",
    ]);
  });

  test("RPC error -8 is not transient", async () => {
    core.fault = { kind: "rpc-error", code: -8, message: "bad parameter" };
    const err = (await node.getBlockTemplate().catch((e: unknown) => e)) as RpcError;
    core.fault = { kind: "none" };
    expect([err.code, err.transient, err.kind]).toEqual([-8, false, "TemplateError"]);
  });

  test("an answer that is not JSON", async () => {
    core.fault = { kind: "not-json" };
    const err = await failure(node.getBestBlockHash(), "garbage");
    core.fault = { kind: "none" };
    expect(err.kind).toBe("TemplateError");
    expect(err.message).toContain("not JSON");
  });

  test("HTTP 500 with an HTML page", async () => {
    core.fault = { kind: "html-500" };
    const err = await failure(node.getBlockTemplate(), "http");
    core.fault = { kind: "none" };
    expect(err.message).toContain("HTTP 500 without a JSON-RPC body (text/html)");
  });

  test("JSON that is not JSON-RPC", async () => {
    core.fault = { kind: "no-result-key" };
    const err = await failure(node.getBestBlockHash(), "garbage");
    core.fault = { kind: "none" };
    expect(err.message).toContain("neither 'result' nor 'error'");
  });

  test("a template with wrong types is a TemplateError naming the field", async () => {
    core.fault = { kind: "result", value: { ...loadRecordedGbt("regtest-ckpool", "one-txn", "gbt.json"), height: "505" } };
    const err = await node.getBlockTemplate().catch((e: unknown) => e);
    core.fault = { kind: "none" };
    expect(err).toBeInstanceOf(StratumV2Error);
    expect((err as StratumV2Error).kind).toBe("TemplateError");
    expect((err as Error).message).toContain("height must be an integer");
  });

  test("getbestblockhash answering a number", async () => {
    core.fault = { kind: "result", value: 42 };
    const err = await failure(node.getBestBlockHash(), "garbage");
    core.fault = { kind: "none" };
    expect(err.message).toContain("getbestblockhash: the answer must be a 64-digit hex hash, got 42");
  });

  test("a truncated JSON body", async () => {
    core.template = loadRecordedGbt("regtest-ckpool", "four-txns", "gbt.json");
    core.fault = { kind: "truncated-stream" };
    await failure(node.getBlockTemplate(), "garbage");
    core.fault = { kind: "none" };
  });

  test("a connection closed mid-body", async () => {
    const cutter = startCuttingServer();
    const n = new RpcNode({ url: cutter.url, auth: { kind: "userpass", user: "a", password: "b" } });
    const err = await failure(n.getBlockTemplate(), "unreachable");
    cutter.stop();
    expect(err.message).toContain("reading the answer");
  });

  test("a hanging request times out with the configured timeout", async () => {
    core.fault = { kind: "hang" };
    const quick = new RpcNode({ url: core.url, auth: { kind: "userpass", user: "alice", password: "s3cret" }, timeoutMs: 150 });
    const err = await failure(quick.getBestBlockHash(), "timeout");
    core.fault = { kind: "none" };
    expect(err.kind).toBe("PoolConnectionError");
    expect(err.message).toBe(`getbestblockhash: no answer from ${core.url} within 150 ms`);
  });

  test("a hanging long-poll is aborted by its signal", async () => {
    core.fault = { kind: "hang" };
    const controller = new AbortController();
    const pending = node.getBlockTemplate({ longpollId: "x", signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const err = await failure(pending, "aborted");
    core.fault = { kind: "none" };
    expect(isAbortFailure(err)).toBe(true);
  });

  test("an answer above the size cap", async () => {
    core.fault = { kind: "huge", bytes: 2 * 1024 * 1024 };
    const capped = new RpcNode({ url: core.url, auth: { kind: "userpass", user: "alice", password: "s3cret" }, maxBodyBytes: 1024 * 1024 });
    const err = await failure(capped.getBestBlockHash(), "too-large");
    core.fault = { kind: "none" };
    expect(err.message).toContain("larger than 1048576 bytes");
  });

  test("submitblock: an RPC error is a final rejection, a transient one throws", async () => {
    core.faultFor.set("submitblock", { kind: "rpc-error", code: -22, message: "Block decode failed" });
    expect(await node.submitBlock("00")).toEqual({ result: "rpc-error -22: Block decode failed", accepted: false });
    core.faultFor.set("submitblock", { kind: "rpc-error", code: -28, message: "Loading block index..." });
    const err = (await node.submitBlock("00").catch((e: unknown) => e)) as RpcError;
    expect([err.code, err.transient]).toEqual([-28, true]);
    core.faultFor.delete("submitblock");
    expect(await node.submitBlock("00")).toEqual({ result: "high-hash", accepted: false });
  });

  test("requests are JSON-RPC 1.0 with basic auth", async () => {
    const client = new RpcClient({ url: core.url, auth: { kind: "userpass", user: "alice", password: "s3cret" } });
    core.bestBlockHash = "11".repeat(32);
    expect(await client.call("getbestblockhash")).toBe("11".repeat(32));
    expect(core.calls.at(-1)?.authorization).toBe(`Basic ${Buffer.from("alice:s3cret").toString("base64")}`);
    expect(client.describeAuth()).toBe('rpcuser "alice"');
  });
});
