/**
 * The pool under test, as its own process: the real PoolService (embedded regtest node, SQLite
 * ledger in a temp data dir) behind the real Sv2Server on 127.0.0.1. Nothing else runs here, so
 * its CPU time and RSS are the pool's. Driven by JSON lines on stdin (see bench/proc.ts):
 *
 *   bun bench/pool.ts --config '{"mining":{...}}' [--embedded-difficulty D] [--fanout-chunk N]
 *
 * Answers {"ev":"ready","port":P,"authority":KEY} once serving, then one line per command:
 *   stats       RSS, heap, CPU time, connections, channels, shares by result, fan-out histogram
 *   gc          full GC, then stats (for RSS deltas)
 *   heap        full GC, then JS heap object counts by type
 *   prepare     solve the next block on the embedded node (slow; done before a measurement)
 *   mine        submit the prepared block; reports when the pool applied the new tip
 *   stop        graceful stop, then exit
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex } from "../src/bitcoin/bytes.ts";
import { resolveConfig, type RawConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { EmbeddedNode } from "../src/node/embedded.ts";
import type { SolvedBlock } from "../src/node/block-builder.ts";
import { randomSecretKey } from "../src/noise/ellswift.ts";
import { generateAuthorityKeyPair } from "../src/noise/keys.ts";
import { systemClock } from "../src/pool/clock.ts";
import type { TemplateChange, TipChange } from "../src/pool/pool.ts";
import { createPoolService } from "../src/server/assemble.ts";
import type { MiningFrontend } from "../src/server/pool-service.ts";
import { PoolIdentity } from "../src/server/sv2/identity.ts";
import { Sv2Server, sv2OptionsFromConfig } from "../src/server/sv2/server.ts";
import { heapStats } from "bun:jsc";
import { LagMonitor } from "./machine.ts";
import { reply, serveCommands, type Json } from "./proc.ts";


function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const epoch = (): number => performance.timeOrigin + performance.now();

/** Records when the pool applies a new tip: added before the SV2 server, so it runs before the fan-out. */
class TipRecorder implements MiningFrontend {
  readonly name = "bench-recorder";
  tips: { atEpoch: number; jobId: number }[] = [];
  private waiters: ((t: { atEpoch: number; jobId: number }) => void)[] = [];
  onNewTip(change: TipChange): void {
    const t = { atEpoch: epoch(), jobId: change.job.id };
    this.tips.push(t);
    for (const w of this.waiters.splice(0)) w(t);
  }
  onTemplate(_change: TemplateChange): void {}
  async stop(): Promise<void> {}
  nextTip(): Promise<{ atEpoch: number; jobId: number }> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Added after the SV2 server: marks the end of the synchronous part of its fan-out. */
class AfterRecorder implements MiningFrontend {
  readonly name = "bench-after";
  lastAtEpoch = 0;
  onNewTip(_change: TipChange): void {
    this.lastAtEpoch = epoch();
  }
  onTemplate(_change: TemplateChange): void {}
  async stop(): Promise<void> {}
}

const dataDir = mkdtempSync(join(tmpdir(), "sv2pool-bench-"));
const layers = JSON.parse(arg("config", "{}")) as RawConfig;
const base: RawConfig = {
  "": { data_dir: dataDir },
  node: { mode: "embedded" },
  http: { enabled: false },
  sv1: { enabled: false },
};
const merged: RawConfig = { ...base };
for (const [section, values] of Object.entries(layers)) merged[section] = { ...(merged[section] ?? {}), ...values };
const config = resolveConfig(merged);
const logger = createLogger({ level: (arg("log-level", "warn") as "warn" | "info" | "error" | "debug") });
const node = new EmbeddedNode({
  difficulty: Number(arg("embedded-difficulty", String(config.node.embeddedDifficulty))),
  mempoolTxs: config.node.embeddedMempoolTxs,
  clock: systemClock,
  logger: logger.child({ component: "embedded-node" }),
});
const service = createPoolService(config, { logger, node, clock: systemClock });
const recorder = new TipRecorder();
service.addFrontend(recorder);
service.start();
await service.ready;

const identity = new PoolIdentity(generateAuthorityKeyPair(), randomSecretKey(), systemClock);
const sv2 = new Sv2Server(service, {
  ...sv2OptionsFromConfig(config, identity),
  host: "127.0.0.1",
  port: 0,
  fanoutChunk: Number(arg("fanout-chunk", "250")), // the server default
  ephemeralKeys: Number(arg("ephemeral-keys", "512")),
});
const { port } = await sv2.start();
const after = new AfterRecorder();
service.addFrontend(after);

let prepared: SolvedBlock | null = null;
const lag = new LagMonitor();

function stats(): Json {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const pool = service.pool.getPoolStats();
  const fan = sv2.m.fanoutMs.labels();
  return {
    rssKb: Math.round(mem.rss / 1024),
    heapUsedKb: Math.round(mem.heapUsed / 1024),
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    connections: sv2.connectionCount,
    channels: service.pool.channelCount,
    acceptedShares: pool.acceptedShares,
    rejectedShares: pool.rejectedShares,
    tips: recorder.tips.length,
    fanoutCount: fan.count,
    fanoutSumMs: fan.sum,
  };
}

async function handle(cmd: Json): Promise<Json> {
  switch (cmd["cmd"]) {
    case "stats":
      return stats();
    case "lag":
      return lag.take();
    case "gc":
      Bun.gc(true);
      await Bun.sleep(50);
      Bun.gc(true);
      return stats();
    case "heap": {
      // Object counts by type: what each connected miner costs on the JS heap.
      Bun.gc(true);
      const h = heapStats();
      const top = Object.entries(h.objectTypeCounts)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 40);
      return { heapSize: h.heapSize, heapCapacity: h.heapCapacity, extraMemorySize: h.extraMemorySize, objectCount: h.objectCount, top: Object.fromEntries(top) };
    }
    case "prepare": {
      const t0 = performance.now();
      prepared = await node.craftBlock();
      return { ms: performance.now() - t0, tries: prepared.tries };
    }
    case "mine": {
      if (prepared === null) prepared = await node.craftBlock();
      const block = prepared;
      prepared = null;
      const fanBefore = sv2.m.fanoutMs.labels();
      const countBefore = fanBefore.count;
      const sumBefore = fanBefore.sum;
      const tip = recorder.nextTip();
      const submitEpoch = epoch();
      const answer = await node.submitBlock(bytesToHex(block.bytes));
      if (answer.result !== null) return { error: `embedded node refused the block: ${answer.result}` };
      const t = await tip;
      // Wait for the SV2 fan-out (chunked) to record its first-to-last-write time.
      const deadline = performance.now() + 30_000;
      while (sv2.m.fanoutMs.labels().count === countBefore && performance.now() < deadline) await Bun.sleep(1);
      const fan = sv2.m.fanoutMs.labels();
      return {
        submitEpoch,
        tipEpoch: t.atEpoch,
        syncDoneEpoch: after.lastAtEpoch,
        serverFanoutMs: fan.count > countBefore ? fan.sum - sumBefore : null,
        jobId: t.jobId,
      };
    }
    case "stop":
      await service.stop("bench over", 500);
      return {};
    default:
      return { error: `unknown command ${String(cmd["cmd"])}` };
  }
}

reply({ ev: "ready", port, authority: identity.authorityPublicKey, pid: process.pid, ...stats() });
await serveCommands(handle, "stop");
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
