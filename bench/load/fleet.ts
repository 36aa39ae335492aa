/**
 * Load-generator process: many simulated SV2 miners against one pool, driven by JSON commands on
 * stdin, answering one JSON line per command on stdout (progress goes to stderr).
 *
 *   bun bench/load/fleet.ts --port P --authority KEY [--sources 127.0.0.2,127.0.0.3] [--standard-jobs 1]
 *
 * Commands: {"cmd":"connect","count":N}  {"cmd":"handshakes","concurrency":C,"ms":T}
 *           {"cmd":"saturate","ms":T,"window":W}  {"cmd":"rate","rate":R,"ms":T,"connections":K,"pacing":"tick"|"poisson"}
 *           {"cmd":"arm","timeoutMs":T,"probe":{"connections":K,"rate":R}}  {"cmd":"stats"}  {"cmd":"close"}
 */
import { decodeAuthorityPublicKey } from "../../src/noise/keys.ts";
import { percentile } from "../lib.ts";
import { LagMonitor } from "../machine.ts";
import { reply, serveCommands, type Json } from "../proc.ts";
import { LoadClient, type ClientHooks, type ClientMode } from "./client.ts";
import { HandshakeCache } from "./session.ts";


function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return v;
}

const port = Number(arg("port"));
const host = arg("host", "127.0.0.1");
const cache = new HandshakeCache(decodeAuthorityPublicKey(arg("authority")));
const sources = arg("sources", "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9").split(",").filter((s) => s !== "");
const standardJobs = arg("standard-jobs", "1") === "1";
const tag = arg("tag", "load");

const epoch = (): number => performance.timeOrigin + performance.now();
const log = (line: string): void => void process.stderr.write(`[${tag}] ${line}\n`);
const round = (v: number, d = 1): number => (Number.isFinite(v) ? Number(v.toFixed(d)) : v);

// ---- fleet state and the hooks every client calls -------------------------------------------------

const lag = new LagMonitor();
const miners: LoadClient[] = [];
let nextIndex = 0;
let nextSource = 0;
let reconnect = true;
let failedConnections = 0;
let miningCount = 0;
let setupCount = 0;

/** Per-phase handlers: replaced by each command; the hooks object itself never changes. */
const phase = {
  onSetup: (_c: LoadClient): void => {},
  onMining: (_c: LoadClient): void => {},
  onPrevHash: (_c: LoadClient): void => {},
  onAnswer: (_c: LoadClient, _ok: boolean, _reason: string, _sentAt: number): void => {},
  onClosed: (_c: LoadClient, _wasMining: boolean): void => {},
};

const hooks: ClientHooks = {
  setupDone: (c) => {
    setupCount++;
    phase.onSetup(c);
  },
  mining: (c) => {
    miningCount++;
    phase.onMining(c);
  },
  prevHash: (c) => phase.onPrevHash(c),
  answered: (c, ok, reason, sentAt) => phase.onAnswer(c, ok, reason, sentAt),
  closed: (c, wasMining) => {
    if (wasMining) miningCount--;
    phase.onClosed(c, wasMining);
  },
};

function source(): string | undefined {
  if (sources.length === 0) return undefined;
  const s = sources[nextSource % sources.length];
  nextSource++;
  return s;
}

/** A new load client, from the next source address, or from 127.0.0.1 through Bun.connect when `loopbackOnly`. */
function newClient(m: ClientMode, loopbackOnly = false): LoadClient {
  const c = new LoadClient(nextIndex++, { host, port, cache, hooks, mode: m, standardJobs, user: tag });
  c.connect(loopbackOnly ? undefined : source());
  return c;
}

// ---- commands -----------------------------------------------------------------------------------

