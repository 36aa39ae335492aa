// The seed's StratumV2Server API: TLV message path, events, stats, and start() serving real miners.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_TARGET, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { EmbeddedNode } from "../../src/node/embedded.ts";
import { StratumV2Server } from "../../src/server/stratum-v2-server.ts";
import { MsgType, Protocol } from "../../src/sv2/constants.ts";
import { decodePayload, encodePayload, type Sv2Message } from "../../src/sv2/messages/registry.ts";
import { TlvDecoder, TlvEncoder } from "../../src/sv2/tlv.ts";
import { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { mineShare } from "../helpers/grind.ts";
import { waitFor } from "../helpers/sv2.ts";

let server: StratumV2Server | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

function tlv(msg: Sv2Message, tag: number): Uint8Array {
  return new TlvEncoder().encode(tag, encodePayload(msg));
}

function answer(bytes: Uint8Array): Sv2Message {
  const [tag, payload] = new TlvDecoder(bytes).decode();
  return decodePayload(tag, payload);
}

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), "sv2pool-seed-"));
}

test("handleMessage: SetupConnection, OpenMiningChannel and SubmitShares over the seed's TLV envelope", async () => {
  const node = new EmbeddedNode({ difficulty: 10 });
  server = await StratumV2Server.create({ config: { "": { data_dir: dataDir() }, mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6 } } }, node);
  const setup = answer(
    await server.handleMessage(
      tlv({ type: "SetupConnection", protocol: Protocol.Mining, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "", endpointPort: 0, vendor: "seed", hardwareVersion: "", firmware: "", deviceId: "" }, MsgType.SetupConnection),
      "miner-1",
    ),
  );
  expect(setup).toMatchObject({ type: "SetupConnectionSuccess", usedVersion: 2 });
  const open = answer(await server.handleMessage(tlv({ type: "OpenStandardMiningChannel", requestId: 9, userIdentity: "seed.w1", nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) }, MsgType.OpenStandardMiningChannel), "miner-1"));
  expect(open.type).toBe("OpenStandardMiningChannelSuccess");
  const channelId = open.type === "OpenStandardMiningChannelSuccess" ? open.channelId : 0;
  const pool = server.getPool();
  const ch = pool.getChannel(channelId);
  const job = pool.currentJob;
  if (ch === undefined || job === null) throw new Error("no channel or job");
  const { submission } = mineShare(ch, job, { sequenceNumber: 3 });
  const ok = answer(await server.handleMessage(tlv({ type: "SubmitSharesStandard", ...submission }, MsgType.SubmitSharesStandard), "miner-1"));
  expect(ok).toMatchObject({ type: "SubmitSharesSuccess", channelId, lastSequenceNumber: 3, newSubmitsAcceptedCount: 1 });
  const dup = answer(await server.handleMessage(tlv({ type: "SubmitSharesStandard", ...submission }, MsgType.SubmitSharesStandard), "miner-1"));
  expect(dup).toMatchObject({ type: "SubmitSharesError", errorCode: "duplicate-share" });
  const stats = server.getPoolStats();
  expect(stats.minerCount).toBe(1);
  expect(stats.acceptedShares).toBe(1);
  // A message before SetupConnection on another endpoint is a typed protocol error.
  await expect(server.handleMessage(tlv({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "x", nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) }, MsgType.OpenStandardMiningChannel), "other")).rejects.toMatchObject({ kind: "ProtocolError" });
  // Garbage is a ProtocolError too, never anything else.
  await expect(server.handleMessage(new Uint8Array([1, 2, 3]), "miner-1")).rejects.toMatchObject({ kind: "ProtocolError" });
});

test("handleEvent: BlockMined brings the pool to the node's new tip; start() serves real SV2 miners", async () => {
  // Low enough that the test can mine a block itself (about 43k hashes).
  const node = new EmbeddedNode({ difficulty: 0.00001 });
  server = await StratumV2Server.create({ config: { "": { data_dir: dataDir() }, sv2: { listen: "127.0.0.1:0" }, sv1: { enabled: false }, http: { enabled: false }, mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6 } } }, node);
  const before = server.getPool().currentTip?.height;
  await node.mineBlock();
  await server.handleEvent({ type: "BlockMined" });
  expect(server.getPool().currentTip?.height).toBe((before ?? 0) + 1);
  await server.start();
  const running = server.runningPool;
  if (running === null || running.sv2 === null) throw new Error("not running");
  const miner = new Sv2Miner({ host: "127.0.0.1", port: running.sv2.address.port, authorityPublicKey: running.identity.authorityPublicKey, user: "seed.real", reconnect: false });
  await miner.start();
  await waitFor("accepted shares", () => miner.stats.accepted >= 2);
  miner.stop();
  expect(server.getPoolStats().acceptedShares).toBeGreaterThanOrEqual(2);
});
