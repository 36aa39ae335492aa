// Stratum V1 listener figures: shares per second at saturation and their round trip (p50/p99; at
// saturation the round trip is mostly queueing, so a single miner's is given too), from
// a separate load process over real TCP into the real pool core; the in-process core cost of the
// same share on an extended channel (what the V2 path pays before its transport) beside it; and the
// fan-out of one job to many idle sessions.
// Run directly: `bun bench/sv1.ts [--quick] [--json]`.
import { join } from "node:path";
import { MAX_TARGET } from "../src/bitcoin/target.ts";
import { resolveConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { EmbeddedNode } from "../src/node/embedded.ts";
import { createPoolService } from "../src/server/assemble.ts";
import type { PoolService } from "../src/server/pool-service.ts";
import { Sv1Server } from "../src/server/sv1/server.ts";

const LOAD_SCRIPT = join(import.meta.dir, "sv1-load.ts");

async function startService(): Promise<PoolService> {
  // Difficulty pinned at the pool's maximum target: every distinct share is valid, vardiff cannot
  // move it, so the figures measure the share path and not rejections. No blocks (node difficulty 1).
  const config = resolveConfig({
    "": { data_dir: ":memory:" },
    node: { tip_poll_ms: 50 },
    mining: { min_difficulty: 1e-10, max_difficulty: 1e-10, initial_difficulty: 1e-10 },
  });
  const node = new EmbeddedNode({ difficulty: 1 });
  const service = createPoolService(config, { logger: silentLogger, node });
  service.start();
  await service.ready;
  return service;
}

/** Reads JSON lines from a child's stdout, in order. */
async function* jsonLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<Record<string, number | boolean>> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line.startsWith("{")) yield JSON.parse(line) as Record<string, number | boolean>;
    }
  }
}

async function shareLoad(server: Sv1Server, connections: number, window: number, durationMs: number): Promise<Record<string, number>> {
  const { port } = server.address;
  const child = Bun.spawn([process.execPath, LOAD_SCRIPT, "shares", String(port), String(connections), String(window), String(durationMs), "500"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  let result: Record<string, number | boolean> = {};
  for await (const r of jsonLines(child.stdout)) result = r;
  await child.exited;
  const answered = result["answered"] as number;
  const seconds = result["seconds"] as number;
  return {
    sharesPerSec: Math.round(answered / seconds),
    p50: Math.round(result["rttP50Us"] as number),
    p99: Math.round(result["rttP99Us"] as number),
    acceptedRatio: Number(((result["accepted"] as number) / Math.max(1, answered)).toFixed(4)),
  };
}

/** The pool core alone: the same share on an extended channel, submitted in-process. */
function coreBaseline(service: PoolService, ms: number): number {
  const endpoint = "bench:core#1";
  service.registerSession(endpoint, { targetChanged: () => {} });
  const ch = service.pool.openExtendedChannel(endpoint, { userIdentity: "bench.core", nominalHashrate: 0, maxTarget: MAX_TARGET, minExtranonceSize: 8, difficulty: 1e-10 });
  const job = service.pool.currentJob;
  if (job === null || job.minNtime === null) throw new Error("no job");
  service.pool.assignJob(ch, job, false);
  const extranonce = new Uint8Array(8);
  let nonce = 0;
  // Warm-up (JIT) before the measured part.
  const w0 = performance.now();
  while (performance.now() - w0 < ms / 2) {
    for (let i = 0; i < 1000; i++) {
      service.submitShare(endpoint, { channelId: ch.id, sequenceNumber: nonce, jobId: job.id, nonce: nonce++, ntime: job.minNtime, version: job.version, extranonce });
    }
  }
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 1000; i++) {
      service.submitShare(endpoint, { channelId: ch.id, sequenceNumber: nonce, jobId: job.id, nonce: nonce++, ntime: job.minNtime, version: job.version, extranonce });
    }
    done += 1000;
  }
  const rate = done / ((performance.now() - t0) / 1000);
  service.unregisterSession(endpoint);
  return Math.round(rate);
}