/** Opens `count` connections at once (a reconnect storm) and answers when all are mining. */
async function connect(count: number, timeoutMs: number): Promise<Json> {
  reconnect = true;
  const start = epoch();
  const handshakeMs: number[] = [];
  const miningMs: number[] = [];
  let reconnects = 0;
  const want = miners.length + count;
  let lastLog = start;
  phase.onSetup = (c) => handshakeMs.push(epoch() - c.startedAt);
  phase.onMining = (c) => miningMs.push(c.miningAt - start);
  phase.onClosed = (c, wasMining) => {
    if (!reconnect) return;
    failedConnections++;
    reconnects++;
    const i = miners.indexOf(c);
    // A real miner backs off before reconnecting; a short jittered pause here.
    setTimeout(() => {
      if (!reconnect) return;
      const fresh = newClient("mine");
      if (i >= 0) miners[i] = fresh;
      else miners.push(fresh);
    }, 200 + Math.random() * 800);
    if (wasMining) log(`client ${c.index} lost while mining`);
  };
  for (let i = 0; i < count; i++) miners.push(newClient("mine"));
  const deadline = start + timeoutMs;
  while (miningCount < want && epoch() < deadline) {
    await Bun.sleep(5);
    if (epoch() - lastLog > 1000) {
      lastLog = epoch();
      log(`connect: ${miningCount}/${want} mining, ${setupCount} set up, ${reconnects} reconnects, ${((lastLog - start) / 1000).toFixed(1)} s`);
    }
  }
  const end = miningCount >= want ? start + Math.max(...miningMs) : epoch();
  return {
    requested: count,
    mining: miningCount,
    reconnects,
    ms: round(end - start),
    startEpoch: start,
    handshakeP50Ms: round(percentile(handshakeMs, 50)),
    handshakeMaxMs: round(Math.max(0, ...handshakeMs)),
    miningP50Ms: round(percentile(miningMs, 50)),
    miningP99Ms: round(percentile(miningMs, 99)),
  };
}

/** Handshake + SetupConnection in a loop on `concurrency` connections; completions counted in `ms`. */
async function handshakes(concurrency: number, ms: number, warmMs: number): Promise<Json> {
  let counting = false;
  let completed = 0;
  let failed = 0;
  let running = true;
  const live = new Set<LoadClient>();
  const done = new Set<LoadClient>();
  const open = (): void => {
    // Bun.connect from 127.0.0.1: only `concurrency` connections live at a time, so no source port
    // pressure, and node:net (needed to pick a source address) costs this load process more per
    // connection than the pool spends, which made the load the bottleneck of this figure.
    const c = newClient("setup-only", true);
    live.add(c);
  };
  phase.onSetup = (c) => {
    if (counting) completed++;
    done.add(c);
    c.close();
  };
  phase.onClosed = (c) => {
    if (!live.delete(c)) return;
    // Connections cut by the end of the run are not failures.
    if (!done.delete(c) && running) failed++;
    if (running) open();
  };
  for (let i = 0; i < concurrency; i++) open();
  await Bun.sleep(warmMs);
  counting = true;
  const t0 = performance.now();
  await Bun.sleep(ms);
  counting = false;
  const seconds = (performance.now() - t0) / 1000;
  running = false;
  for (const c of live) c.close();
  while (live.size > 0) await Bun.sleep(5);
  phase.onSetup = () => {};
  phase.onClosed = () => {};
  return { completed, failed, seconds: round(seconds, 3), perSec: Math.round(completed / seconds) };
}

function active(): LoadClient[] {
  return miners.filter((c) => c.state === "mining");
}

async function settle(clients: LoadClient[], maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (clients.some((c) => c.outstanding > 0) && performance.now() < deadline) await Bun.sleep(5);
  for (const c of clients) c.resetOutstanding();
}

/** Every mining client keeps `window` shares in flight, topping up as answers arrive. */
async function saturate(ms: number, window: number, warmMs: number): Promise<Json> {
  const clients = active();
  let counting = false;
  let running = true;
  let answered = 0;
  let accepted = 0;
  const rejected: Record<string, number> = {};
  const rtt: number[] = [];
  phase.onAnswer = (c, ok, reason, sentAt) => {
    if (counting) {
      answered++;
      if (ok) accepted++;
      else rejected[reason] = (rejected[reason] ?? 0) + 1;
      if ((answered & 7) === 0) rtt.push((performance.now() - sentAt) * 1000);
    }
    // Top up once the window is half empty: one write carries several shares.
    if (running && c.outstanding <= window >> 1) c.submit(window - c.outstanding);
  };
  for (const c of clients) c.submit(window);
  await Bun.sleep(warmMs);
  counting = true;
  const t0 = performance.now();
  await Bun.sleep(ms);
  counting = false;
  running = false;
  const seconds = (performance.now() - t0) / 1000;
  phase.onAnswer = () => {};
  await settle(clients, 2000);
  return {
    connections: clients.length,
    window,
    answered,
    accepted,
    rejected,
    seconds: round(seconds, 3),
    perSec: Math.round(answered / seconds),
    rttP50Us: Math.round(percentile(rtt, 50)),
    rttP99Us: Math.round(percentile(rtt, 99)),
  };
}

