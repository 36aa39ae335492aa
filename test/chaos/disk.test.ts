// Chaos: the ledger's disk refuses writes. The pool keeps mining, keeps found blocks in memory (they
// are still submitted and shown by the API), logs the failure once, and writes everything when the
// disk is back.
//
// Tests may run as root, which ignores file permissions, so chmod cannot make a disk read-only here.
// Two ways that work for root and others alike:
//  - the ledger's directory cannot exist (a regular file stands where it should be: ENOTDIR), until
//    the file is removed: the "data dir missing / not writable at start" case;
//  - the disk fills up under a running pool: the real process runs under a wrapper that sets
//    RLIMIT_FSIZE to 0 on SIGUSR1 (every file write fails, SQLite says "disk I/O error" as it does
//    for ENOSPC) and lifts it on SIGUSR2.
import { afterAll, afterEach, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { Sv2Miner as Miner } from "../../src/miner/sv2-miner.ts";
import type { BlockRecord } from "../../src/store/ledger.ts";
import { ChaosCore } from "../helpers/chaos-core.ts";
import { everyMinerProgresses, removeDir, startChaosPool, tempDir, until, type ChaosPool } from "../helpers/chaos-pool.ts";
import { poolArgs, poolEnv, startScriptPool, storedBlocks, type ScriptPool } from "../helpers/chaos-process.ts";

const dirs: string[] = [];
let core: ChaosCore | null = null;
let pool: ChaosPool | null = null;
let child: ScriptPool | null = null;
const miners: Sv2Miner[] = [];

afterEach(async () => {
  for (const m of miners.splice(0)) m.stop();
  if (child !== null && child.proc.exitCode === null) child.proc.kill("SIGKILL");
  child = null;
  await pool?.stop();
  pool = null;
  await core?.close();
  core = null;
});

afterAll(() => {
  for (const d of dirs) removeDir(d);
});

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

test("the ledger's directory cannot be created: mining goes on, a found block is kept in memory and submitted, and written once the directory can be made", async () => {
  core = await ChaosCore.start({ difficulty: 1e-4 });
  const data = dir("disk-blocked");
  const blocker = join(data, "ledger");
  writeFileSync(blocker, "not a directory");
  const ledgerPath = join(blocker, "sv2pool.sqlite");
  pool = await startChaosPool(core, { dataDir: data, ledgerPath });
  const p = pool;
  const ledger = p.running.service.ledger;
  expect(ledger.writeError ?? "").toStartWith(`cannot open ${ledgerPath}: `);
  const openLines = p.logs.filter((r) => r.level === "error" && r.fields["component"] === "ledger");
  expect(openLines.map((r) => r.msg)).toEqual(["ledger: cannot open the database; keeping blocks and counters in memory and retrying"]);
  expect(openLines[0]?.fields["path"]).toBe(ledgerPath);

  const fleet = await p.fleet(3);
  await everyMinerProgresses(fleet, "ledger unwritable");
  const finder = p.miner({ user: "farm.finder", nominalHashrate: 200_000 });
  await finder.start();
  let block: BlockRecord | undefined;
  await until("a block found", () => (block = ledger.listBlocks(1)[0]) !== undefined, 20_000);
  finder.stop();
  const hash = (block as BlockRecord).hash;
  // Submitted regardless of the disk, and remembered in memory (the API shows it).
  await until("the block answered", () => ledger.getBlock(hash)?.status === "accepted", 10_000);
  expect(core.timesOnChain(hash)).toBe(1);
  expect(ledger.unsavedBlocks).toBeGreaterThanOrEqual(1);
  const listed = (await (await fetch(`${p.httpUrl}/api/blocks`)).json()) as { blocks: { hash: string; status: string }[] };
  expect(listed.blocks.find((b) => b.hash === hash)?.status).toBe("accepted");
  await everyMinerProgresses(fleet, "ledger still unwritable");
  // Still the one line: retries fail the same way and are not logged again.
  expect(p.logs.filter((r) => r.level === "error" && r.fields["component"] === "ledger").length).toBe(1);

  // The disk is back: the next flush (every 5 s) opens the file and writes what was kept.
  rmSync(blocker);
  const ms = await until("the kept block written", () => ledger.unsavedBlocks === 0 && ledger.writeError === null, 10_000);
  console.log(`[chaos] ledger directory back: kept block(s) written ${ms.toFixed(0)} ms later`);
  expect(p.logs.some((r) => r.msg === "ledger: the disk accepts writes again")).toBe(true);
  const onDisk = storedBlocks(blocker).find((b) => b.hash === hash);
  expect(onDisk?.status).toBe("accepted");
  expect(onDisk?.node_answer).toBe("null");
  await everyMinerProgresses(fleet, "ledger writable");
  // Every block found reached the node once, whatever the disk did.
  for (const b of ledger.listBlocks(10_000)) expect({ hash: b.hash, times: core.timesOnChain(b.hash) }).toEqual({ hash: b.hash, times: 1 });
}, 60_000);

test("the disk fills up under the running process: clear error, mining and block submission go on, everything is written when there is room again", async () => {
  core = await ChaosCore.start({ difficulty: 1e-4 });
  const data = dir("disk-full");
  mkdirSync(data, { recursive: true });
  const c = core;
  child = await startScriptPool(
    "test/chaos/fixtures/disk-full-pool.ts",
    poolArgs(c, data, ["--http-enabled", "true", "--http-listen", "127.0.0.1:0"]),
    poolEnv(c),
  );
  const p = child;
  const miner = (user: string, extra: Partial<ConstructorParameters<typeof Miner>[0]> = {}): Sv2Miner => {
    const m = new Miner({ host: "127.0.0.1", port: p.sv2Port, authorityPublicKey: p.authorityKey, user, maxHashrate: 4000, batch: 256, ...extra });
    miners.push(m);
    return m;
  };
  const fleet = [miner("farm.a"), miner("farm.b"), miner("farm.c")];
  await Promise.all(fleet.map((m) => m.start()));
  await everyMinerProgresses(fleet, "disk fine");

  p.proc.kill("SIGUSR1");
  await until("the disk full", () => p.stderr().includes("TEST  disk is now full"), 5_000);
  const finder = miner("farm.finder", { nominalHashrate: 200_000, maxHashrate: 0 });
  await finder.start();
  await until("a block found", () => c.chainSubmissions.length >= 1, 20_000);
  finder.stop();
  const hash = (c.chainSubmissions[0] as { hash: string }).hash;
  expect(c.chainSubmissions[0]?.answer).toBeNull();
  await until("the ledger's complaint", () => p.stderr().includes("ERROR ledger: cannot write"), 10_000);
  const complaint = p.stderr().split("\n").filter((l) => l.includes("ERROR ledger: cannot write"));
  expect(complaint.length).toBe(1);
  expect(complaint[0]).toContain(`component=ledger path=${join(data, "sv2pool.sqlite")} error="disk I/O error"`);
  // The pool has the block in memory and says so. (Whether its row reached the file is not for the
  // test to pin: RLIMIT_FSIZE only refuses growing a file, and SQLite may write the row into WAL
  // space it allocated before the disk "filled"; the complaint above shows a write did fail.)
  // The node's answer reaches the pool a moment after the node recorded the block: poll for it.
  let status: string | undefined;
  await until("the block accepted in the pool's API", async () => {
    const listed = (await (await fetch(`${p.httpUrl as string}/api/blocks`)).json()) as { blocks: { hash: string; status: string }[] };
    status = listed.blocks.find((b) => b.hash === hash)?.status;
    return status === "accepted";
  }, 5_000);
  expect(status).toBe("accepted");
  await everyMinerProgresses(fleet, "disk full");
  // The answer's write failed as well, and the share counters' flush: still the one line.
  expect(p.stderr().split("\n").filter((l) => l.includes("ERROR ledger:")).length).toBe(1);

  p.proc.kill("SIGUSR2");
  const ms = await until("the block written", () => storedBlocks(data).some((b) => b.hash === hash && b.status === "accepted"), 10_000);
  console.log(`[chaos] disk full, then room again: kept block written ${ms.toFixed(0)} ms later`);
  await until("the recovery logged", () => p.stderr().includes("INFO  ledger: the disk accepts writes again"), 5_000);
  await everyMinerProgresses(fleet, "disk back");
  p.proc.kill("SIGTERM");
  expect(await p.exit(10_000)).toBe(0);
  expect(c.timesOnChain(hash)).toBe(1);
}, 60_000);
