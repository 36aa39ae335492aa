// The V1 CPU miner end to end: several miners in one process against the V1 listener, vardiff,
// following client.reconnect, a scripted pool that sends work before the authorize answer, and a V1
// miner beside a V2 miner (SV2 listener) on the same pool core finding a block.
import { afterEach, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { hexToBytes } from "../../src/bitcoin/bytes.ts";
import { difficultyToTarget, hashMeetsTarget, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { StratumV2Error } from "../../src/errors.ts";
import { Sv1Miner, type Sv1ShareOutcome } from "../../src/miner/sv1-client.ts";
import { shareHeader } from "../../src/miner/sv1-work.ts";
import { Sv1Server } from "../../src/server/sv1/server.ts";
import { parseNotify, parseU32Hex } from "../../src/server/sv1/protocol.ts";
import { readSharedJson } from "../helpers/shared.ts";
import { startTestSv2 } from "../helpers/sv2.ts";
import { startV1Pool, until, type V1Pool } from "./helpers.ts";

let pool: V1Pool | null = null;
const miners: Sv1Miner[] = [];
afterEach(async () => {
  await Promise.all(miners.splice(0).map((m) => m.stop()));
  await pool?.stop();
  pool = null;
});

function miner(p: { port: number }, opts: Partial<ConstructorParameters<typeof Sv1Miner>[0]> & { username: string }, events = {}): Sv1Miner {
  const m = new Sv1Miner({ host: "127.0.0.1", port: p.port, ...opts }, events);
  miners.push(m);
  return m;
}

test("three CPU miners share one process and mine real shares; vardiff retargets them", async () => {
  pool = await startV1Pool();
  const outcomes: Sv1ShareOutcome[] = [];
  const difficulties: number[] = [];
  const rolling = miner(pool, { username: "farm.s9", versionRollingMask: 0x1fffe000 }, { onShare: (o: Sv1ShareOutcome) => outcomes.push(o), onDifficulty: (d: number) => difficulties.push(d) });
  const plain = miner(pool, { username: "farm.cpu" });
  const small = miner(pool, { username: "farm.bitaxe", versionRollingMask: 0xffffffff, suggestDifficulty: 0.000002, extranonceSubscribe: true });
  await Promise.all([rolling.start(), plain.start(), small.start()]);
  expect(rolling.versionMask).toBe(0x1fffe000);
  expect(small.versionMask).toBe(0x1fffffe0);
  expect(plain.versionMask).toBeNull();
  expect(plain.extranonce1).toBe("00000002");
  await until("shares from every miner", () => rolling.stats.accepted >= 25 && plain.stats.accepted >= 3 && small.stats.accepted >= 3, 20_000);
  // extranonce.subscribe: switched to channel prefix ‖ session tag before its first job.
  expect(small.extranonce1).toBe("0000000300000003");
  expect(small.extranonce2Size).toBe(4);
  // 20 quick shares close the first vardiff window: the most one step allows (×4).
  expect(difficulties.slice(0, 2)).toEqual([0.000001, 0.000004]);
  expect(outcomes.every((o) => o.accepted)).toBe(true);

  await Promise.all(miners.map((m) => m.stop()));
  for (const m of [rolling, plain, small]) {
    expect(m.stats.rejected).toBe(0);
    expect(pool.t.service.pool.getWorker(m === rolling ? "farm.s9" : m === plain ? "farm.cpu" : "farm.bitaxe")?.counters.accepted).toBe(m.stats.accepted);
  }
  expect(rolling.stats.hashes).toBeGreaterThan(0);
  await until("sessions closed", () => pool?.server.sessionCount === 0);
});

test("the miner follows client.reconnect to another listener and keeps mining", async () => {
  pool = await startV1Pool();
  const second = new Sv1Server(pool.t.service, { host: "127.0.0.1", port: 0, extranonce2Size: 4, maxLineBytes: 4096 });
  const addr = await second.start();
  const reconnects: string[] = [];
  const m = miner(pool, { username: "farm.mover" }, { onReconnect: (host: string, port: number) => reconnects.push(`${host}:${port}`) });
  await m.start();
  await until("first shares", () => m.stats.accepted >= 2, 10_000);
  pool.server.reconnectAll({ host: "127.0.0.1", port: addr.port });
  await until("moved", () => second.sessionCount === 1 && m.authorized, 10_000);
  const before = m.stats.accepted;
  await until("shares on the second listener", () => m.stats.accepted >= before + 2, 10_000);
  expect(reconnects).toEqual([`127.0.0.1:${addr.port}`]);
  expect(m.stats.reconnects).toBe(1);
  expect(pool.server.sessionCount).toBe(0);
  expect(m.stats.rejected).toBe(0);
});

test("the miner keeps a notify and set_difficulty sent before the authorize answer (scripted pool)", async () => {
  // A pool that answers authorize only after sending work, with p2poolv2's recorded signet job.
  const base = "bitcoin/gbt/signet-p2poolv2/stratum/b";
  const notifyParams = readSharedJson<{ params: unknown[] }>(base, "notify.json").params;
  const extranonce1 = "fdf8b667";
  const submits: string[][] = [];
  const listener: TCPSocketListener<undefined> = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(s: Socket<undefined>, chunk) {
        for (const line of new TextDecoder().decode(chunk).split("\n").filter((l) => l.length > 0)) {
          const req = JSON.parse(line) as { id: number; method: string; params: unknown[] };
          if (req.method === "mining.subscribe") {
            s.write(`{"id":${req.id},"result":[[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"]],"${extranonce1}",8],"error":null}\n`);
          } else if (req.method === "mining.authorize") {
            s.write(`{"id":null,"method":"mining.set_difficulty","params":[0.000001]}\n`);
            s.write(`${JSON.stringify({ id: null, method: "mining.notify", params: notifyParams })}\n`);
            s.write(`{"id":${req.id},"result":true,"error":null}\n`);
          } else if (req.method === "mining.submit") {
            submits.push(req.params as string[]);
            s.write(`{"id":${req.id},"result":true,"error":null}\n`);
          }
        }
      },
    },
  });
  try {
    const m = miner({ port: listener.port }, { username: "tb1q.scripted", autoReconnect: false });
    await m.start();
    await until("two shares", () => m.stats.accepted >= 2, 10_000);
    const job = parseNotify(notifyParams);
    const targetLe = targetToLeBytes(difficultyToTarget(0.000001));
    for (const p of submits.slice(0, 2)) {
      expect(p[0]).toBe("tb1q.scripted");
      expect(p[1]).toBe("18468e1f5fa5cbaa");
      expect(p.length).toBe(5);
      const r = shareHeader(job, { extranonce1: hexToBytes(extranonce1), extranonce2: hexToBytes(p[2] as string), ntime: parseU32Hex(p[3]) as number, nonce: parseU32Hex(p[4]) as number });
      expect(hashMeetsTarget(r.hash, targetLe)).toBe(true);
    }
    expect(m.stats.jobs).toBe(1);
  } finally {
    await Promise.all(miners.splice(0).map((x) => x.stop()));
    listener.stop(true);
  }
});

