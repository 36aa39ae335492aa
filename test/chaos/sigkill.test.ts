// Chaos: the real pool process (`sv2pool run`, node.mode = "rpc" against a JSON-RPC node in this
// process) is killed with SIGKILL right after a block is found. The block is in the SQLite ledger in
// the data dir, and the next start submits it: it reaches the node exactly once.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { startPoolProcess, type PoolProcess } from "../cli/pool-process.ts";
import { ChaosCore } from "../helpers/chaos-core.ts";
import { removeDir, tempDir, until } from "../helpers/chaos-pool.ts";
import { poolArgs, poolEnv, storedBlocks } from "../helpers/chaos-process.ts";

let core: ChaosCore;
const dirs: string[] = [];
let proc: PoolProcess | null = null;
let finder: Sv2Miner | null = null;

beforeAll(async () => {
  // ~430k hashes a block: an uncapped miner finds one within a second or so.
  core = await ChaosCore.start({ difficulty: 1e-4 });
});

afterEach(() => {
  finder?.stop();
  finder = null;
  if (proc !== null && proc.proc.exitCode === null) proc.proc.kill("SIGKILL");
  proc = null;
});

afterAll(async () => {
  await core.close();
  for (const d of dirs) removeDir(d);
});

async function startProcess(dataDir: string): Promise<PoolProcess> {
  proc = await startPoolProcess(poolArgs(core, dataDir), poolEnv(core));
  return proc;
}

function startFinder(p: PoolProcess): Sv2Miner {
  finder = new Sv2Miner({ host: "127.0.0.1", port: p.sv2Port, authorityPublicKey: p.authorityKey, user: "farm.finder", nominalHashrate: 200_000, reconnect: false });
  void finder.start();
  return finder;
}

async function kill9(p: PoolProcess): Promise<void> {
  p.proc.kill("SIGKILL");
  expect(await p.exit(5_000)).toBe(137);
}

test("SIGKILL while submitblock is in flight: the block is pending on disk and submitted exactly once at the next start", async () => {
  const dir = tempDir("kill-held");
  dirs.push(dir);
  // The node takes the submission but does not answer (a slow Core validating the block).
  core.faults.holdSubmit = true;
  const p = await startProcess(dir);
  startFinder(p);
  await until("a submitblock reaching the node", () => core.heldHashes.length >= 1, 20_000);
  await kill9(p);
  finder?.stop();
  const held = core.heldHashes;
  core.releaseHeldSubmissions(false);
  core.faults.holdSubmit = false;

  // Found, written before submission, and never answered.
  const onDisk = storedBlocks(dir);
  for (const hash of held) expect(onDisk.find((b) => b.hash === hash)?.status).toBe("pending");
  const pending = onDisk.filter((b) => b.status === "pending").map((b) => b.hash);
  expect(pending.length).toBeGreaterThanOrEqual(1);
  for (const hash of pending) expect(core.timesOnChain(hash)).toBe(0);

  const again = await startProcess(dir);
  await until("every pending block submitted at the new start", () => pending.every((h) => core.timesOnChain(h) === 1), 15_000);
  expect(again.stderr()).toContain("resubmitting blocks left pending by the last run");
  for (const hash of pending) expect(again.stderr()).toContain(`resuming submission of a block found before the last stop component=blocks hash=${hash}`);
  again.proc.kill("SIGTERM");
  expect(await again.exit(10_000)).toBe(0);

  const final = storedBlocks(dir);
  for (const hash of pending) {
    const b = final.find((x) => x.hash === hash);
    expect(b?.status).toBe("accepted");
    expect(core.timesOnChain(hash)).toBe(1);
  }
  // The first of them extends the chain; siblings found on the same tip are valid but off the best chain.
  const answers = pending.map((h) => final.find((b) => b.hash === h)?.node_answer ?? "?").sort();
  expect(answers).toEqual(["null", ...new Array<string>(pending.length - 1).fill("inconclusive")].sort());
  expect(pending.filter((h) => core.node.chainHashes.includes(h)).length).toBe(1);
  console.log(`[chaos] SIGKILL with submitblock held: ${pending.length} pending block(s) on disk, all submitted once at the next start`);
}, 60_000);

test("SIGKILL the moment the block is logged, its submission already on the way: resubmitted at the next start, on the chain once", async () => {
  const dir = tempDir("kill-now");
  dirs.push(dir);
  // Core takes a second to validate: the submission sent just before the kill still lands.
  core.faults.delayMs = 1000;
  const p = await startProcess(dir);
  startFinder(p);
  await until("a block found by the pool process", () => p.stderr().includes("INFO  block found"), 20_000);
  const found = /INFO {2}block found component=blocks hash=([0-9a-f]{64})/.exec(p.stderr());
  const hash = (found as RegExpExecArray)[1] as string;
  // Kill while the node holds the submission (it answers after 1 s): the request is on the way. The
  // log line comes just before the HTTP request leaves, so killing on the log line alone raced it.
  await until("the block's submitblock reached the node", () => core.submitCalls.includes(hash), 5_000);
  await kill9(p);
  finder?.stop();
  // The block was written (synchronously, FULL sync) before it was logged and submitted.
  const onDisk = storedBlocks(dir).find((b) => b.hash === hash);
  expect(onDisk?.status).toBe("pending");
  expect(core.submitCalls).toContain(hash);

  const again = await startProcess(dir);
  await until("the block submitted again", () => core.timesOnChain(hash) === 2, 15_000);
  core.faults.delayMs = 0;
  again.proc.kill("SIGTERM");
  expect(await again.exit(10_000)).toBe(0);
  const final = storedBlocks(dir).find((b) => b.hash === hash);
  // The dead process's submission made the block; the resubmission is answered "duplicate", which
  // the ledger records as accepted: one block on the chain, no loss, no double count.
  expect(core.chainSubmissions.filter((s) => s.hash === hash).map((s) => s.answer)).toEqual([null, "duplicate"]);
  expect(final?.status).toBe("accepted");
  expect(final?.node_answer).toBe("duplicate");
  expect(core.node.chainHashes.filter((h) => h === hash).length).toBe(1);
  console.log(`[chaos] SIGKILL right after "block found" with the submission in flight: pending on disk, resubmitted at the next start, answers null then duplicate`);
}, 60_000);
