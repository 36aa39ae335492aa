// Persistence across restarts of the real process (bun src/main.ts run):
//  1. mine with a real SV2 miner until blocks are accepted and share counters are flushed, SIGKILL the
//     pool, start it again on the same data dir: the block history and the worker counters are still
//     there, and the counters keep adding up from where they were;
//  2. a block found while the node is unreachable stays pending through a SIGKILL and is submitted at
//     the next start, and the node's answer is recorded.
import { Database } from "bun:sqlite";
import { afterAll, afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { createMemoryLogger } from "../../src/log.ts";
import { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { EmbeddedNode, REGTEST_GENESIS_HASH } from "../../src/node/embedded.ts";
import { RpcServer } from "../../src/node/rpc-server.ts";
import { Ledger } from "../../src/store/ledger.ts";
import { REPO_DIR, exitWithin, startPoolProcess, type PoolProcess } from "../cli/pool-process.ts";
import { waitFor } from "../helpers/sv2.ts";
import type { PendingChildArgs } from "./pending-block-child.ts";

const root = mkdtempSync(join(tmpdir(), "sv2pool-restart-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const pools: PoolProcess[] = [];
const miners: Sv2Miner[] = [];
afterEach(() => {
  for (const m of miners.splice(0)) m.stop();
  for (const p of pools.splice(0)) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
});

interface BlockRow {
  hash: string;
  height: number;
  worker: string;
  status: string;
  attempts: number;
  node_answer: string | null;
}

interface WorkerRow {
  name: string;
  accepted: number;
  rejected: number;
  stale: number;
  blocks_found: number;
}

interface Snapshot {
  blocks: BlockRow[];
  workers: WorkerRow[];
}

/** What the pool's SQLite file holds, read the way any other program would. */
function readLedgerFile(path: string): Snapshot {
  const db = new Database(path, { readonly: true });
  try {
    return {
      blocks: db.query("SELECT hash, height, worker, status, attempts, node_answer FROM blocks ORDER BY found_at_ms, hash").all() as BlockRow[],
      workers: db.query("SELECT name, accepted, rejected, stale, blocks_found FROM workers ORDER BY name").all() as WorkerRow[],
    };
  } finally {
    db.close();
  }
}

function accepted(s: Snapshot, worker: string): number {
  return s.workers.find((w) => w.name === worker)?.accepted ?? 0;
}

function poolArgs(dataDir: string): string[] {
  return [
    "--data-dir",
    dataDir,
    "--sv2-listen",
    "127.0.0.1:0",
    "--sv1-enabled",
    "false",
    "--http-enabled",
    "false",
    // A block every few hundred thousand hashes: several per run for one CPU miner.
    "--node-embedded-difficulty",
    "0.0001",
    "--mining-min-difficulty",
    "1e-8",
    "--mining-initial-difficulty",
    "1e-6",
  ];
}

async function mine(pool: PoolProcess, user: string): Promise<Sv2Miner> {
  const m = new Sv2Miner({ host: "127.0.0.1", port: pool.sv2Port, authorityPublicKey: pool.authorityKey, user });
  miners.push(m);
  await m.start();
  return m;
}

test("blocks and worker counters survive SIGKILL and a restart, and keep adding up", async () => {
  const dataDir = join(root, "farm");
  const dbPath = join(dataDir, "sv2pool.sqlite");

  // Run 1: mine until the node accepted a block and a flush (every 5 s) stored the worker's shares.
  const first = await startPoolProcess(poolArgs(dataDir));
  pools.push(first);
  const miner1 = await mine(first, "farm.rig1");
  let seen: Snapshot = { blocks: [], workers: [] };
  await waitFor(
    "an accepted block and flushed share counters",
    () => {
      seen = readLedgerFile(dbPath);
      return seen.blocks.some((b) => b.status === "accepted") && accepted(seen, "farm.rig1") > 0;
    },
    15_000,
  );
  first.proc.kill("SIGKILL");
  await first.exit(5_000);
  expect(first.proc.signalCode).toBe("SIGKILL");
  miner1.stop();
  // What the killed process left on disk: at least what was seen while it ran.
  const afterKill = readLedgerFile(dbPath);
  for (const b of seen.blocks.filter((x) => x.status === "accepted")) expect(afterKill.blocks).toContainEqual(b);
  expect(accepted(afterKill, "farm.rig1")).toBeGreaterThanOrEqual(accepted(seen, "farm.rig1"));
  const acceptedBlocks = afterKill.blocks.filter((b) => b.status === "accepted");
  for (const b of acceptedBlocks) {
    expect(b).toMatchObject({ worker: "farm.rig1", attempts: 1, node_answer: "null" });
    expect(b.hash).toMatch(/^0{4}[0-9a-f]{60}$/);
  }
  const worker1 = afterKill.workers.find((w) => w.name === "farm.rig1") as WorkerRow;
  expect(worker1.blocks_found).toBeGreaterThanOrEqual(1);
  // The only shares refused are the few in flight when a new block switched the job (stale).
  expect(worker1.rejected).toBe(worker1.stale);

  // Run 2 on the same data dir: same keys, the history is there before anything new happens.
  const second = await startPoolProcess(poolArgs(dataDir));
  pools.push(second);
  expect(second.authorityKey).toBe(first.authorityKey);
  expect(readLedgerFile(dbPath)).toEqual(afterKill);
  // A found block the node had answered is final: nothing is resubmitted at start.
  expect(second.stderr()).not.toContain("resuming submission");

  // Mining goes on: the same worker's counters grow from the stored totals, and new blocks join the old.
  const miner2 = await mine(second, "farm.rig1");
  let now: Snapshot = afterKill;
  await waitFor(
    "the counters of run 2 added to those of run 1, and a new block",
    () => {
      now = readLedgerFile(dbPath);
      return accepted(now, "farm.rig1") > worker1.accepted && now.blocks.filter((b) => b.status === "accepted").length > acceptedBlocks.length;
    },
    15_000,
  );
  miner2.stop();
  second.proc.kill("SIGTERM");
  expect(await second.exit(5_000)).toBe(0);
  // The graceful stop flushed and closed the ledger: one checkpointed file, no WAL to replay.
  expect(readdirSync(dataDir).sort()).toEqual(["authority.key", "static.key", "sv2pool.sqlite"]);

  // After a clean stop the pool's own Ledger reads it all back: every block of both runs.
  const ledger = new Ledger({ path: dbPath, logger: createMemoryLogger() });
  const listed = ledger.listBlocks(1000).map((b) => b.hash);
  for (const b of acceptedBlocks) expect(listed).toContain(b.hash);
  expect(listed.length).toBeGreaterThan(acceptedBlocks.length);
  const totals = ledger.workerTotals().find((w) => w.name === "farm.rig1");
  expect(totals?.accepted ?? 0).toBeGreaterThanOrEqual(accepted(now, "farm.rig1"));
  expect(ledger.shareBuckets(0, "farm.rig1").reduce((s, b) => s + b.accepted, 0)).toBe(totals?.accepted ?? -1);
  ledger.close(Date.now());
}, 40_000);

test("a block found while the node is unreachable survives SIGKILL and is submitted at the next start", async () => {
  const dataDir = join(root, "pending");
  const dbPath = join(dataDir, "sv2pool.sqlite");
  // A port where nothing listens (yet): the "node" is down.
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const rpcPort = probe.port;
  probe.stop(true);

  // A valid block on regtest genesis, as a miner of the pool would have found it.
  const builder = new EmbeddedNode();
  const solved = await builder.craftBlock();
  builder.close();
  const hash = internalToDisplayHex(solved.hash);
  const args: PendingChildArgs = {
    ledgerPath: dbPath,
    rpcUrl: `http://127.0.0.1:${rpcPort}`,
    rpcUser: "pool",
    rpcPassword: "hunter2",
    hash,
    hashInternal: bytesToHex(solved.hash),
    height: 1,
    prevHash: REGTEST_GENESIS_HASH,
    blockHex: bytesToHex(solved.bytes),
    coinbaseValue: "5000000000",
    foundAtMs: Date.now(),
  };

  // Process 1: finds the block, cannot reach the node, retries, and is killed.
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "pending-block-child.ts"), JSON.stringify(args)], {
    cwd: REPO_DIR,
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
  })();
  await waitFor("two failed submission attempts", () => out.includes('"attempts":2,'), 10_000);
  child.kill("SIGKILL");
  await exitWithin(child, 5_000);
  expect(child.signalCode).toBe("SIGKILL");
  const lines = out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines[0]).toEqual({ recorded: hash, status: "pending" });
  expect(lines[1]).toMatchObject({ attempts: 1, status: "pending" });
  expect(String(lines[1]?.["lastError"])).toContain(`127.0.0.1:${rpcPort}`);

  const left = readLedgerFile(dbPath).blocks;
  expect(left.length).toBe(1);
  expect(left[0]).toMatchObject({ hash, height: 1, worker: "farm.lucky", status: "pending", node_answer: null });
  const attemptsBefore = (left[0] as BlockRow).attempts;
  expect(attemptsBefore).toBeGreaterThanOrEqual(2);

  // The node comes back on the same port, and the pool starts on the same data dir.
  const chain = new EmbeddedNode();
  const rpc = await RpcServer.start({ node: chain, port: rpcPort, auth: { kind: "userpass", user: "pool", password: "hunter2" } });
  try {
    const pool = await startPoolProcess([
      "--data-dir",
      dataDir,
      "--sv2-listen",
      "127.0.0.1:0",
      "--sv1-enabled",
      "false",
      "--http-enabled",
      "false",
      "--node-mode",
      "rpc",
      "--node-rpc-url",
      `http://127.0.0.1:${rpcPort}`,
      "--node-rpc-user",
      "pool",
      "--node-rpc-password",
      "hunter2",
      "--payout-address",
      "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c",
    ]);
    pools.push(pool);
    await waitFor("the node to have the block", () => chain.tipHash === hash, 10_000);
    await waitFor("the node's answer in the ledger", () => readLedgerFile(dbPath).blocks[0]?.status === "accepted", 5_000);
    pool.proc.kill("SIGTERM");
    expect(await pool.exit(5_000)).toBe(0);
    expect(pool.stderr()).toContain(`WARN  resuming submission of a block found before the last stop component=blocks hash=${hash} height=1`);
    expect(pool.stderr()).toContain(`INFO  block accepted by the node component=blocks hash=${hash} height=1 answer=null attempts=${attemptsBefore + 1}`);
  } finally {
    await rpc.stop();
    chain.close();
  }
  // Submitted exactly once to the node that answers, and the answer is on record after every error.
  expect(rpc.calls.get("submitblock")).toBe(1);
  expect(chain.tipHeight).toBe(1);
  expect(readLedgerFile(dbPath).blocks).toEqual([{ hash, height: 1, worker: "farm.lucky", status: "accepted", attempts: attemptsBefore + 1, node_answer: "null" }]);
  const db = new Database(dbPath, { readonly: true });
  const attempts = db.query("SELECT node_answer, error FROM block_attempts ORDER BY at_ms").all() as { node_answer: string | null; error: string | null }[];
  db.close();
  expect(attempts.length).toBe(attemptsBefore + 1);
  for (const a of attempts.slice(0, -1)) {
    expect(a.node_answer).toBeNull();
    expect(a.error).toContain(`127.0.0.1:${rpcPort}`);
  }
  expect(attempts[attempts.length - 1]).toEqual({ node_answer: "null", error: null });
}, 30_000);
