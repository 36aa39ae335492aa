// Bad input on the SV2 port: each case gets the spec's error message or a closed connection with a
// logged reason, and a healthy miner next to it keeps mining.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { targetToLeBytes, MAX_TARGET } from "../../src/bitcoin/target.ts";
import type { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { MiningSetupFlags } from "../../src/sv2/constants.ts";
import { encodeRawFrame } from "../../src/sv2/frame.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { startTestSv2, waitFor, type TestSv2 } from "../helpers/sv2.ts";
import { RawSv2Client } from "../helpers/sv2-raw.ts";

let t: TestService;
let sv2: TestSv2;
let healthy: Sv2Miner;
const clients: RawSv2Client[] = [];

beforeEach(async () => {
  // Blocks are rare at this difficulty, so the healthy miner's shares stay on one tip.
  t = await startTestService({}, { embeddedDifficulty: 10 });
  sv2 = await startTestSv2(t, { handshakeTimeoutMs: 300, maxChannelsPerConnection: 2, maxSharesPerSecond: 50 });
  healthy = sv2.miner({ user: "farm.healthy", maxHashrate: 200_000 });
  await healthy.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  healthy.stop();
  await t.service.stop("test over", 200);
});

function client(): RawSv2Client {
  const c = new RawSv2Client(sv2.identity.authorityPublicKey);
  clients.push(c);
  return c;
}

function closeReasons(): string[] {
  return t.logs.filter((r) => r.msg === "closing SV2 connection").map((r) => String(r.fields["reason"]));
}

/** The healthy miner still gets shares accepted after the bad client did its thing. */
async function healthyKeepsMining(): Promise<void> {
  const before = healthy.stats.accepted;
  await waitFor("healthy miner shares", () => healthy.stats.accepted > before, 10_000);
}

test("Stratum V1 JSON on the SV2 port: closed, with a reason naming the SV1 port", async () => {
  const c = client();
  await c.connect(sv2.port, false);
  c.writeRaw(new TextEncoder().encode('{"id":1,"method":"mining.subscribe","params":[]}\n'));
  await c.closedPromise;
  expect(closeReasons()).toContain("noise-not-a-handshake");
  expect(t.logs.some((r) => String(r.fields["detail"] ?? "").includes("SV1 port"))).toBe(true);
  await healthyKeepsMining();
});

test("an HTTP request on the SV2 port is closed", async () => {
  const c = client();
  await c.connect(sv2.port, false);
  c.writeRaw(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await c.closedPromise;
  expect(closeReasons()).toContain("noise-not-a-handshake");
});

test("a client that stalls mid-handshake is dropped at the handshake timeout", async () => {
  const c = client();
  await c.connect(sv2.port, false);
  c.writeRaw(new Uint8Array(20).fill(7)); // part of an act 1
  const t0 = Date.now();
  await c.closedPromise;
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(closeReasons()).toContain("handshake-timeout");
  await healthyKeepsMining();
});

test("a frame with a wrong MAC ends the connection", async () => {
  const c = client();
  await c.connect(sv2.port);
  c.writeRaw(new Uint8Array(64).fill(0xab));
  await c.closedPromise;
  expect(closeReasons().some((r) => r.startsWith("noise-"))).toBe(true);
  await healthyKeepsMining();
});

test("a message before SetupConnection closes the connection", async () => {
  const c = client();
  await c.connect(sv2.port);
  c.send({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "x", nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) });
  await c.closedPromise;
  expect(closeReasons()).toContain("no-setup");
});

test("SetupConnection for another protocol or with work selection gets SetupConnection.Error", async () => {
  const a = client();
  await a.connect(sv2.port);
  const ea = await a.setup(0, 2);
  expect(ea).toMatchObject({ type: "SetupConnectionError", errorCode: "unsupported-protocol" });
  await a.closedPromise;
  const b = client();
  await b.connect(sv2.port);
  const eb = await b.setup(MiningSetupFlags.REQUIRES_WORK_SELECTION);
  expect(eb).toMatchObject({ type: "SetupConnectionError", errorCode: "unsupported-feature-flags", flags: MiningSetupFlags.REQUIRES_WORK_SELECTION });
  await b.closedPromise;
});

test("unknown message types are ignored once set up; the connection keeps working", async () => {
  const c = client();
  await c.connect(sv2.port);
  expect((await c.setup()).type).toBe("SetupConnectionSuccess");
  c.sendFrameBytes(encodeRawFrame(0, 0x99, new Uint8Array([1, 2, 3])));
  c.send({ type: "OpenStandardMiningChannel", requestId: 7, userIdentity: "farm.x", nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) });
  const ok = await c.next((m) => m.type === "OpenStandardMiningChannelSuccess");
  expect(ok).toMatchObject({ requestId: 7 });
  expect(c.closed).toBe(false);
});