test("a V1 miner beside a V2 miner (SV2 listener, extended channel): both in the worker statistics, the V1 block accepted by the node", async () => {
  pool = await startV1Pool({ embeddedDifficulty: 0.00001 });
  const svc = pool.t.service;
  const sv2 = await startTestSv2(pool.t);
  const v2 = sv2.miner({ user: "farm.sv2-s21", channel: "extended", minExtranonceSize: 8 });
  const blocks: string[] = [];
  const v1 = miner(pool, { username: "farm.sv1-s9", versionRollingMask: 0x1fffe000 }, {
    onShare: (o: Sv1ShareOutcome) => {
      if (o.block) blocks.push(o.hashHex);
    },
  });
  try {
    await Promise.all([v1.start(), v2.start()]);
    await until("shares from both and a block from the V1 miner", () => v2.stats.accepted >= 3 && v1.stats.accepted >= 3 && blocks.length >= 1, 25_000);
  } finally {
    v2.stop();
  }
  const hash = blocks[0] as string;
  await svc.submitter.whenSettled(hash);
  const rec = svc.ledger.getBlock(hash);
  expect(rec?.status).toBe("accepted");
  expect(rec?.worker).toBe("farm.sv1-s9");
  expect(rec?.endpoint.startsWith("sv1:127.0.0.1:")).toBe(true);
  expect(pool.t.node.chainHashes).toContain(hash);
  await v1.stop();

  const names = svc.pool.getWorkers().map((w) => w.name).sort();
  expect(names).toEqual(["farm.sv1-s9", "farm.sv2-s21"]);
  const w1 = svc.pool.getWorker("farm.sv1-s9");
  const w2 = svc.pool.getWorker("farm.sv2-s21");
  expect(w1?.counters.accepted).toBe(v1.stats.accepted);
  expect(w1?.counters.blocksFound).toBe(v1.stats.blocks);
  // The V2 miner was stopped without waiting for answers: the pool may have counted a share more.
  expect(w2?.counters.accepted ?? 0).toBeGreaterThanOrEqual(v2.stats.accepted);
  svc.ledger.flush(svc.clock.nowMs());
  const totals = new Map(svc.ledger.workerTotals().map((w) => [w.name, w.accepted]));
  expect(totals.get("farm.sv1-s9")).toBe(v1.stats.accepted);
  expect(totals.get("farm.sv2-s21")).toBe(w2?.counters.accepted);
});

test("start() rejects when the pool refuses the worker", async () => {
  pool = await startV1Pool();
  const m = miner(pool, { username: "", autoReconnect: false });
  let error: unknown = null;
  await m.start().catch((e: unknown) => (error = e));
  expect(error instanceof StratumV2Error).toBe(true);
  expect((error as StratumV2Error).kind).toBe("PoolConnectionError");
  expect((error as StratumV2Error).message).toBe('mining.authorize failed: [24,"Invalid worker name",null]');
  expect(m.authorized).toBe(false);
  await until("session closed", () => pool?.server.sessionCount === 0);
});
