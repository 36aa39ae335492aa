// Chaos: a bounded reconnect storm. Hundreds of SV2 clients (Noise handshake, SetupConnection, one
// channel) connect at once to a fresh pool, then the pool restarts on the same port and all of them
// come back at once: every one gets a channel and a job, and the time is printed. Then connect /
// disconnect cycles show that memory stays bounded and that the pool forgets departed miners.
// (The 10,000-miner figure is bench/'s; this is the CI-sized version.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ChaosCore } from "../helpers/chaos-core.ts";
import { LightSv2Client } from "../helpers/chaos-client.ts";
import { metricValue, removeDir, startChaosPool, tempDir, until, type ChaosPool } from "../helpers/chaos-pool.ts";

const MINERS = 500;
/** Source addresses the storm comes from (many ports each). */
const SOURCES = 6;

let core: ChaosCore;
let pool: ChaosPool;
let dir: string;
let port = 0;

beforeAll(async () => {
  dir = tempDir("storm");
  core = await ChaosCore.start({ difficulty: 1 });
  pool = await startChaosPool(core, { dataDir: dir });
  port = pool.sv2Port;
});

afterAll(async () => {
  for (const m of storm) m.client?.destroy();
  await pool.stop();
  await core.close();
  removeDir(dir);
});

/** One storm miner: connects, and when the connection ends, reconnects at once (retrying while refused). */
interface StormMiner {
  index: number;
  client: LightSv2Client | null;
  /** Resolves each time the miner holds a channel with an active job. */
  served: number;
  sessions: number;
  stopped: boolean;
}

const storm: StormMiner[] = [];

function run(m: StormMiner, authority: string): void {
  if (m.stopped) return;
  const c = new LightSv2Client({ port, authority, localAddress: `127.0.9.${1 + (m.index % SOURCES)}` });
  m.client = c;
  c.mine(`farm.storm${m.index}`).then(
    () => {
      m.served++;
      m.sessions++;
    },
    () => {},
  );
  void c.closed.then(() => {
    if (m.client !== c || m.stopped) return;
    // Refused while the pool restarts: try again shortly; dropped after serving: come back at once.
    setTimeout(() => run(m, authority), c.bytesIn === 0 ? 25 : 0);
  });
}

function servedCount(): number {
  return storm.filter((m) => m.client !== null && !m.client.isClosed && m.served > 0).length;
}

async function rss(): Promise<number> {
  Bun.gc(true);
  await Bun.sleep(50);
  Bun.gc(true);
  return process.memoryUsage.rss();
}

test(`${MINERS} miners connecting at once are all served (channel + job)`, async () => {
  const authority = pool.running.identity.authorityPublicKey;
  const t0 = performance.now();
  for (let i = 0; i < MINERS; i++) {
    const m: StormMiner = { index: i, client: null, served: 0, sessions: 0, stopped: false };
    storm.push(m);
    run(m, authority);
  }
  const ms = await until("every storm miner served", () => servedCount() === MINERS, 60_000);
  console.log(`[chaos] cold storm: ${MINERS} miners connected at once, all with a channel and a job after ${ms.toFixed(0)} ms (${((MINERS / ms) * 1000).toFixed(0)}/s)`);
  expect(pool.running.service.pool.channelCount).toBe(MINERS);
  expect(metricValue(await pool.metrics(), "sv2pool_sv2_connections")).toBe(MINERS);
  expect(performance.now() - t0).toBeLessThan(60_000);
}, 90_000);

test(`the pool restarts: all ${MINERS} come back at once and are served again`, async () => {
  const before = storm.map((m) => m.served);
  const stopStarted = performance.now();
  // Graceful stop: Reconnect to everyone, then close. Every miner retries while the port is closed.
  await pool.stop();
  const restartAt = performance.now();
  pool = await startChaosPool(core, { dataDir: dir, layers: { sv2: { listen: `127.0.0.1:${port}` } } });
  const listeningAt = performance.now();
  const ms = await until("every storm miner served by the new pool", () => storm.every((m, i) => m.served > (before[i] as number) && m.client !== null && !m.client.isClosed), 60_000);
  console.log(
    `[chaos] restart storm: stop took ${(restartAt - stopStarted).toFixed(0)} ms, start ${(listeningAt - restartAt).toFixed(0)} ms; all ${MINERS} miners served again ${ms.toFixed(0)} ms after the new pool listened`,
  );
  expect(pool.running.service.pool.channelCount).toBe(MINERS);
  expect(pool.running.sv2?.connectionCount).toBe(MINERS);
  // Nothing was refused or timed out: the storm was queued, not dropped.
  const text = await pool.metrics();
  expect(text.includes("sv2pool_limit_hits_total{")).toBe(false);
  expect(metricValue(text, "sv2pool_sv2_connections_accepted_total")).toBeGreaterThanOrEqual(MINERS);
}, 90_000);

test("connect / disconnect cycles: the pool forgets departed miners and memory stays bounded", async () => {
  const CYCLES = 3;
  const figures: number[] = [];
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    // Everyone leaves...
    for (const m of storm) {
      m.stopped = true;
      m.client?.destroy();
    }
    await until("every miner forgotten", () => pool.running.service.pool.minerCount === 0 && pool.running.service.pool.channelCount === 0, 10_000);
    await until("every connection released", () => pool.running.sv2?.connectionCount === 0, 10_000);
    figures.push(await rss());
    // ...and comes back.
    const authority = pool.running.identity.authorityPublicKey;
    for (const m of storm) {
      m.stopped = false;
      m.served = 0;
      run(m, authority);
    }
    await until(`cycle ${cycle + 1}: every storm miner served`, () => servedCount() === MINERS, 60_000);
  }
  for (const m of storm) {
    m.stopped = true;
    m.client?.destroy();
  }
  await until("every miner forgotten", () => pool.running.service.pool.minerCount === 0, 10_000);
  figures.push(await rss());
  const mb = figures.map((b) => (b / 1048576).toFixed(1));
  console.log(`[chaos] RSS with no miner connected, after each of ${CYCLES} cycles of ${MINERS} connects + disconnects (MB): ${mb.join(" → ")}`);
  // After the first cycle warmed the allocator up, further cycles add no more than a few MB each.
  const growth = ((figures[figures.length - 1] as number) - (figures[1] as number)) / 1048576;
  expect(growth).toBeLessThan(40);
  expect(pool.running.service.pool.getWorkers().length).toBeLessThanOrEqual(MINERS);
}, 120_000);
