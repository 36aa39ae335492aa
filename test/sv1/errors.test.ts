// Bad input over real TCP: every share error code, malformed lines, floods and limits, each answered
// or closed without touching the other miners.
import { expect, test } from "bun:test";
import { difficultyToTarget, hashMeetsTarget, nbitsToTarget, targetToLeBytes } from "../../src/bitcoin/target.ts";
import type { Sv1Notify } from "../../src/server/sv1/protocol.ts";
import { RawV1Client, grindV1, notifyOf, startV1Pool, submitParams, sv1SocketTests, until, type V1Pool, type V1Share } from "./helpers.ts";

let pool: V1Pool | null = null;
const connect = sv1SocketTests();

/** Subscribes and authorizes; returns the first job and the session's extranonce1. */
async function ready(c: RawV1Client, worker: string): Promise<{ job: Sv1Notify; en1: string }> {
  const sub = await c.call("s", "mining.subscribe", ["test/1.0"]);
  await c.call("a", "mining.authorize", [worker, "x"]);
  const job = notifyOf(await c.notification("mining.notify"));
  return { job, en1: (sub["result"] as [unknown, string, number])[1] };
}

function errorOf(m: Record<string, unknown>): unknown {
  return m["error"];
}

test("share errors: not subscribed 25, unauthorized 24, job not found 21, duplicate 22, low difficulty 23, malformed 20", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  expect(errorOf(await c.call(1, "mining.submit", ["w.1", "1", "00000000", "00000000", "00000000"]))).toEqual([25, "Not subscribed", null]);
  await c.call(2, "mining.subscribe", []);
  expect(errorOf(await c.call(3, "mining.submit", ["w.1", "1", "00000000", "00000000", "00000000"]))).toEqual([24, "Unauthorized worker", null]);
  await c.call(4, "mining.authorize", ["w.1", "x"]);
  const job = notifyOf(await c.notification("mining.notify"));
  const en1 = "00000001";
  expect(errorOf(await c.call(5, "mining.submit", ["w.other", job.jobId, "00000000", "00000000", "00000000"]))).toEqual([24, "Unauthorized worker", null]);
  expect(errorOf(await c.call(6, "mining.submit", ["w.1", "ffffff", "00000000", "00000000", "00000000"]))).toEqual([21, "Job not found", null]);
  expect(errorOf(await c.call(7, "mining.submit", ["w.1", "zz", "00000000", "00000000", "00000000"]))).toEqual([21, "Job not found", null]);
  expect(errorOf(await c.call(8, "mining.submit", ["w.1", job.jobId, "000000", "00000000", "00000000"]))).toEqual([20, "Invalid extranonce2 size", null]);
  expect(errorOf(await c.call(9, "mining.submit", ["w.1", job.jobId, "00000000", "xyz", "00000000"]))).toEqual([20, "Invalid ntime", null]);
  expect(errorOf(await c.call(10, "mining.submit", ["w.1", job.jobId, "00000000", "00000000", 5]))).toEqual([20, "Invalid nonce", null]);
  expect(errorOf(await c.call(11, "mining.submit", ["w.1"]))).toEqual([21, "Job not found", null]);
  // Not configured for version rolling: rolled bits are refused (as ckpool does).
  expect(errorOf(await c.call(12, "mining.submit", ["w.1", job.jobId, "00000000", "00000000", "00000000", "00002000"]))).toEqual([20, "Invalid version bits", null]);
  expect(errorOf(await c.call(13, "mining.submit", ["w.1", job.jobId, "00000000", "00000000", "00000000", "not-hex"]))).toEqual([20, "Invalid version bits", null]);
  // ntime before the job's minimum.
  expect(errorOf(await c.call(14, "mining.submit", ["w.1", job.jobId, "00000000", "00000001", "00000000"]))).toEqual([20, "Invalid share (ntime-too-old)", null]);

  const share: V1Share = { extranonce1: en1, extranonce2: "00000007" };
  const low = grindV1(job, share, 0.000001, false);
  expect(errorOf(await c.call(15, "mining.submit", submitParams("w.1", job, share, low.nonce)))).toEqual([23, "Low difficulty share", null]);
  const good = grindV1(job, share, 0.000001);
  expect(await c.call(16, "mining.submit", submitParams("w.1", job, share, good.nonce))).toEqual({ id: 16, result: true, error: null });
  expect(errorOf(await c.call(17, "mining.submit", submitParams("w.1", job, share, good.nonce)))).toEqual([22, "Duplicate share", null]);
  expect(c.closed).toBe(false);

  const w = pool.t.service.pool.getWorker("w.1");
  expect(w?.counters.accepted).toBe(1);
  expect(w?.counters.rejectedByReason).toEqual({ "invalid-job-id": 1, "invalid-share": 1, "difficulty-too-low": 1, "duplicate-share": 1 });
  const errors = pool.server.m.errors;
  expect(errors.value({ reason: "not-subscribed" })).toBe(1);
  expect(errors.value({ reason: "unauthorized" })).toBe(2);
  expect(errors.value({ reason: "bad-job-id" })).toBe(2);
  expect(errors.value({ reason: "invalid-job-id" })).toBe(1);
  expect(errors.value({ reason: "bad-version-bits" })).toBe(2);
  expect(errors.value({ reason: "duplicate-share" })).toBe(1);
  expect(errors.value({ reason: "difficulty-too-low" })).toBe(1);
});

