// Message sequences of real V1 firmware families, byte for byte as they send them, over real TCP into
// the real pool core, mining real shares on a low target (and a block on the embedded node).
import { expect, test } from "bun:test";
import { bytesToHex, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { difficultyToTarget, hashMeetsTarget, nbitsToTarget, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { prevHashToSv1 } from "../../src/server/sv1/protocol.ts";
import { grindV1, notifyOf, startV1Pool, submitParams, sv1SocketTests, until, type V1Pool } from "./helpers.ts";

let pool: V1Pool | null = null;
const connect = sv1SocketTests();

function currentJobHex(p: V1Pool): string {
  const job = p.t.service.pool.currentJob;
  if (job === null) throw new Error("no job");
  return job.id.toString(16);
}

test("cgminer/bmminer: configure version rolling, subscribe, authorize, submit with version bits", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  // bmminer 2.0 on an Antminer S9 (AsicBoost enabled), exact lines.
  c.sendRaw('{"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "1fffe000", "version-rolling.min-bit-count": 2}]}\n');
  c.sendRaw('{"id": 2, "method": "mining.subscribe", "params": ["bmminer/2.0.0"]}\n');
  await c.response(2);
  c.sendRaw('{"params": ["acct.s9", "123"], "id": 3, "method": "mining.authorize"}\n');
  await c.response(3);
  const notifyMsg = await c.notification("mining.notify");

  expect(c.lines[0]).toBe('{"id":1,"result":{"version-rolling":true,"version-rolling.mask":"1fffe000"},"error":null}');
  expect(c.lines[1]).toBe('{"id":2,"result":[[["mining.set_difficulty","00000001"],["mining.notify","00000001"]],"00000001",4],"error":null}');
  expect(c.lines[2]).toBe('{"id":3,"result":true,"error":null}');
  expect(c.lines[3]).toBe('{"id":null,"method":"mining.set_difficulty","params":[0.000001]}');
  expect(c.lines[4]?.startsWith('{"id":null,"method":"mining.notify","params":[')).toBe(true);

  const job = notifyOf(notifyMsg);
  const poolJob = pool.t.service.pool.currentJob;
  const channel = [...pool.t.service.pool.allChannels()][0];
  if (poolJob === null || poolJob.prevHash === null || channel === undefined) throw new Error("no job or channel");
  expect(job.jobId).toBe(currentJobHex(pool));
  expect(job.cleanJobs).toBe(true);
  expect(prevHashToSv1(job.prevHash)).toBe(prevHashToSv1(poolJob.prevHash));
  expect(bytesToHex(channel.extranoncePrefix)).toBe("00000001");
  // The session carries the channel prefix at the end of coinb1, extranonce1 is the session tag.
  expect(bytesToHex(job.coinb1)).toBe(`${bytesToHex(poolJob.coinbase(12).prefix)}00000001`);
  expect(bytesToHex(job.coinb2)).toBe(bytesToHex(poolJob.coinbase(12).suffix));
  expect(channel.worker.name).toBe("acct.s9");
  expect(channel.extranonceSize).toBe(8);

  const share = { extranonce1: "00000001", extranonce2: "0000002a", versionBits: 0x0a5ae000, mask: 0x1fffe000 };
  const found = grindV1(job, share, 0.000001);
  expect(found.version).toBe(0x2a5ae000);
  c.sendRaw(`{"params": ${JSON.stringify(submitParams("acct.s9", job, share, found.nonce))}, "id": 4, "method": "mining.submit"}\n`);
  expect(await c.response(4)).toEqual({ id: 4, result: true, error: null });
  const w = pool.t.service.pool.getWorker("acct.s9");
  expect(w?.counters.accepted).toBe(1);
  expect(w?.counters.rejected).toBe(0);
});

test("cpuminer: subscribe, authorize, submit without version rolling", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  // pooler's cpuminer 2.5: subscribe then authorize, 5-parameter submits.
  c.sendRaw('{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}\n');
  await c.response(1);
  c.sendRaw('{"id": 2, "method": "mining.authorize", "params": ["acct.cpu", "x"]}\n');
  expect(await c.response(2)).toEqual({ id: 2, result: true, error: null });
  const job = notifyOf(await c.notification("mining.notify"));
  expect((await c.notification("mining.set_difficulty"))["params"]).toEqual([0.000001]);

  let accepted = 0;
  for (let i = 0; i < 3; i++) {
    const share = { extranonce1: "00000001", extranonce2: `0000000${i}` };
    const found = grindV1(job, share, 0.000001);
    c.sendRaw(`{"method": "mining.submit", "params": ${JSON.stringify(submitParams("acct.cpu", job, share, found.nonce))}, "id": ${10 + i}}\n`);
    if ((await c.response(10 + i))["result"] === true) accepted++;
  }
  expect(accepted).toBe(3);
  expect(pool.t.service.pool.getWorker("acct.cpu")?.counters.accepted).toBe(3);
  expect(pool.t.service.m.shares.value({ result: "accepted" })).toBe(3);
  expect(pool.server.m.submits.value({ result: "accepted" })).toBe(3);
  expect(pool.server.m.messages.value({ method: "mining.submit" })).toBe(3);
});

