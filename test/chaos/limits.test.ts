// Chaos: every connection limit hit for real, next to a fleet of healthy miners: connections per
// source IP and in total, the handshake timeout under a storm of half-open sockets, the idle timeout,
// and the write buffer cap with a device that stops reading. Each is logged once per cause, counted in
// sv2pool_limit_hits_total, and never stops the healthy miners' shares from being accepted.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { ChaosCore } from "../helpers/chaos-core.ts";
import { halfOpen, LightSv2Client } from "../helpers/chaos-client.ts";
import { everyMinerProgresses, metricValue, removeDir, startChaosPool, tempDir, until, type ChaosPool } from "../helpers/chaos-pool.ts";

const MAX_CONNECTIONS = 48;
const PER_IP = 12;
const HANDSHAKE_MS = 1000;
// Generous next to the fleet's share interval (~0.1 s), which shares this process's event loop with the pool.
const IDLE_MS = 3000;
const WRITE_BUFFER = 65_536;

let core: ChaosCore;
let pool: ChaosPool;
let fleet: Sv2Miner[];
let dir: string;
const clients: LightSv2Client[] = [];

beforeAll(async () => {
  dir = tempDir("limits");
  // Blocks practically never (difficulty 1): the chain only moves when a test says so.
  core = await ChaosCore.start({ difficulty: 1 });
  pool = await startChaosPool(core, {
    dataDir: dir,
    layers: {
      limits: {
        max_connections: MAX_CONNECTIONS,
        max_connections_per_ip: PER_IP,
        handshake_timeout_ms: HANDSHAKE_MS,
        idle_timeout_ms: IDLE_MS,
        write_buffer_bytes: WRITE_BUFFER,
      },
    },
  });
  fleet = await pool.fleet(4);
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await pool.stop();
  await core.close();
  removeDir(dir);
});

function client(localAddress: string): LightSv2Client {
  const c = new LightSv2Client({ port: pool.sv2Port, authority: pool.running.identity.authorityPublicKey, localAddress });
  clients.push(c);
  return c;
}

async function limitHits(limit: string): Promise<number> {
  return metricValue(await pool.metrics(), `sv2pool_limit_hits_total{limit="${limit}"}`) ?? 0;
}

async function disconnects(reason: string): Promise<number> {
  return metricValue(await pool.metrics(), `sv2pool_sv2_disconnects_total{reason="${reason}"}`) ?? 0;
}

function limitLines(limit: string): number {
  return pool.logs.filter((r) => r.level === "warn" && r.msg === `limit hit: ${limit}`).length;
}

/** Closes every light client and waits until only the fleet is connected. */
async function cleanUp(): Promise<void> {
  for (const c of clients.splice(0)) c.destroy();
  await until("only the fleet connected", () => pool.running.sv2?.connectionCount === fleet.length, 5_000);
}

test("connections per source IP: the excess from one address is refused, other addresses are served", async () => {
  const hitsBefore = await limitHits("connections-per-ip");
  const burst = Array.from({ length: PER_IP + 8 }, () => client("127.0.0.2"));
  const outcomes = await Promise.allSettled(burst.map((c) => c.mine("farm.burst")));
  const served = outcomes.filter((o) => o.status === "fulfilled").length;
  expect(served).toBe(PER_IP);
  expect((await limitHits("connections-per-ip")) - hitsBefore).toBe(8);
  expect(limitLines("connections-per-ip")).toBe(1);
  expect(pool.logs.find((r) => r.msg === "limit hit: connections-per-ip")?.fields["detail"]).toBe("127.0.0.2");
  // Another address is not affected.
  await client("127.0.0.3").mine("farm.other");
  await everyMinerProgresses(fleet, "per-IP limit");
  await cleanUp();
});

test("connections in total: past the limit new connections are refused, the connected fleet keeps mining", async () => {
  const hitsBefore = await limitHits("connections");
  // Fill the table from several addresses (each within its per-IP quota).
  const fill = MAX_CONNECTIONS - fleet.length;
  const filling = Array.from({ length: fill }, (_, i) => client(`127.0.1.${1 + Math.floor(i / PER_IP)}`));
  await Promise.all(filling.map((c) => c.mine("farm.fill")));
  const extra = Array.from({ length: 10 }, (_, i) => client(`127.0.2.${1 + i}`));
  await Promise.all(extra.map((c) => c.closed));
  expect(extra.every((c) => c.bytesIn === 0)).toBe(true);
  expect((await limitHits("connections")) - hitsBefore).toBe(10);
  expect(limitLines("connections")).toBe(1);
  expect(pool.running.sv2?.connectionCount).toBe(MAX_CONNECTIONS);
  await everyMinerProgresses(fleet, "connection table full");
  await cleanUp();
  // Room again: a newcomer is served.
  await client("127.0.2.99").mine("farm.newcomer");
  await cleanUp();
});

