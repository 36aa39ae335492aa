// Session features over real TCP: version-rolling negotiation and set_version_mask, extranonce
// subscription and set_extranonce, the shared notify line, authorize edge cases, reconnect and stop.
import { expect, test } from "bun:test";
import { bytesToHex } from "../../src/bitcoin/bytes.ts";
import { resolveConfig } from "../../src/config.ts";
import { sv1OptionsFromConfig } from "../../src/server/sv1/server.ts";
import { RawV1Client, grindV1, notifyOf, startV1Pool, submitParams, sv1SocketTests, until, type V1Pool, type V1Share } from "./helpers.ts";

let pool: V1Pool | null = null;
const connect = sv1SocketTests();

test("version rolling: the miner's mask AND the pool's, re-negotiable, min-bit-count reported", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  const vr = async (id: number, opts: Record<string, unknown>): Promise<unknown> => (await c.call(id, "mining.configure", [["version-rolling"], opts]))["result"];
  expect(await vr(1, { "version-rolling.mask": "ffffffff" })).toEqual({ "version-rolling": true, "version-rolling.mask": "1fffffe0" });
  expect(await vr(2, { "version-rolling.mask": "1fffe000", "version-rolling.min-bit-count": 2 })).toEqual({ "version-rolling": true, "version-rolling.mask": "1fffe000" });
  expect(await vr(3, { "version-rolling.mask": "00fff000" })).toEqual({ "version-rolling": true, "version-rolling.mask": "00fff000" });
  expect(await vr(4, { "version-rolling.mask": "e000001f" })).toEqual({ "version-rolling": false, "version-rolling.mask": "00000000" });
  expect(await vr(5, { "version-rolling.mask": "00006000", "version-rolling.min-bit-count": 4 })).toEqual({
    "version-rolling": true,
    "version-rolling.mask": "00006000",
    "version-rolling.min-bit-count": 2,
  });
  expect(await vr(6, {})).toEqual({ "version-rolling": true, "version-rolling.mask": "1fffffe0" });
  expect(await vr(7, { "version-rolling.mask": "nothex" })).toEqual({ "version-rolling": false, "version-rolling.error": "invalid mask" });
  expect(pool.server.m.messages.value({ method: "mining.configure" })).toBe(7);
});

test("rolled version bits: inside the negotiated mask accepted, outside refused, whole version tolerated", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  await c.call(1, "mining.configure", [["version-rolling"], { "version-rolling.mask": "1fffe000" }]);
  await c.call(2, "mining.subscribe", ["bmminer/2.0.0"]);
  await c.call(3, "mining.authorize", ["w.vr", "x"]);
  const job = notifyOf(await c.notification("mining.notify"));
  const inside: V1Share = { extranonce1: "00000001", extranonce2: "00000001", versionBits: 0x1fffe000, mask: 0x1fffe000 };
  const a = grindV1(job, inside, 0.000001);
  expect(await c.call(4, "mining.submit", submitParams("w.vr", job, inside, a.nonce))).toEqual({ id: 4, result: true, error: null });
  // Bit 12 is rollable for the pool (1fffffe0) but this miner negotiated 1fffe000.
  const outside: V1Share = { extranonce1: "00000001", extranonce2: "00000002", versionBits: 0x00001000, mask: 0xffffffff };
  const b = grindV1(job, outside, 0.000001);
  expect((await c.call(5, "mining.submit", submitParams("w.vr", job, outside, b.nonce)))["error"]).toEqual([20, "Invalid version bits", null]);
  // Some firmware sends the whole rolled version: its bits outside the mask are the job's.
  const whole: V1Share = { extranonce1: "00000001", extranonce2: "00000003", versionBits: 0x2000e000, mask: 0x1fffe000 };
  const w = grindV1(job, whole, 0.000001);
  expect(w.version).toBe(0x2000e000);
  expect(await c.call(6, "mining.submit", submitParams("w.vr", job, whole, w.nonce))).toEqual({ id: 6, result: true, error: null });
  expect(pool.t.service.pool.getWorker("w.vr")?.counters.accepted).toBe(2);
});

