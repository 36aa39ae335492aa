// Chaos: the node (a real JSON-RPC server in front of the embedded chain) stops, restarts, slows down,
// answers errors and answers garbage, while the whole pool (startPool, node.mode = "rpc") serves a
// fleet of real CPU miners. Healthy miners keep getting shares accepted on the last job, each outage
// is logged once and shows as sv2pool_node_up 0, a block found meanwhile is kept and submitted when
// the node is back (and reported stale when the chain moved on), and every block found reaches the
// node exactly once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { bytesToHex } from "../../src/bitcoin/bytes.ts";
import type { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import type { BlockRecord } from "../../src/store/ledger.ts";
import { ChaosCore } from "../helpers/chaos-core.ts";
import { everyMinerProgresses, metricValue, removeDir, startChaosPool, tempDir, until, type ChaosPool } from "../helpers/chaos-pool.ts";

let core: ChaosCore;
let pool: ChaosPool;
let fleet: Sv2Miner[];
let dir: string;

beforeAll(async () => {
  dir = tempDir("node");
  // Network difficulty 1e-4 (~430k hashes a block): the capped fleet (6 × 4 kH/s) finds one every
  // ~18 s on average; an uncapped "finder" miner finds one in well under a second when a test needs it.
  core = await ChaosCore.start({ difficulty: 1e-4 });
  // A short RPC timeout, so that the "node too slow" case is quick to reach.
  pool = await startChaosPool(core, { dataDir: dir, layers: { node: { rpc_timeout_ms: 1000 } } });
  fleet = await pool.fleet(6);
});

afterAll(async () => {
  await pool.stop();
  await core.close();
  removeDir(dir);
});

/** Mines with an uncapped miner until the pool has recorded `count` more blocks, then stops it. */
async function findBlocks(count = 1): Promise<BlockRecord[]> {
  const before = new Set(pool.running.service.ledger.listBlocks(10_000).map((b) => b.hash));
  const finder = pool.miner({ user: "farm.finder", nominalHashrate: 200_000 });
  await finder.start();
  let found: BlockRecord[] = [];
  await until("a block found by the finder", () => {
    found = pool.running.service.ledger.listBlocks(10_000).filter((b) => !before.has(b.hash));
    return found.length >= count;
  }, 20_000);
  finder.stop();
  return found;
}

function nodeState(): string {
  return pool.running.service.nodeState;
}

/** Every block in the ledger got a final answer, reached the chain exactly once, and the ledger has the node's answer. */
function expectEveryBlockOnChainOnce(): BlockRecord[] {
  const blocks = pool.running.service.ledger.listBlocks(10_000);
  for (const b of blocks) {
    expect({ hash: b.hash, status: b.status }).toEqual({ hash: b.hash, status: "accepted" });
    expect({ hash: b.hash, times: core.timesOnChain(b.hash) }).toEqual({ hash: b.hash, times: 1 });
    const answer = core.chainSubmissions.find((s) => s.hash === b.hash)?.answer;
    expect(b.nodeAnswer).toBe(answer === null ? "null" : (answer as string));
  }
  return blocks;
}

test("node stops answering: miners keep mining the last job, node_up 0, a block found meanwhile is submitted when it returns and reported stale", async () => {
  const tipBefore = core.node.tipHash;
  const heightBefore = core.node.tipHeight;
  expect(metricValue(await pool.metrics(), "sv2pool_node_up")).toBe(1);

  await core.stop();
  await until("the pool to see the node down", () => nodeState() === "unreachable", 5_000);
  expect(metricValue(await pool.metrics(), "sv2pool_node_up")).toBe(0);
  // Miners keep mining the last job: shares accepted from every one of them.
  await everyMinerProgresses(fleet, "node down");

  // A block found while the node is gone is kept (pending) and retried.
  const [found] = await findBlocks(1);
  const block = found as BlockRecord;
  expect(block.prevHash).toBe(tipBefore);
  expect(block.height).toBe(heightBefore + 1);
  await until("a failed submission attempt", () => (pool.running.service.ledger.getBlock(block.hash)?.attempts ?? 0) >= 1);
  const pending = pool.running.service.ledger.getBlock(block.hash) as BlockRecord;
  expect(pending.status).toBe("pending");
  expect(pending.lastError ?? "").toContain("cannot reach Bitcoin Core");
  expect(core.submitCalls).not.toContain(block.hash);

  // Meanwhile another pool finds the next block: the chain moves on without us.
  const competitor = await core.node.mineBlock();
  expect(competitor.answer.result).toBeNull();
  await Bun.sleep(500);

  // One clear line for the whole outage, however many polls failed.
  const down = pool.logged("node unreachable");
  expect(down.length).toBe(1);
  expect((down[0] as { msg: string }).msg).toBe(`node unreachable; keeping the template at height ${heightBefore + 1}, retrying with backoff`);
  expect(pool.logged("block submission did not reach the node").length).toBeGreaterThanOrEqual(1);

  const t0 = performance.now();
  await core.restart();
  // Every block found during the outage gets its final answer once the node is back.
  const outage = pool.running.service.ledger.listBlocks(10_000).filter((b) => b.prevHash === tipBefore);
  const submitMs = await until("the pending blocks submitted", () => outage.every((b) => pool.running.service.ledger.getBlock(b.hash)?.status !== "pending"), 15_000);
  const tipMs = await until("the pool on the competitor's tip", () => (pool.running.service.pool.currentTip?.height ?? 0) >= competitor.height + 1, 5_000);
  console.log(`[chaos] node back: pending block(s) submitted after ${submitMs.toFixed(0)} ms, pool on the new tip after ${(performance.now() - t0).toFixed(0)} ms (${tipMs.toFixed(0)} ms after the submissions)`);

  for (const b of outage) {
    const rec = pool.running.service.ledger.getBlock(b.hash) as BlockRecord;
    // Valid, but the competitor got there first: Core's "inconclusive", recorded and logged as stale.
    expect(rec.status).toBe("accepted");
    expect(rec.nodeAnswer).toBe("inconclusive");
    expect(core.timesOnChain(b.hash)).toBe(1);
  }
  expect(core.node.tipHash === competitor.hash || core.node.chainHashes.includes(competitor.hash)).toBe(true);
  expect(pool.logs.filter((r) => r.msg === "block accepted by the node but not on its best chain (stale)" && r.fields["hash"] === block.hash).length).toBe(1);
  expect(pool.logs.filter((r) => r.msg === "node is serving templates again").length).toBeGreaterThanOrEqual(1);
  expect(metricValue(await pool.metrics(), "sv2pool_node_up")).toBe(1);
  await everyMinerProgresses(fleet, "node back");
}, 60_000);

test("node restarts after a few seconds with a new block: the pool follows the tip again within a second", async () => {
  await core.stop();
  await until("node down seen", () => nodeState() === "unreachable", 5_000);
  // Long enough for the retry backoffs to have grown.
  await Bun.sleep(3000);
  const mined = await core.node.mineBlock();
  expect(mined.answer.result).toBeNull();
  const t0 = performance.now();
  await core.restart();
  const ms = await until("the pool on the restarted node's tip", () => (pool.running.service.pool.currentTip?.height ?? 0) >= mined.height + 1, 15_000);
  console.log(`[chaos] node restarted after a 3 s outage: pool on the new tip ${ms.toFixed(0)} ms after the node came back`);
  expect(ms).toBeLessThan(1000);
  expect(nodeState()).toBe("ok");
  await everyMinerProgresses(fleet, "after the restart");
  // Blocks found now go straight through: accepted, on the best chain.
  const [found] = await findBlocks(1);
  await until("the block answered", () => pool.running.service.ledger.getBlock((found as BlockRecord).hash)?.status !== "pending");
  expect(pool.running.service.ledger.getBlock((found as BlockRecord).hash)?.nodeAnswer).toBe("null");
  expect(core.timesOnChain((found as BlockRecord).hash)).toBe(1);
}, 60_000);

test("node answers slowly, then times out: the pool keeps serving, logs the outage once, and recovers", async () => {
  const errorsBefore = pool.logs.filter((r) => r.level === "error").length;
  // Slow but within rpc_timeout_ms (1 s): nothing to report, miners unaffected, new blocks still followed.
  // The next block is ground first: the embedded chain mines in this process and would stall the
  // event loop (and so the pool's RPC timers) for a moment.
  const next = await core.node.craftBlock();
  const nextHeight = core.node.tipHeight + 1;
  core.faults.delayMs = 400;
  await everyMinerProgresses(fleet, "slow node");
  expect((await core.node.submitBlock(bytesToHex(next.bytes))).result).toBeNull();
  await until("the pool on the slow node's new tip", () => (pool.running.service.pool.currentTip?.height ?? 0) >= nextHeight + 1, 10_000);
  expect(nodeState()).toBe("ok");
  expect(pool.logs.filter((r) => r.level === "error").length).toBe(errorsBefore);

  // Slower than the timeout: the node counts as unreachable, logged once.
  core.faults.delayMs = 1300;
  await until("timeouts seen", () => nodeState() === "unreachable", 10_000);
  await everyMinerProgresses(fleet, "node timing out");
  await Bun.sleep(1000);
  const lines = pool.logs.slice().filter((r) => r.level === "error" && r.msg.startsWith("node unreachable"));
  const timeoutLines = lines.filter((r) => String(r.fields["error"]).includes("no answer from") && String(r.fields["error"]).includes("within 1000 ms"));
  expect(timeoutLines.length).toBe(1);
  expect(metricValue(await pool.metrics(), "sv2pool_node_up")).toBe(0);

  core.faults.delayMs = 0;
  await until("the node serving again", () => nodeState() === "ok", 10_000);
  expect(metricValue(await pool.metrics(), "sv2pool_node_up")).toBe(1);
  await everyMinerProgresses(fleet, "node fast again");
  // Requests sent while the node was slow may still time out now; let them, then it must be ok.
  await Bun.sleep(1400);
  await until("the node serving after the stragglers", () => nodeState() === "ok", 10_000);
}, 60_000);

test("node answers RPC errors, then garbage: one log line per state, miners keep mining, a block found meanwhile arrives once", async () => {
  const stateLines = (): string[] => pool.logs.filter((r) => r.fields["component"] === "node" && (r.level === "error" || r.level === "warn")).map((r) => r.msg);
  const before = stateLines().length;
  const h = String(pool.running.service.watcher.template?.height ?? 0);

  core.faults.rpcError = { code: -1, message: "CreateNewBlock: TestBlockValidity failed" };
  await until("the error state", () => nodeState() === "error", 5_000);
  await everyMinerProgresses(fleet, "node answering errors");
  core.faults.rpcError = { code: -28, message: "Loading block index..." };
  await until("the warm-up state", () => nodeState() === "warming-up", 5_000);
  core.faults.rpcError = null;
  await until("ok again", () => nodeState() === "ok", 5_000);

  await core.serveGarbage("not-json");
  await until("the bad-answer state", () => nodeState() === "bad-answer", 5_000);
  // A block found while the node's port answers garbage is kept and retried.
  const [found] = await findBlocks(1);
  const hash = (found as BlockRecord).hash;
  await until("a failed attempt", () => (pool.running.service.ledger.getBlock(hash)?.attempts ?? 0) >= 1);
  expect(pool.running.service.ledger.getBlock(hash)?.lastError ?? "").toContain("not JSON");
  await everyMinerProgresses(fleet, "node answering garbage");
  await core.serveGarbage("html-500");
  await until("the unreachable state (HTTP error page)", () => nodeState() === "unreachable", 5_000);
  await core.serveGarbage("wrong-shape");
  await until("bad-answer again (wrong JSON shape)", () => nodeState() === "bad-answer", 5_000);
  await everyMinerProgresses(fleet, "node answering the wrong shape");

  await core.restart();
  await until("ok after the garbage", () => nodeState() === "ok", 5_000);
  await until("the block answered", () => pool.running.service.ledger.getBlock(hash)?.status !== "pending", 15_000);
  expect(core.timesOnChain(hash)).toBe(1);

  const lines = stateLines().slice(before).map((l) => l.replace(/height \d+/, "height H"));
  // One line per state change, never one per failed poll. Swapping what listens on the node's port
  // cuts the pool's pending long-poll, which shows as "unreachable" in between.
  const polls = core.calls("getbestblockhash");
  console.log(`[chaos] errors and garbage: ${lines.length} log lines for the node's state, ${polls} getbestblockhash polls served in total`);
  expect(lines.filter((l) => !l.startsWith("node unreachable"))).toEqual([
    "node answered an error; keeping the template at height H, retrying",
    "node is warming up; keeping the template at height H, waiting",
    "node sent an invalid answer; keeping the template at height H, retrying",
    "node sent an invalid answer; keeping the template at height H, retrying",
  ]);
  expect(lines.filter((l) => l === "node unreachable; keeping the template at height H, retrying with backoff").length).toBeGreaterThanOrEqual(1);
  expect(lines.length).toBeLessThanOrEqual(6);
  await everyMinerProgresses(fleet, "node sane again");
}, 60_000);

test("every block found during the run reached the node exactly once, with the node's answer in the ledger", async () => {
  await until("no block pending", () => pool.running.service.submitter.pending === 0, 15_000);
  const blocks = expectEveryBlockOnChainOnce();
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  // Nothing reached the chain that the ledger does not know.
  const known = new Set(blocks.map((b) => b.hash));
  for (const s of core.chainSubmissions) expect(known.has(s.hash)).toBe(true);
  for (const m of fleet) expect(m.stats.rejectReasons["invalid-share"] ?? 0).toBe(0);
  console.log(`[chaos] node faults: ${blocks.length} blocks found, ${core.chainSubmissions.length} submissions reached the chain; fleet accepted ${fleet.map((m) => m.stats.accepted).join("/")}`);
});