/** A fixed offered load: `rate` shares/s spread round-robin over `connections` clients. */
/**
 * How the offered load is spread in time:
 * - "tick": a 1 ms timer sends the shares owed since the last turn (bursts of ~rate/1000 shares, and
 *   larger ones after a late timer);
 * - "poisson": each share is sent at its own moment, inter-arrival times drawn from an exponential
 *   distribution (independent miners), by a loop that checks the clock every event-loop turn
 *   (setImmediate, so answers are read between sends). It keeps this process's core busy.
 */
export type Pacing = "tick" | "poisson";

async function rate(sharesPerSec: number, ms: number, connections: number, warmMs: number, pacing: Pacing): Promise<Json> {
  const clients = active().slice(0, connections);
  if (clients.length === 0) return { error: "no mining clients" };
  let counting = false;
  let offered = 0;
  let answered = 0;
  let accepted = 0;
  const rtt: number[] = [];
  // Shares slower than 5 ms by send time (100 ms buckets): do slow answers cluster (GC, timers, flushes)?
  const slow = new Map<number, [number, number]>();
  const t0 = performance.now();
  phase.onAnswer = (_c, ok, _reason, sentAt) => {
    if (!counting) return;
    answered++;
    if (ok) accepted++;
    const us = (performance.now() - sentAt) * 1000;
    rtt.push(us);
    if (us > 5000) {
      const bucket = Math.floor((sentAt - t0) / 100) * 100;
      const b = slow.get(bucket) ?? [0, 0];
      b[0]++;
      b[1] = Math.max(b[1], Math.round(us));
      slow.set(bucket, b);
    }
  };
  let sent = 0;
  let next = 0;
  const total = warmMs + ms;
  const sendOne = (): void => {
    const c = clients[next++ % clients.length] as LoadClient;
    const n = c.submit(1);
    sent += n;
    if (counting) offered += n;
  };
  await new Promise<void>((resolve) => {
    if (pacing === "poisson") {
      const meanGapMs = 1000 / sharesPerSec;
      let dueAt = t0;
      const spin = (): void => {
        const now = performance.now();
        if (now - t0 >= total) {
          resolve();
          return;
        }
        if (!counting && now - t0 >= warmMs) {
          counting = true;
          lag.take();
        }
        // Shares that fell due while this process was busy go out now (measured from this send).
        while (dueAt <= now) {
          sendOne();
          dueAt += -Math.log(1 - Math.random()) * meanGapMs;
        }
        setImmediate(spin);
      };
      spin();
      return;
    }
    const tick = (): void => {
      const elapsed = performance.now() - t0;
      if (elapsed >= total) {
        resolve();
        return;
      }
      if (!counting && elapsed >= warmMs) {
        counting = true;
        lag.take();
      }
      const owed = Math.floor((elapsed * sharesPerSec) / 1000) - sent;
      for (let i = 0; i < owed; i++) sendOne();
      setTimeout(tick, 1);
    };
    tick();
  });
  counting = false;
  const loadLag = lag.take();
  const seconds = ms / 1000;
  await settle(clients, 2000);
  phase.onAnswer = () => {};
  return {
    connections: clients.length,
    offered,
    answered,
    accepted,
    offeredPerSec: Math.round(offered / seconds),
    rttP50Us: Math.round(percentile(rtt, 50)),
    rttP99Us: Math.round(percentile(rtt, 99)),
    rttP999Us: Math.round(percentile(rtt, 99.9)),
    rttMaxUs: Math.round(rtt.length === 0 ? NaN : Math.max(...rtt)),
    slowBuckets: [...slow].map(([t, [n, worst]]) => [t, n, worst]),
    loadLag,
  };
}