test("a storm of half-open connections fills the table, is cut at the handshake timeout, and the pool serves newcomers right after", async () => {
  const timeoutsBefore = await disconnects("handshake-timeout");
  const timeoutHitsBefore = await limitHits("handshake-timeout");
  const refusedBefore = (await limitHits("connections")) + (await limitHits("connections-per-ip"));
  const storm = Array.from({ length: 200 }, (_, i) => halfOpen(pool.sv2Port, `127.0.3.${1 + (i % 50)}`, i % 2 === 0 ? new Uint8Array(20).fill(7) : undefined));
  const t0 = performance.now();
  await Promise.all(storm.map((s) => s.closed));
  const allClosedMs = performance.now() - t0;
  const timedOut = (await disconnects("handshake-timeout")) - timeoutsBefore;
  const refused = (await limitHits("connections")) + (await limitHits("connections-per-ip")) - refusedBefore;
  console.log(`[chaos] half-open storm: 200 sockets, ${timedOut} cut at the ${HANDSHAKE_MS} ms handshake timeout, ${refused} refused at the connection limit, all gone after ${allClosedMs.toFixed(0)} ms`);
  // Every socket was either refused at once or dropped at the deadline; the fleet was never pushed out.
  expect(timedOut + refused).toBe(200);
  expect(timedOut).toBeGreaterThanOrEqual(1);
  expect(timedOut).toBeLessThanOrEqual(MAX_CONNECTIONS - fleet.length);
  expect((await limitHits("handshake-timeout")) - timeoutHitsBefore).toBe(timedOut);
  expect(limitLines("handshake-timeout")).toBe(1);
  // The per-connection close lines of a limit are debug, not one info line per socket.
  expect(pool.logs.filter((r) => r.level === "info" && r.fields["reason"] === "handshake-timeout").length).toBe(0);
  for (const m of fleet) expect(m.connected).toBe(true);
  await everyMinerProgresses(fleet, "after the half-open storm");
  await client("127.0.3.200").mine("farm.after-storm");
  await cleanUp();
});

test("the idle timeout closes set-up connections that stay silent, never a miner that submits", async () => {
  const before = await disconnects("idle-timeout");
  const hitsBefore = await limitHits("idle-timeout");
  const idle = Array.from({ length: 5 }, (_, i) => client(`127.0.4.${1 + i}`));
  await Promise.all(idle.map((c) => c.mine("farm.idle")));
  const t0 = performance.now();
  await Promise.all(idle.map((c) => c.closed));
  const ms = performance.now() - t0;
  console.log(`[chaos] idle timeout ${IDLE_MS} ms: 5 silent connections closed after ${ms.toFixed(0)} ms`);
  expect((await disconnects("idle-timeout")) - before).toBe(5);
  expect((await limitHits("idle-timeout")) - hitsBefore).toBe(5);
  expect(limitLines("idle-timeout")).toBe(1);
  for (const m of fleet) expect(m.connected).toBe(true);
  await everyMinerProgresses(fleet, "idle timeout");
  await cleanUp();
});

test("write buffer cap: a device that stops reading is dropped once its backlog passes the cap; the others are not slowed", async () => {
  const hitsBefore = await limitHits("write-buffer");
  const stuck = client("127.0.5.1");
  await stuck.handshake();
  await stuck.setup();
  // Many extended channels: every new template is one job frame per channel to this connection.
  const CHANNELS = 500;
  for (let i = 1; i <= CHANNELS; i++) stuck.openExtended(i, `farm.stuck${i}`);
  await stuck.next((m) => m.type === "OpenExtendedMiningChannelSuccess" && m.requestId === CHANNELS, 20_000);
  const received = stuck.bytesIn;
  stuck.stopReading();
  // It still talks (so it is not idle), it just never reads.
  const chatter = setInterval(() => stuck.send({ type: "UpdateChannel", channelId: 1, nominalHashRate: 1000, maximumTarget: new Uint8Array(32).fill(0xff) }), 200);
  // New transactions make new templates; the pool keeps writing to a socket nobody reads.
  let templates = 0;
  const off = pool.running.service.watcher.on("template", () => templates++);
  while (!stuck.isClosed && templates < 200) {
    const seen = templates;
    core.node.addSyntheticTransactions(1);
    await until("the next template", () => templates > seen, 5_000);
  }
  off();
  clearInterval(chatter);
  expect(stuck.isClosed).toBe(true);
  expect((await limitHits("write-buffer")) - hitsBefore).toBe(1);
  expect(await disconnects("slow-client")).toBe(1);
  expect(limitLines("write-buffer")).toBe(1);
  console.log(`[chaos] write buffer cap ${WRITE_BUFFER} B: a non-reading connection with ${CHANNELS} channels dropped after ${templates} templates (${received} B read before it stopped)`);
  await everyMinerProgresses(fleet, "after the slow client");
  // The healthy miners never lost their connection.
  expect(fleet.map((m) => m.stats.connects)).toEqual(fleet.map(() => 1));
  await cleanUp();
}, 60_000);