test("a block from the network: clean notify, then shares on the old job are stale (21)", async () => {
  pool = await startV1Pool({ embeddedDifficulty: 0.00001 });
  const c = await connect(pool);
  const { job, en1 } = await ready(c, "w.stale");
  const share: V1Share = { extranonce1: en1, extranonce2: "00000003" };
  // A share that is not itself a block (so only the network's block moves the tip).
  const networkLe = targetToLeBytes(nbitsToTarget(job.nbits));
  let found = grindV1(job, share, 0.000001);
  while (hashMeetsTarget(found.hash, networkLe)) found = grindV1(job, share, 0.000001, true, found.nonce + 1);
  const mined = await pool.t.node.mineBlock();
  expect(mined.answer.result).toBeNull();
  const next = notifyOf(await c.notification("mining.notify"));
  expect(next.cleanJobs).toBe(true);
  expect(next.jobId).not.toBe(job.jobId);
  expect(errorOf(await c.call(1, "mining.submit", submitParams("w.stale", job, share, found.nonce)))).toEqual([21, "Stale share (job not found)", null]);
  // The new job takes shares.
  const fresh = grindV1(next, share, 0.000001);
  expect((await c.call(2, "mining.submit", submitParams("w.stale", next, share, fresh.nonce)))["result"]).toBe(true);
  expect(pool.t.service.pool.getWorker("w.stale")?.counters.stale).toBe(1);
});

test("unknown method, non-JSON and non-request lines are answered; ids of any type; CRLF and split lines", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  c.sendRaw('{"id": 1, "method": "mining.get_transactions", "params": ["1"]}\r\n');
  c.sendRaw("this is not json\r\n");
  c.sendRaw("[1,2,3]\n");
  c.sendRaw('{"id":"sub-1","method":"mining.subscribe","params":["x"],"jsonrpc":"2.0","extra":{"a":1}}\r\n{"id":{"n":[1,2]},"method":"mining.extra');
  await Bun.sleep(20);
  c.sendRaw('nonce.subscribe","params":[]}\r\n');
  c.sendRaw('{"id":1.5,"method":"mining.authorize","params":["w.ids","d=0.00001"]}\n{"id":null,"method":"mining.ping"}\n');
  await c.response(1.5);
  await c.response(null);
  expect(c.lines.slice(0, 7)).toEqual([
    '{"id":1,"result":null,"error":[20,"Unknown method",null]}',
    '{"id":null,"result":null,"error":[20,"Parse error",null]}',
    '{"id":null,"result":null,"error":[20,"Invalid request",null]}',
    '{"id":"sub-1","result":[[["mining.set_difficulty","00000001"],["mining.notify","00000001"]],"00000001",4],"error":null}',
    '{"id":{"n":[1,2]},"result":true,"error":null}',
    '{"id":1.5,"result":true,"error":null}',
    // extranonce.subscribe: the session is switched to extranonce1 = channel prefix ‖ session tag.
    '{"id":null,"method":"mining.set_extranonce","params":["0000000100000001",4]}',
  ]);
  expect(c.lines[7]).toBe('{"id":null,"method":"mining.set_difficulty","params":[0.00001]}');
  expect(c.closed).toBe(false);
  expect(pool.server.m.errors.value({ reason: "unknown-method" })).toBe(1);
  expect(pool.server.m.errors.value({ reason: "bad-json" })).toBe(1);
  expect(pool.server.m.errors.value({ reason: "not-a-request" })).toBe(1);
  expect(pool.server.m.messages.value({ method: "other" })).toBe(1);
  expect(pool.t.logs.some((r) => r.level === "warn" && r.msg === "SV1 line is not JSON")).toBe(true);
});

test("ten bad lines in a row close the connection", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  c.sendRaw("garbage\n".repeat(10));
  await c.waitClosed();
  expect(c.lines.length).toBe(10);
  expect(pool.server.m.disconnects.value({ reason: "bad-json" })).toBe(1);
  // One warning, the rest suppressed by the rate-limited log.
  expect(pool.t.logs.filter((r) => r.msg === "SV1 line is not JSON").length).toBe(1);
});

