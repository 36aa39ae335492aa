// TemplateWatcher: new tips first, then templates; outages, IBD and garbage logged once per state
// change, with backoff, while the last valid template stays in place.
import { afterEach, describe, expect, test } from "bun:test";
import { displayHexToInternal, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { createMemoryLogger, type LogRecord } from "../../src/log.ts";
import { realSleep, type Sleep } from "../../src/node/backoff.ts";
import { EmbeddedNode } from "../../src/node/embedded.ts";
import type { BlockTemplateRequest, NodeAPI } from "../../src/node/api.ts";
import { RpcNode } from "../../src/node/rpc-node.ts";
import { RpcError } from "../../src/node/rpc-protocol.ts";
import { RpcServer } from "../../src/node/rpc-server.ts";
import { nextBitsFollowTip, TemplateWatcher, type NewTipEvent, type NodeState } from "../../src/node/template-watcher.ts";
import type { BlockTemplate } from "../../src/pool/template.ts";
import { FakeCore, loadRecordedGbt } from "./fake-core.ts";

const AUTH = { kind: "userpass", user: "pool", password: "pw" } as const;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Records what the watcher emits, in order. */
function recordEvents(watcher: TemplateWatcher): string[] {
  const events: string[] = [];
  watcher.on("newTip", (t) => events.push(`newTip ${t.height} ${t.prevHashHex}`));
  watcher.on("template", (t) => events.push(`template ${t.height} ${internalToDisplayHex(t.prevHash)}`));
  return events;
}

function nextState(watcher: TemplateWatcher, wanted: NodeState): Promise<void> {
  return new Promise((resolve) => {
    const off = watcher.on("state", (s) => {
      if (s === wanted) {
        off();
        resolve();
      }
    });
  });
}

function nextTip(watcher: TemplateWatcher): Promise<NewTipEvent> {
  return new Promise((resolve) => {
    const off = watcher.on("newTip", (t) => {
      off();
      resolve(t);
    });
  });
}

function lines(records: LogRecord[], prefix: string): LogRecord[] {
  return records.filter((r) => r.msg.startsWith(prefix));
}

async function servedEmbedded(options: ConstructorParameters<typeof EmbeddedNode>[0] = {}): Promise<{
  embedded: EmbeddedNode;
  server: RpcServer;
  rpc: RpcNode;
}> {
  const embedded = new EmbeddedNode({ longPollMaxWaitMs: 600_000, ...options });
  const server = await RpcServer.start({ node: embedded, auth: AUTH });
  const rpc = new RpcNode({ url: server.url, auth: AUTH, timeoutMs: 2_000 });
  cleanups.push(async () => {
    embedded.close();
    await server.stop();
  });
  return { embedded, server, rpc };
}

describe("new tips", () => {
  test("over RPC (getbestblockhash polling): newTip first, then the template of the new tip", async () => {
    const { embedded, rpc } = await servedEmbedded({ mempoolTxs: 3 });
    const logger = createMemoryLogger();
    const watcher = new TemplateWatcher(rpc, { logger, tipPollMs: 5 });
    cleanups.push(() => watcher.stop());
    const events = recordEvents(watcher);
    watcher.start();
    const first = await watcher.nextTemplate();
    expect([first.height, first.transactions.length]).toEqual([1, 3]);
    expect(events).toEqual([`template 1 ${embedded.tipHash}`]);

    const tip = nextTip(watcher);
    const template = watcher.nextTemplate();
    const mined = await embedded.mineBlock();
    const announced = await tip;
    const second = await template;
    console.log(`newTip over RPC ${(announced.seenAtMs - (embedded.acceptedAtMs(mined.hash) ?? 0)).toFixed(0)} ms after the node accepted the block`);
    expect(events.slice(1, 3)).toEqual([`newTip 2 ${mined.hash}`, `template 2 ${mined.hash}`]);
    expect(announced.prevHash).toEqual(displayHexToInternal(mined.hash));
    expect(announced.bits).toBe(0x207fffff);
    const header = await rpc.getBlockHeader(mined.hash);
    expect(announced.minNtime).toBeGreaterThanOrEqual((header.mediantime ?? 0) + 1);
    expect([second.height, second.transactions.length, second.id > first.id]).toEqual([2, 3, true]);
    expect(watcher.template).toBe(second);
  });

  test("in-process (push notification): same order, no polling", async () => {
    const embedded = new EmbeddedNode({ mempoolTxs: 2, longPollMaxWaitMs: 600_000 });
    cleanups.push(() => embedded.close());
    const watcher = new TemplateWatcher(embedded, { logger: createMemoryLogger(), nextTemplateId: (() => { let n = 100; return () => n++; })() });
    cleanups.push(() => watcher.stop());
    const events = recordEvents(watcher);
    const genesis = embedded.tipHash;
    watcher.start();
    expect((await watcher.nextTemplate()).id).toBe(100);
    const template = watcher.nextTemplate();
    const mined = await embedded.mineBlock();
    const second = await template;
    expect(events).toEqual([`template 1 ${genesis}`, `newTip 2 ${mined.hash}`, `template 2 ${mined.hash}`]);
    expect(second.id).toBe(101);
  });

  test("a slow template build (Core on a full mempool) does not delay newTip", async () => {
    const { embedded, rpc } = await servedEmbedded({ templateDelayMs: 150 });
    const watcher = new TemplateWatcher(rpc, { logger: createMemoryLogger(), tipPollMs: 5 });
    cleanups.push(() => watcher.stop());
    const events = recordEvents(watcher);
    watcher.start();
    const first = await watcher.nextTemplate();
    // Let the start-up fetches settle, so that only the long-poll (slow to answer) is pending.
    await Bun.sleep(400);
    let templateAtNewTip: BlockTemplate | null = null;
    const tip = new Promise<NewTipEvent>((resolve) => {
      const off = watcher.on("newTip", (t) => {
        templateAtNewTip = watcher.template;
        off();
        resolve(t);
      });
    });
    const template = watcher.nextTemplate();
    const mined = await embedded.mineBlock();
    const announced = await tip;
    // When newTip arrives the pool is still on the old template: the new one is being built.
    expect(templateAtNewTip === first).toBe(true);
    const second = await template;
    const acceptedAt = embedded.acceptedAtMs(mined.hash) ?? 0;
    console.log(
      `slow template: newTip ${(announced.seenAtMs - acceptedAt).toFixed(0)} ms, template ${(performance.timeOrigin + performance.now() - acceptedAt).toFixed(0)} ms after the block`,
    );
    expect(events.slice(1)).toEqual([`newTip 2 ${mined.hash}`, `template 2 ${mined.hash}`]);
    expect(second.height).toBe(2);
  });

  test("next nBits is announced only where it cannot change", () => {
    expect(nextBitsFollowTip("regtest", 2016)).toBe(true);
    expect(nextBitsFollowTip("main", 840_001)).toBe(true);
    expect(nextBitsFollowTip("main", 840_672)).toBe(false);
    expect(nextBitsFollowTip("signet", 4032)).toBe(false);
    expect(nextBitsFollowTip("test", 5)).toBe(false);
    expect(nextBitsFollowTip("testnet4", 5)).toBe(false);
    expect(nextBitsFollowTip(null, 5)).toBe(false);
  });
});

describe("node trouble", () => {
  test("node down then back: one log line each way, backoff doubling to its cap, last template kept", async () => {
    const { embedded, server, rpc } = await servedEmbedded();
    const port = server.port;
    const logger = createMemoryLogger();
    const delays: number[] = [];
    const sleep: Sleep = (ms, signal) => {
      delays.push(ms);
      return realSleep(ms, signal);
    };
    const watcher = new TemplateWatcher(rpc, { logger, tipPollMs: 5, backoffMinMs: 10, backoffMaxMs: 80, sleep });
    cleanups.push(() => watcher.stop());
    watcher.start();
    const first = await watcher.nextTemplate();

    const down = nextState(watcher, "unreachable");
    await server.stop();
    await down;
    await Bun.sleep(400);
    expect(watcher.state).toBe("unreachable");
    expect(watcher.template).toBe(first);
    expect(lines(logger.records, "node unreachable").length).toBe(1);
    expect(lines(logger.records, "node unreachable")[0]?.msg).toBe("node unreachable; keeping the template at height 1, retrying with backoff");
    const backoffs = delays.filter((d) => d >= 10 && d <= 1_000);
    expect(Math.max(...backoffs)).toBe(80);
    for (const d of [10, 20, 40, 80]) expect(backoffs.includes(d)).toBe(true);

    const up = nextState(watcher, "ok");
    const again = await RpcServer.start({ node: embedded, auth: AUTH, port });
    cleanups.push(() => again.stop());
    await up;
    const back = lines(logger.records, "node is serving templates again");
    expect(back.length).toBe(1);
    expect(back[0]?.fields["was"]).toBe("unreachable");
    const template = watcher.nextTemplate();
    await embedded.mineBlock();
    expect((await template).height).toBe(2);
    expect(lines(logger.records, "node unreachable").length).toBe(1);
  });

  test("initial block download is logged once with the node's progress, then templates resume", async () => {
    const { embedded, rpc } = await servedEmbedded();
    const logger = createMemoryLogger();
    const watcher = new TemplateWatcher(rpc, { logger, tipPollMs: 5, backoffMinMs: 10, backoffMaxMs: 40 });
    cleanups.push(() => watcher.stop());
    const states: NodeState[] = [];
    watcher.on("state", (s) => states.push(s));
    watcher.start();
    const first = await watcher.nextTemplate();
    const ibd = nextState(watcher, "initial-block-download");
    embedded.setInitialBlockDownload(true);
    await embedded.mineBlock();
    await ibd;
    await Bun.sleep(150);
    const logged = lines(logger.records, "node is in initial block download");
    expect(logged.length).toBe(1);
    expect(logged[0]?.fields).toEqual({ error: "Bitcoin Core is in initial sync and waiting for blocks...", blocks: 1, headers: 1 });
    expect(watcher.template).toBe(first);
    const resumed = watcher.nextTemplate();
    embedded.setInitialBlockDownload(false);
    expect((await resumed).height).toBe(2);
    expect(states).toEqual(["ok", "initial-block-download", "ok"]);
  });

  test("a garbage template is never emitted: the last valid one stays, one log line", async () => {
    const core = FakeCore.start("pool", "pw");
    cleanups.push(() => core.stop());
    const one = loadRecordedGbt("regtest-ckpool", "one-txn", "gbt.json");
    const two = loadRecordedGbt("regtest-ckpool", "two-txns", "gbt.json");
    core.template = one;
    core.bestBlockHash = one["previousblockhash"] as string;
    const logger = createMemoryLogger();
    const rpc = new RpcNode({ url: core.url, auth: AUTH, timeoutMs: 2_000 });
    const watcher = new TemplateWatcher(rpc, { logger, tipPollMs: 5, backoffMinMs: 10, backoffMaxMs: 40 });
    cleanups.push(() => watcher.stop());
    const templates: BlockTemplate[] = [];
    watcher.on("template", (t) => templates.push(t));
    watcher.start();
    const first = await watcher.nextTemplate();
    expect(first.height).toBe(505);

    const bad = nextState(watcher, "bad-answer");
    core.template = { ...two, target: "00".repeat(32) };
    core.bestBlockHash = two["previousblockhash"] as string;
    await bad;
    await Bun.sleep(150);
    expect(watcher.template).toBe(first);
    expect(templates.length).toBe(1);
    const logged = lines(logger.records, "node sent an invalid answer");
    expect(logged.length).toBe(1);
    expect(logged[0]?.fields["error"]).toBe("getblocktemplate answer: target disagrees with bits 207fffff");

    const good = watcher.nextTemplate();
    core.template = two;
    expect((await good).height).toBe(504);
    expect(watcher.state).toBe("ok");
  });

  test("a long-poll sent before the node started failing does not count as the node being back", async () => {
    // Every call checks the fault when it is made, as Core does: a long-poll already waiting inside
    // the node is answered normally when the tip moves, even while new calls fail.
    const embedded = new EmbeddedNode({ longPollMaxWaitMs: 600_000 });
    cleanups.push(() => embedded.close());
    let fault: RpcError | null = null;
    const gate = (): void => {
      if (fault !== null) throw fault;
    };
    const node: NodeAPI = {
      getBlockTemplate: async (request?: BlockTemplateRequest) => (gate(), embedded.getBlockTemplate(request)),
      submitBlock: async (hex: string) => (gate(), embedded.submitBlock(hex)),
      getBestBlockHash: async () => (gate(), embedded.getBestBlockHash()),
      getBlockchainInfo: async () => (gate(), embedded.getBlockchainInfo()),
      getBlockHeader: async (hash: string) => (gate(), embedded.getBlockHeader(hash)),
      subscribeNewTip: () => null,
    };
    const logger = createMemoryLogger();
    const watcher = new TemplateWatcher(node, { logger, tipPollMs: 5, backoffMinMs: 10, backoffMaxMs: 40 });
    cleanups.push(() => watcher.stop());
    const states: NodeState[] = [];
    watcher.on("state", (s) => states.push(s));
    watcher.start();
    expect((await watcher.nextTemplate()).height).toBe(1);
    await Bun.sleep(30); // the template loop is now parked in a long-poll

    const failing = nextState(watcher, "error");
    fault = new RpcError(-1, "CreateNewBlock: TestBlockValidity failed");
    await failing;
    // The tip moves: the parked long-poll is answered. Its template is used, but the node still
    // fails every new call, so the state stays "error" and nothing more is logged.
    const moved = watcher.nextTemplate();
    await embedded.mineBlock();
    expect((await moved).height).toBe(2);
    await Bun.sleep(150);
    expect(watcher.state).toBe("error");
    expect(states).toEqual(["ok", "error"]);

    const back = nextState(watcher, "ok");
    fault = null;
    await back;
    expect(states).toEqual(["ok", "error", "ok"]);
    expect(lines(logger.records, "node answered an error").length).toBe(1);
    expect(lines(logger.records, "node is serving templates again").length).toBe(1);
  });

  test("stop() ends a pending long-poll at once", async () => {
    const { rpc } = await servedEmbedded();
    const watcher = new TemplateWatcher(rpc, { logger: createMemoryLogger(), tipPollMs: 5 });
    watcher.start();
    await watcher.nextTemplate();
    await Bun.sleep(20);
    await watcher.stop();
    await expect(watcher.nextTemplate()).rejects.toThrow("TemplateWatcher stopped");
  });
});