/**
 * Waits for the next SetNewPrevHash on every mining client (the runner mines a block meanwhile).
 * With a probe, `connections` clients keep submitting at `rate` shares/s and the answer times are
 * returned, to show whether shares are still answered while the fan-out runs.
 */
async function arm(timeoutMs: number, probe: { connections: number; rate: number } | null): Promise<Json> {
  const clients = active();
  const expected = clients.length;
  const armedAt = epoch();
  const times: number[] = [];
  phase.onPrevHash = (c) => {
    if (c.lastPrevHashAt >= armedAt && !seen.has(c)) {
      seen.add(c);
      times.push(c.lastPrevHashAt);
    }
  };
  const seen = new Set<LoadClient>();
  const answerTimes: number[] = [];
  let probeSent = 0;
  let probing = probe !== null;
  if (probe !== null) {
    const probers = clients.slice(0, probe.connections);
    phase.onAnswer = () => {
      answerTimes.push(epoch());
    };
    const t0 = performance.now();
    let next = 0;
    const tick = (): void => {
      if (!probing) return;
      const owed = Math.floor(((performance.now() - t0) * probe.rate) / 1000) - probeSent;
      for (let i = 0; i < owed; i++) probeSent += (probers[next++ % probers.length] as LoadClient).submit(1);
      setTimeout(tick, 1);
    };
    tick();
  }
  reply({ ev: "armed", expected });
  const deadline = performance.now() + timeoutMs;
  while (times.length < expected && performance.now() < deadline) await Bun.sleep(2);
  // Keep probing a little past the last prev hash, so answers after the fan-out are seen too.
  await Bun.sleep(probe !== null ? 50 : 0);
  probing = false;
  phase.onPrevHash = () => {};
  if (probe !== null) await settle(clients.slice(0, probe.connections), 1000);
  phase.onAnswer = () => {};
  times.sort((a, b) => a - b);
  return {
    expected,
    received: times.length,
    firstEpoch: times[0] ?? null,
    p50Epoch: times.length > 0 ? percentile(times, 50) : null,
    lastEpoch: times.length > 0 ? times[times.length - 1] : null,
    probeSent,
    probeAnswerEpochs: answerTimes,
  };
}

function stats(): Json {
  return { clients: miners.length, mining: miningCount, failedConnections, rssKb: Math.round(process.memoryUsage.rss() / 1024) };
}

// ---- command loop -------------------------------------------------------------------------------

async function handle(cmd: Json): Promise<Json> {
  const n = (k: string, d: number): number => (typeof cmd[k] === "number" ? (cmd[k] as number) : d);
  switch (cmd["cmd"]) {
    case "connect":
      return connect(n("count", 1), n("timeoutMs", 120_000));
    case "handshakes":
      return handshakes(n("concurrency", 64), n("ms", 3000), n("warmMs", 500));
    case "saturate":
      return saturate(n("ms", 3000), n("window", 16), n("warmMs", 500));
    case "rate":
      return rate(n("rate", 10_000), n("ms", 3000), n("connections", 1000), n("warmMs", 500), cmd["pacing"] === "poisson" ? "poisson" : "tick");
    case "arm": {
      const p = cmd["probe"];
      const probe = typeof p === "object" && p !== null ? { connections: Number((p as Json)["connections"]), rate: Number((p as Json)["rate"]) } : null;
      return arm(n("timeoutMs", 30_000), probe);
    }
    case "stats":
      return stats();
    case "close":
      reconnect = false;
      for (const c of miners) c.close();
      return { closed: miners.length };
    default:
      return { error: `unknown command ${String(cmd["cmd"])}` };
  }
}

reply({ ev: "ready", pid: process.pid });
// Each answer also says how long the command took and how busy this process was meanwhile.
await serveCommands(async (cmd) => {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await handle(cmd);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - started;
  return { ...result, cmdMs: round(wall), cpuBusy: round((cpu.user + cpu.system) / 1000 / wall, 3) };
}, "close");
process.exit(0);