test("an over-long line closes that connection while another session keeps mining", async () => {
  pool = await startV1Pool({ server: { maxLineBytes: 512 } });
  const good = await connect(pool);
  const { job, en1 } = await ready(good, "w.good");
  const bad = await connect(pool);
  await bad.call(1, "mining.subscribe", []);
  bad.sendRaw(`{"id":2,"method":"mining.authorize","params":["${"x".repeat(600)}","x"]}\n`);
  await bad.waitClosed();
  expect(bad.lines.length).toBe(1);
  // Never terminated by a newline: refused as soon as it outgrows the limit.
  const bad2 = await connect(pool);
  bad2.sendRaw("{".repeat(513));
  await bad2.waitClosed();
  expect(pool.server.m.disconnects.value({ reason: "line-too-long" })).toBe(2);
  const share: V1Share = { extranonce1: en1, extranonce2: "00000001" };
  const found = grindV1(job, share, 0.000001);
  expect((await good.call(9, "mining.submit", submitParams("w.good", job, share, found.nonce)))["result"]).toBe(true);
  expect(pool.server.sessionCount).toBe(1);
});

test("share flood: shares over the per-connection cap get 20, a line flood is cut off, others unaffected", async () => {
  pool = await startV1Pool({ server: { maxSharesPerSecond: 5 } });
  const other = await connect(pool);
  const o = await ready(other, "w.calm");
  const c = await connect(pool);
  const { job } = await ready(c, "w.flood");
  const lines = Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: 100 + i, method: "mining.submit", params: ["w.flood", job.jobId, "00000000", "00000000", "00000000"] }));
  c.sendRaw(`${lines.join("\n")}\n`);
  await c.response(107);
  const answers = Array.from({ length: 8 }, (_, i) => c.messages.find((m) => m["id"] === 100 + i)?.["error"]);
  // Only submits take share tokens: the first five reach the pool core (ntime 0 is refused there).
  expect(answers.slice(0, 5).map((e) => JSON.stringify(e))).toEqual(Array(5).fill('[20,"Invalid share (ntime-too-old)",null]'));
  expect(answers.slice(5).map((e) => JSON.stringify(e))).toEqual(Array(3).fill('[20,"Too many shares",null]'));
  expect(pool.server.m.limitHits.value({ limit: "sv1-shares-per-second" })).toBe(3);

  // Lines beyond 2 × cap + 100 per second: the connection is closed.
  c.sendRaw('{"id":1,"method":"mining.ping"}\n'.repeat(200));
  await c.waitClosed();
  expect(pool.server.m.disconnects.value({ reason: "flood" })).toBe(1);
  const share: V1Share = { extranonce1: o.en1, extranonce2: "00000009" };
  const found = grindV1(o.job, share, 0.000001);
  expect((await other.call(5, "mining.submit", submitParams("w.calm", o.job, share, found.nonce)))["result"]).toBe(true);
});

test("connection limits per IP and in total, idle timeout", async () => {
  pool = await startV1Pool({ server: { maxConnectionsPerIp: 2, idleTimeoutMs: 300 } });
  const a = await connect(pool);
  const b = await connect(pool);
  await until("two sessions", () => pool?.server.sessionCount === 2);
  const c = await connect(pool);
  await c.waitClosed();
  expect(pool.server.m.limitHits.value({ limit: "sv1-connections-per-ip" })).toBe(1);
  expect(pool.server.sessionCount).toBe(2);
  // Idle: closed after 300 ms of silence (the sweep runs every 75 ms).
  await a.waitClosed();
  await b.waitClosed();
  expect(pool.server.m.disconnects.value({ reason: "idle-timeout" })).toBe(2);
  await until("sessions gone", () => pool?.server.sessionCount === 0);
  expect(pool.t.service.pool.minerCount).toBe(0);
});

test("difficulty from the password and minimum-difficulty floor; fractional difficulties", async () => {
  pool = await startV1Pool({ server: { minDifficulty: 0.000002 } });
  const c = await connect(pool);
  await c.call(1, "mining.configure", [["minimum-difficulty", "info", "x-unknown"], { "minimum-difficulty.value": 0.000005, "info.connection-url": "stratum+tcp://pool" }]);
  expect(c.lines[0]).toBe('{"id":1,"result":{"minimum-difficulty":true,"info":false,"x-unknown":false},"error":null}');
  await c.call(2, "mining.subscribe", []);
  await c.call(3, "mining.authorize", ["w.floor", "d=0.000001"]);
  // d=0.000001 asked, the miner's minimum 0.000005 wins.
  expect((await c.notification("mining.set_difficulty"))["params"]).toEqual([0.000005]);
  const c2 = await connect(pool);
  await c2.call(1, "mining.subscribe", []);
  await c2.call(2, "mining.authorize", ["w.floor2", "d=0.0000012"]);
  // The server's floor (2e-6) applies to everyone.
  expect((await c2.notification("mining.set_difficulty"))["params"]).toEqual([0.000002]);
  const c3 = await connect(pool);
  await c3.call(1, "mining.subscribe", []);
  await c3.call(2, "mining.authorize", ["w.frac", "d=0.0000123"]);
  expect((await c3.notification("mining.set_difficulty"))["params"]).toEqual([0.0000123]);
  const ch = [...pool.t.service.pool.allChannels()].find((x) => x.worker.name === "w.frac");
  expect(ch?.target).toBe(difficultyToTarget(0.0000123));
});