test("shares on channel ids that are not the connection's: invalid-channel-id, the owner unaffected", async () => {
  const c = client();
  await c.connect(sv2.port);
  await c.setup();
  const foreign = healthy.channelId as number;
  c.send({ type: "SubmitSharesStandard", channelId: foreign, sequenceNumber: 5, jobId: healthy.currentJobId ?? 1, nonce: 0, ntime: Math.floor(Date.now() / 1000), version: 0x20000000 });
  c.send({ type: "SubmitSharesStandard", channelId: 0xdead, sequenceNumber: 6, jobId: 1, nonce: 0, ntime: 0, version: 0 });
  const e1 = await c.next((m) => m.type === "SubmitSharesError" && m.sequenceNumber === 5);
  const e2 = await c.next((m) => m.type === "SubmitSharesError" && m.sequenceNumber === 6);
  expect(e1).toMatchObject({ errorCode: "invalid-channel-id" });
  expect(e2).toMatchObject({ errorCode: "invalid-channel-id" });
  await healthyKeepsMining();
});

test("more channels than the limit: OpenMiningChannel.Error", async () => {
  const c = client();
  await c.connect(sv2.port);
  await c.setup(MiningSetupFlags.REQUIRES_STANDARD_JOBS);
  for (let i = 1; i <= 3; i++) c.send({ type: "OpenStandardMiningChannel", requestId: i, userIdentity: `farm.c${i}`, nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) });
  await c.next((m) => m.type === "OpenStandardMiningChannelSuccess" && m.requestId === 1);
  await c.next((m) => m.type === "OpenStandardMiningChannelSuccess" && m.requestId === 2);
  const err = await c.next((m) => m.type === "OpenMiningChannelError");
  expect(err).toMatchObject({ requestId: 3, errorCode: "max-channels-reached" });
  expect(t.service.metrics.render()).toContain('sv2pool_limit_hits_total{limit="channels-per-connection"} 1');
});

test("a share flood is rate limited per channel while a healthy miner keeps being accepted", async () => {
  const c = client();
  await c.connect(sv2.port);
  await c.setup(MiningSetupFlags.REQUIRES_STANDARD_JOBS);
  c.send({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "farm.flood", nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) });
  const open = await c.next((m) => m.type === "OpenStandardMiningChannelSuccess");
  const channelId = open.type === "OpenStandardMiningChannelSuccess" ? open.channelId : 0;
  const job = await c.next((m) => m.type === "NewMiningJob");
  const jobId = job.type === "NewMiningJob" ? job.jobId : 0;
  for (let i = 0; i < 400; i++) c.send({ type: "SubmitSharesStandard", channelId, sequenceNumber: i, jobId, nonce: i, ntime: Math.floor(Date.now() / 1000), version: 0x20000000 });
  await c.until(() => c.messages.filter((m) => m.type === "SubmitSharesError" || m.type === "SubmitSharesSuccess").length >= 400, "400 answers");
  const limited = c.messages.filter((m) => m.type === "SubmitSharesError" && m.errorCode === "rate-limited").length;
  expect(limited).toBeGreaterThan(300);
  expect(c.closed).toBe(false);
  await healthyKeepsMining();
});