async function fanoutLoad(server: Sv1Server, service: PoolService, sessions: number): Promise<Record<string, number>> {
  const { port } = server.address;
  const child = Bun.spawn([process.execPath, LOAD_SCRIPT, "fanout", String(port), String(sessions)], { stdout: "pipe", stderr: "inherit" });
  const lines = jsonLines(child.stdout);
  const first = await lines.next();
  if (first.done === true || first.value["ready"] !== true) throw new Error("fan-out load did not get ready");
  const job = service.pool.currentJob;
  if (job === null) throw new Error("no job");
  const t0 = performance.timeOrigin + performance.now();
  // The same broadcast a same-tip template triggers: one notify line to every ready session.
  server.onTemplate({ kind: "update", job, speculative: null });
  const syncMs = performance.timeOrigin + performance.now() - t0;
  const second = await lines.next();
  await child.exited;
  const lastMs = second.done === true ? NaN : (second.value["lastNotifyMs"] as number);
  return { sv1_fanout_sessions: sessions, sv1_fanout_first_slice_ms: Number(syncMs.toFixed(2)), sv1_fanout_to_last_miner_ms: Number((lastMs - t0).toFixed(2)) };
}

export async function run(opts: { quick?: boolean }): Promise<Record<string, number>> {
  const quick = opts.quick === true;
  const service = await startService();
  const server = new Sv1Server(service, {
    host: "127.0.0.1",
    port: 0,
    extranonce2Size: 4,
    maxLineBytes: 4096,
    maxSharesPerSecond: 1_000_000,
    writeBufferBytes: 1 << 24,
    minDifficulty: 1e-10,
  });
  await server.start();
  const figures: Record<string, number> = {};
  try {
    figures["core_extended_shares_per_sec"] = coreBaseline(service, quick ? 300 : 1000);
    const sat = await shareLoad(server, quick ? 16 : 64, 16, quick ? 1000 : 3000);
    figures["sv1_shares_per_sec"] = sat["sharesPerSec"] as number;
    figures["sv1_share_rtt_p50_us"] = sat["p50"] as number;
    figures["sv1_share_rtt_p99_us"] = sat["p99"] as number;
    figures["sv1_accepted_ratio"] = sat["acceptedRatio"] as number;
    // One miner, one share at a time: the round trip without queueing.
    const single = await shareLoad(server, 1, 1, quick ? 500 : 2000);
    figures["sv1_single_share_rtt_p50_us"] = single["p50"] as number;
    figures["sv1_single_share_rtt_p99_us"] = single["p99"] as number;
    Object.assign(figures, await fanoutLoad(server, service, quick ? 1000 : 5000));
  } finally {
    await service.stop("bench over", 200);
  }
  const row = (label: string, value: string): void => console.log(`${label.padEnd(60)} ${value.padStart(16)}`);
  row("SV1 shares/s at saturation (TCP, separate load process)", figures["sv1_shares_per_sec"]?.toLocaleString("en-US") ?? "-");
  row("SV1 share round trip at saturation p50", `${figures["sv1_share_rtt_p50_us"]} µs`);
  row("SV1 share round trip at saturation p99", `${figures["sv1_share_rtt_p99_us"]} µs`);
  row("SV1 share round trip, one miner, one share in flight p50", `${figures["sv1_single_share_rtt_p50_us"]} µs`);
  row("SV1 share round trip, one miner, one share in flight p99", `${figures["sv1_single_share_rtt_p99_us"]} µs`);
  row("SV1 shares accepted (of answered)", `${((figures["sv1_accepted_ratio"] ?? 0) * 100).toFixed(2)} %`);
  row("core only: extended-channel share, in-process (V2 path w/o transport)", figures["core_extended_shares_per_sec"]?.toLocaleString("en-US") ?? "-");
  row(`SV1 job fan-out to ${figures["sv1_fanout_sessions"]} sessions: first slice (sync)`, `${figures["sv1_fanout_first_slice_ms"]} ms`);
  row(`SV1 job fan-out to ${figures["sv1_fanout_sessions"]} sessions: until the last miner has it`, `${figures["sv1_fanout_to_last_miner_ms"]} ms`);
  return figures;
}

if (import.meta.main) {
  const figures = await run({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
}