test("setVersionMask narrows the sessions that negotiated rolling (mining.set_version_mask)", async () => {
  pool = await startV1Pool();
  const wide = await connect(pool);
  const narrow = await connect(pool);
  const none = await connect(pool);
  await wide.call(1, "mining.configure", [["version-rolling"], { "version-rolling.mask": "ffffffff" }]);
  await narrow.call(1, "mining.configure", [["version-rolling"], { "version-rolling.mask": "00ffe000" }]);
  for (const [c, name] of [[wide, "w.wide"], [narrow, "w.narrow"], [none, "w.none"]] as const) {
    await c.call(2, "mining.subscribe", []);
    await c.call(3, "mining.authorize", [name, "x"]);
    await c.notification("mining.notify");
  }
  pool.server.setVersionMask(0x1fffe000);
  expect(pool.server.versionMask).toBe(0x1fffe000);
  expect((await wide.notification("mining.set_version_mask"))["params"]).toEqual(["1fffe000"]);
  // A no-op for the others: a ping round trip shows nothing else arrived.
  await narrow.call(9, "mining.ping", []);
  await none.call(9, "mining.ping", []);
  expect(narrow.all("mining.set_version_mask")).toEqual([]);
  expect(none.all("mining.set_version_mask")).toEqual([]);
  const job = notifyOf(wide.all("mining.notify")[0] as Record<string, never>);
  const s: V1Share = { extranonce1: "00000001", extranonce2: "00000001", versionBits: 0x00000020, mask: 0xffffffff };
  const found = grindV1(job, s, 0.000001);
  expect((await wide.call(4, "mining.submit", submitParams("w.wide", job, s, found.nonce)))["error"]).toEqual([20, "Invalid version bits", null]);
  // A new configure after the change negotiates against the narrowed mask.
  expect((await none.call(5, "mining.configure", [["version-rolling"], { "version-rolling.mask": "ffffffff" }]))["result"]).toEqual({
    "version-rolling": true,
    "version-rolling.mask": "1fffe000",
  });
});

test("extranonce.subscribe sessions get extranonce1 = channel prefix ‖ session tag and the shared notify bytes", async () => {
  pool = await startV1Pool();
  const a = await connect(pool);
  const b = await connect(pool);
  const plain = await connect(pool);
  for (const [c, name, sub] of [[a, "w.a", true], [b, "w.b", true], [plain, "w.plain", false]] as const) {
    await c.call(1, "mining.subscribe", ["nicehash-style/1.0"]);
    if (sub) await c.call(2, "mining.extranonce.subscribe", []);
    await c.call(3, "mining.authorize", [name, "x"]);
    await c.notification("mining.notify");
  }
  const channels = [...pool.t.service.pool.allChannels()];
  const prefix = (name: string): string => bytesToHex(channels.find((ch) => ch.worker.name === name)?.extranoncePrefix ?? new Uint8Array());
  expect([prefix("w.a"), prefix("w.b"), prefix("w.plain")]).toEqual(["00000001", "00000002", "00000003"]);
  expect((await a.notification("mining.set_extranonce"))["params"]).toEqual(["0000000100000001", 4]);
  expect((await b.notification("mining.set_extranonce"))["params"]).toEqual(["0000000200000002", 4]);
  expect(plain.all("mining.set_extranonce")).toEqual([]);
  // set_extranonce comes before the first notify (it applies from the next job on).
  const order = a.messages.map((m) => m["method"]).filter((m) => typeof m === "string");
  expect(order).toEqual(["mining.set_extranonce", "mining.set_difficulty", "mining.notify"]);

  // A new template on the same tip: one broadcast, the same bytes for both subscribed sessions.
  pool.t.node.addSyntheticTransactions(3);
  const na = await a.notification("mining.notify");
  const nb = await b.notification("mining.notify");
  const np = await plain.notification("mining.notify");
  const lineOf = (c: RawV1Client, m: Record<string, unknown>): string => c.lines[c.messages.indexOf(m as never)] as string;
  expect(lineOf(a, na)).toBe(lineOf(b, nb));
  const ja = notifyOf(na);
  const jp = notifyOf(np);
  expect(ja.cleanJobs).toBe(false);
  expect(ja.merkleBranches.length).toBe(2);
  expect(bytesToHex(jp.coinb1)).toBe(`${bytesToHex(ja.coinb1)}00000003`);
  // Both layouts give the same coinbase shape; shares from each are accepted.
  const sa: V1Share = { extranonce1: "0000000100000001", extranonce2: "0000abcd" };
  const fa = grindV1(ja, sa, 0.000001);
  expect((await a.call(4, "mining.submit", submitParams("w.a", ja, sa, fa.nonce)))["result"]).toBe(true);
  const sp: V1Share = { extranonce1: "00000003", extranonce2: "0000abcd" };
  const fp = grindV1(jp, sp, 0.000001);
  expect((await plain.call(4, "mining.submit", submitParams("w.plain", jp, sp, fp.nonce)))["result"]).toBe(true);
});