test("Bitaxe (ESP-Miner): configure, subscribe, suggest_difficulty before authorize", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  c.sendRaw('{"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "ffffffff"}]}\n');
  c.sendRaw('{"id": 2, "method": "mining.subscribe", "params": ["bitaxe/BM1370/v2.5.0"]}\n');
  c.sendRaw('{"id": 3, "method": "mining.suggest_difficulty", "params": [0.00002]}\n');
  c.sendRaw('{"id": 4, "method": "mining.authorize", "params": ["bc1qbitaxe.gamma", "x"]}\n');
  await c.response(4);
  const job = notifyOf(await c.notification("mining.notify"));
  expect(c.lines.slice(0, 5)).toEqual([
    '{"id":1,"result":{"version-rolling":true,"version-rolling.mask":"1fffffe0"},"error":null}',
    '{"id":2,"result":[[["mining.set_difficulty","00000001"],["mining.notify","00000001"]],"00000001",4],"error":null}',
    '{"id":3,"result":true,"error":null}',
    '{"id":4,"result":true,"error":null}',
    '{"id":null,"method":"mining.set_difficulty","params":[0.00002]}',
  ]);
  const channel = [...pool.t.service.pool.allChannels()][0];
  expect(channel?.difficulty).toBeCloseTo(0.00002, 15);

  const share = { extranonce1: "00000001", extranonce2: "deadbeef", versionBits: 0x00002000, mask: 0x1fffffe0 };
  const found = grindV1(job, share, 0.00002);
  c.sendRaw(`{"id": 5, "method": "mining.submit", "params": ${JSON.stringify(submitParams("bc1qbitaxe.gamma", job, share, found.nonce))}}\n`);
  expect(await c.response(5)).toEqual({ id: 5, result: true, error: null });
  const w = pool.t.service.pool.getWorker("bc1qbitaxe.gamma");
  expect(w?.counters.accepted).toBe(1);
  expect(w?.counters.acceptedDifficulty).toBeCloseTo(0.00002, 15);
});

test("NerdMiner: suggest_difficulty after authorize retargets the session at once", async () => {
  pool = await startV1Pool();
  const c = await connect(pool);
  c.sendRaw('{"id": 1, "method": "mining.subscribe", "params": ["NerdMinerV2"]}\n');
  c.sendRaw('{"params": ["bc1qnerd.nerd1", "x"], "id": 2, "method": "mining.authorize"}\n');
  await c.response(2);
  c.sendRaw('{"id": 3, "method": "mining.suggest_difficulty", "params": [0.00001]}\n');
  expect(await c.response(3)).toEqual({ id: 3, result: true, error: null });
  expect((await c.notification("mining.set_difficulty"))["params"]).toEqual([0.000001]);
  expect((await c.notification("mining.set_difficulty"))["params"]).toEqual([0.00001]);
  const job = notifyOf(await c.notification("mining.notify"));
  const share = { extranonce1: "00000001", extranonce2: "00000005" };
  // V1 applies a new difficulty from the next job on: a share meeting the old difficulty but not the
  // suggested one, on the job sent before the suggestion, is accepted and credited at the job's.
  let found = grindV1(job, share, 0.000001);
  while (hashMeetsTarget(found.hash, targetToLeBytes(difficultyToTarget(0.00001)))) found = grindV1(job, share, 0.000001, true, found.nonce + 1);
  c.sendRaw(`{"params": ${JSON.stringify(submitParams("bc1qnerd.nerd1", job, share, found.nonce))}, "id": 4, "method": "mining.submit"}\n`);
  expect(await c.response(4)).toEqual({ id: 4, result: true, error: null });
  expect(pool.t.service.pool.getWorker("bc1qnerd.nerd1")?.counters.acceptedDifficulty).toBeCloseTo(0.000001, 18);
});

test("a V1 share finds a block: the node accepts it, stats and ledger show it, old jobs go stale (21)", async () => {
  pool = await startV1Pool({ embeddedDifficulty: 0 });
  const c = await connect(pool);
  await c.call(1, "mining.subscribe", ["cpuminer/2.5.1"]);
  await c.call(2, "mining.authorize", ["acct.blocks", "x"]);
  const job = notifyOf(await c.notification("mining.notify"));
  const height = pool.t.node.tipHeight;
  const share = { extranonce1: "00000001", extranonce2: "00000001" };
  const found = grindV1(job, share, nbitsToTarget(job.nbits));
  c.send({ id: 3, method: "mining.submit", params: submitParams("acct.blocks", job, share, found.nonce) });
  expect(await c.response(3)).toEqual({ id: 3, result: true, error: null });

  const hash = internalToDisplayHex(found.hash);
  await pool.t.service.submitter.whenSettled(hash);
  expect(pool.t.node.tipHeight).toBe(height + 1);
  expect(pool.t.node.tipHash).toBe(hash);
  const rec = pool.t.service.ledger.getBlock(hash);
  expect(rec?.status).toBe("accepted");
  expect(rec?.worker).toBe("acct.blocks");
  expect(pool.t.service.pool.getPoolStats().blocksFound).toBe(1);
  expect(pool.t.service.pool.getWorker("acct.blocks")?.counters.blocksFound).toBe(1);

  // The pool moves to the new tip: a clean notify building on the block just found.
  const next = notifyOf(await c.notification("mining.notify"));
  expect(next.cleanJobs).toBe(true);
  expect(internalToDisplayHex(next.prevHash)).toBe(hash);
  // A share on the old job is stale now.
  const old = grindV1(job, { extranonce1: "00000001", extranonce2: "00000002" }, 0.000001);
  c.send({ id: 4, method: "mining.submit", params: submitParams("acct.blocks", job, { extranonce1: "00000001", extranonce2: "00000002" }, old.nonce) });
  expect(await c.response(4)).toEqual({ id: 4, result: null, error: [21, "Stale share (job not found)", null] });
  expect(pool.t.service.pool.getWorker("acct.blocks")?.counters.stale).toBe(1);
  await until("metrics", () => pool?.t.service.m.blocksFound.value() === 1);
});
