/**
 * Soak run (not in CI): a real pool in front of a Core stand-in that is stopped, slowed and made to
 * answer garbage in turn, with thousands of connected miners (light SV2 clients holding a channel,
 * some dropping and reconnecting) and a few CPU miners that find real blocks. Every 10 s it prints
 * shares accepted and rejected by reason, blocks found / submitted / accepted / on the chain, and
 * RSS; at the end it checks that every found block reached the chain exactly once.
 *
 *   bun bench/soak.ts [--minutes 5] [--miners 2000] [--cpu-miners 8]
 *
 * The load runs in the pool's process (this is about staying correct and bounded under faults, not
 * about throughput), so RSS covers both; what matters is that it stays flat.
 */
import { ChaosCore } from "../test/helpers/chaos-core.ts";
import { LightSv2Client } from "../test/helpers/chaos-client.ts";
import { metricValue, startChaosPool, tempDir } from "../test/helpers/chaos-pool.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const minutes = arg("minutes", 5);
const lightCount = arg("miners", 2000);
const cpuCount = arg("cpu-miners", 8);

// 8 CPU miners capped at 4 kH/s: a block about every 10 s at this difficulty.
const core = await ChaosCore.start({ difficulty: 0.00008 });
const pool = await startChaosPool(core, { dataDir: tempDir("soak") });
const authority = pool.running.identity.authorityPublicKey;
const cpu = await pool.fleet(cpuCount, { prefix: "cpu" });

const light: LightSv2Client[] = [];
async function connectLight(i: number): Promise<void> {
  const c = new LightSv2Client({ port: pool.sv2Port, authority, localAddress: `127.0.${2 + (i % 8)}.${1 + (Math.floor(i / 8) % 250)}` });
  light[i] = c;
  try {
    await c.mine(`farm.asic${i}`);
  } catch {
    // Refused or cut during a fault: reconnected at the next storm.
  }
}
for (let i = 0; i < lightCount; i += 200) {
  await Promise.all(Array.from({ length: Math.min(200, lightCount - i) }, (_, k) => connectLight(i + k)));
}
process.stderr.write(`soak: ${lightCount} light miners + ${cpuCount} CPU miners connected; running ${minutes} min\n`);

type Fault = { name: string; run: () => Promise<void> };
const faults: Fault[] = [
  { name: "node stopped 5 s", run: async () => { await core.stop(); await Bun.sleep(5000); await core.restart(); } },
  { name: "node slow (400 ms) 10 s", run: async () => { core.faults.delayMs = 400; await Bun.sleep(10_000); core.faults.delayMs = 0; } },
  { name: "node answers garbage 5 s", run: async () => { await core.serveGarbage("not-json"); await Bun.sleep(5000); await core.restart(); } },
  {
    name: "10% of the miners drop and reconnect at once",
    run: async () => {
      const n = Math.floor(lightCount / 10);
      const start = Math.floor(Math.random() * (lightCount - n));
      for (let i = start; i < start + n; i++) light[i]?.destroy();
      await Bun.sleep(500);
      await Promise.all(Array.from({ length: n }, (_, k) => connectLight(start + k)));
    },
  },
];

const t0 = Date.now();
let nextFault = 0;
let faultRunning: Promise<void> | null = null;
let lastFaultAt = Date.now();
const rss: number[] = [];
while (Date.now() - t0 < minutes * 60_000) {
  await Bun.sleep(10_000);
  if (faultRunning === null && Date.now() - lastFaultAt > 20_000) {
    const f = faults[nextFault++ % faults.length] as Fault;
    process.stderr.write(`soak: fault: ${f.name}\n`);
    lastFaultAt = Date.now();
    faultRunning = f.run().catch((e: unknown) => {
      process.stderr.write(`soak: fault failed: ${String(e)}\n`);
    }).finally(() => {
      faultRunning = null;
      lastFaultAt = Date.now();
    });
  }
  for (const c of light) if (c !== undefined) c.messages.length = 0; // the load side keeps nothing
  const text = await pool.metrics().catch(() => "");
  const accepted = metricValue(text, 'sv2pool_shares_total{result="accepted"}') ?? 0;
  const rejected = [...text.matchAll(/^sv2pool_shares_total\{result="([^"]+)"\} (\S+)$/gm)].filter((m) => m[1] !== "accepted").map((m) => `${m[1]} ${m[2]}`);
  const sub = pool.running.service.submitter.counters;
  const height = (await core.node.getBlockchainInfo()).blocks;
  const mb = process.memoryUsage.rss() / 1e6;
  rss.push(mb);
  const elapsed = ((Date.now() - t0) / 1000).toFixed(0);
  console.log(
    `${elapsed.padStart(5)} s  connections ${pool.running.sv2?.connectionCount ?? 0}  shares accepted ${accepted}  rejected ${rejected.join(", ") || 0}  ` +
      `blocks found ${sub.found} submitted ${sub.submitted} accepted ${sub.accepted} rejected ${sub.rejected}  chain height ${height}  RSS ${mb.toFixed(0)} MB`,
  );
}
await faultRunning;
await core.restart().catch(() => {});
await Bun.sleep(3000);

const blocks = pool.running.service.ledger.listBlocks(100_000);
const twice = blocks.filter((b) => core.timesOnChain(b.hash) > 1).length;
const missing = blocks.filter((b) => b.status === "pending").length;
console.log(`blocks in the ledger ${blocks.length}: on the chain more than once ${twice}, still pending ${missing}`);
console.log(`RSS first ${rss[0]?.toFixed(0)} MB, last ${rss[rss.length - 1]?.toFixed(0)} MB, max ${Math.max(...rss).toFixed(0)} MB`);
for (const m of cpu) m.stop();
for (const c of light) c?.destroy();
await pool.stop();
await core.close();
process.exit(twice === 0 && missing === 0 ? 0 : 1);