test("authorize: before subscribe (work follows subscribe), twice, another name, bad names", async () => {
  pool = await startV1Pool({ server: { maxConnections: 1 } });
  const c = await connect(pool);
  expect(await c.call(1, "mining.authorize", ["w.early", "x"])).toEqual({ id: 1, result: true, error: null });
  await c.call(2, "mining.ping", []);
  expect(c.all("mining.notify")).toEqual([]);
  await c.call(3, "mining.subscribe", []);
  await c.notification("mining.notify");
  expect(await c.call(4, "mining.authorize", ["w.early", "y"])).toEqual({ id: 4, result: true, error: null });
  expect((await c.call(5, "mining.authorize", ["w.second", "x"]))["error"]).toEqual([20, "One worker per connection", null]);
  expect(pool.t.service.pool.channelCount).toBe(1);
  // maxConnections 1: a second connection is refused at once.
  const d = await connect(pool);
  await d.waitClosed();
  expect(pool.server.m.limitHits.value({ limit: "sv1-connections" })).toBe(1);
  c.close();
  await until("first session gone", () => pool?.server.sessionCount === 0);
  const e = await connect(pool);
  await e.call(1, "mining.subscribe", []);
  expect((await e.call(2, "mining.authorize", ["", "x"]))["error"]).toEqual([24, "Invalid worker name", null]);
  expect((await e.call(3, "mining.authorize", [42, "x"]))["error"]).toEqual([24, "Invalid worker name", null]);
  expect((await e.call(4, "mining.authorize", ["é".repeat(128), "x"]))["error"]).toEqual([24, "Invalid worker name", null]);
  expect(pool.t.service.pool.channelCount).toBe(0);
  // The worker's statistics stay after its connection closed.
  expect(pool.t.service.pool.getWorker("w.early")?.channels).toBe(0);
});

test("reconnectAll and stop send client.reconnect, then close", async () => {
  pool = await startV1Pool();
  const a = await connect(pool);
  await a.call(1, "mining.subscribe", []);
  pool.server.reconnectAll({ host: "pool.example", port: 3334, waitSec: 5 });
  await a.waitClosed();
  expect(a.lines.at(-1)).toBe('{"id":null,"method":"client.reconnect","params":["pool.example",3334,5]}');
  const b = await connect(pool);
  await b.call(1, "mining.subscribe", []);
  await b.call(2, "mining.authorize", ["w.b", "x"]);
  await b.notification("mining.notify");
  expect(pool.t.service.metrics.render()).toContain("sv2pool_sv1_connections 1");
  await pool.server.stop("maintenance");
  await b.waitClosed();
  expect(b.lines.at(-1)).toBe('{"id":null,"method":"client.reconnect","params":[]}');
  expect(pool.server.sessionCount).toBe(0);
  expect(pool.t.service.pool.minerCount).toBe(0);
  expect(pool.server.m.disconnects.value({ reason: "server-stop" })).toBe(1);
  expect(pool.server.m.disconnects.value({ reason: "reconnect" })).toBe(1);
});

test("listener options from the configuration: [sv1], [limits] and mining.min_difficulty", async () => {
  const config = resolveConfig({
    "": { data_dir: ":memory:" },
    sv1: { listen: "127.0.0.1:0", extranonce2_size: 8, max_line_bytes: 1024 },
    limits: { max_connections: 100, max_connections_per_ip: 10, idle_timeout_ms: 60_000, max_shares_per_second: 50, write_buffer_bytes: 65_536 },
    mining: { min_difficulty: 0.00003 },
  });
  expect(sv1OptionsFromConfig(config)).toEqual({
    host: "127.0.0.1",
    port: 0,
    extranonce2Size: 8,
    maxLineBytes: 1024,
    maxConnections: 100,
    maxConnectionsPerIp: 10,
    idleTimeoutMs: 60_000,
    maxSharesPerSecond: 50,
    writeBufferBytes: 65_536,
    minDifficulty: 0.00003,
  });
  pool = await startV1Pool({ server: sv1OptionsFromConfig(config) });
  const c = await connect(pool);
  expect((await c.call(1, "mining.subscribe", []))["result"]).toEqual([[["mining.set_difficulty", "00000001"], ["mining.notify", "00000001"]], "00000001", 8]);
  await c.call(2, "mining.authorize", ["w.cfg", "x"]);
  expect((await c.notification("mining.set_difficulty"))["params"]).toEqual([0.00003]);
  const job = notifyOf(await c.notification("mining.notify"));
  const s: V1Share = { extranonce1: "00000001", extranonce2: "0102030405060708" };
  const found = grindV1(job, s, 0.00003);
  expect((await c.call(3, "mining.submit", submitParams("w.cfg", job, s, found.nonce)))["result"]).toBe(true);
  expect([...pool.t.service.pool.allChannels()][0]?.extranonceSize).toBe(12);
});
