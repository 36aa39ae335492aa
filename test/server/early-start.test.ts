// Start-up opens the mining ports before it loads the keys, the ledger and the node: miners that
// connect in that window are held, then served as if they had connected once the pool was up
// (Noise handshake, SetupConnection, a channel and its first job; SV1 subscribe and a job).
import { afterEach, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPool, type RunningPool } from "../../src/app.ts";
import { MAX_TARGET, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { resolveConfig } from "../../src/config.ts";
import { createMemoryLogger } from "../../src/log.ts";
import { encodeAuthorityPublicKey, generateAuthorityKeyPair } from "../../src/noise/keys.ts";
import { randomSecretKey } from "../../src/noise/ellswift.ts";
import { MiningSetupFlags } from "../../src/sv2/constants.ts";
import { openPoolListeners, type PoolListeners } from "../../src/server/early-listener.ts";
import { writeAuthorityKeyFile, writeStaticKeyFile } from "../../src/server/keyfiles.ts";
import { RawSv2Client } from "../helpers/sv2-raw.ts";
import { nativeSecp256k1, useNativeSecp256k1 } from "../../src/noise/native/secp256k1.ts";
import { waitFor } from "../helpers/sv2.ts";
import { RawV1Client, notifyOf } from "../sv1/helpers.ts";

const dirs: string[] = [];
let running: RunningPool | null = null;
let listeners: PoolListeners | null = null;
const sv2Clients: RawSv2Client[] = [];
const sv1Clients: RawV1Client[] = [];
afterEach(async () => {
  for (const c of sv2Clients.splice(0)) c.close();
  for (const c of sv1Clients.splice(0)) c.close();
  if (running !== null) await running.stop("test over");
  else listeners?.close();
  running = null;
  listeners = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data dir with keys already in it (the miner must know the authority key before the pool starts). */
function dataDirWithKeys(): { dir: string; authorityKey: string } {
  const dir = mkdtempSync(join(tmpdir(), "sv2pool-early-"));
  dirs.push(dir);
  const authority = generateAuthorityKeyPair();
  writeAuthorityKeyFile(join(dir, "authority.key"), authority);
  writeStaticKeyFile(join(dir, "static.key"), randomSecretKey());
  return { dir, authorityKey: encodeAuthorityPublicKey(authority.xonly) };
}

test("miners connecting before the pool has loaded are held, then served: SV2 handshake, channel, job; SV1 subscribe, job", async () => {
  const { dir, authorityKey } = dataDirWithKeys();
  const config = resolveConfig({
    "": { data_dir: dir },
    sv2: { listen: "127.0.0.1:0" },
    sv1: { listen: "127.0.0.1:0" },
    http: { enabled: false },
    mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6 },
  });
  listeners = openPoolListeners(config);
  const sv2Port = listeners.sv2?.port ?? 0;
  const sv1Port = listeners.sv1?.port ?? 0;

  // Nothing but the ports exists yet: the SV2 miner sends its handshake, the SV1 miner subscribes.
  const sv2 = new RawSv2Client(authorityKey);
  sv2Clients.push(sv2);
  const handshake = sv2.connect(sv2Port);
  const v1 = await RawV1Client.connect(sv1Port);
  sv1Clients.push(v1);
  const subscribed = v1.call("s", "mining.subscribe", ["early/1.0"]);
  await waitFor("both held with their first bytes", () => listeners?.sv2?.heldBytes === 64 && (listeners.sv1?.heldBytes ?? 0) > 0);
  expect(sv2.handshakeDone).toBe(false);

  running = await startPool(config, { logger: createMemoryLogger(), listeners });
  expect(running.sv2Address).toBe(`127.0.0.1:${sv2Port}`);
  expect(running.sv1Address).toBe(`127.0.0.1:${sv1Port}`);
  expect(running.identity.authorityPublicKey).toBe(authorityKey);

  await handshake;
  expect((await sv2.setup(MiningSetupFlags.REQUIRES_STANDARD_JOBS)).type).toBe("SetupConnectionSuccess");
  sv2.send({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "farm.early", nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) });
  const opened = await sv2.next((m) => m.type === "OpenStandardMiningChannelSuccess");
  const job = await sv2.next((m) => m.type === "NewMiningJob");
  const prevHash = await sv2.next((m) => m.type === "SetNewPrevHash");
  if (opened.type !== "OpenStandardMiningChannelSuccess" || job.type !== "NewMiningJob" || prevHash.type !== "SetNewPrevHash") throw new Error("unexpected messages");
  expect(job.channelId).toBe(opened.channelId);
  expect(prevHash.jobId).toBe(job.jobId);

  const sub = await subscribed;
  expect(sub["error"]).toBeNull();
  await v1.call("a", "mining.authorize", ["farm.early-v1", "x"]);
  expect(notifyOf(await v1.notification("mining.notify")).cleanJobs).toBe(true);
  expect(running.sv2?.connectionCount).toBe(1);
}, 20_000);

test("a start-up that fails after the ports opened closes them and the miners held on them", async () => {
  const { dir } = dataDirWithKeys();
  // A secret others can read: refused after the ports were opened.
  chmodSync(join(dir, "static.key"), 0o644);
  const config = resolveConfig({ "": { data_dir: dir }, sv2: { listen: "127.0.0.1:0" }, sv1: { enabled: false }, http: { enabled: false } });
  listeners = openPoolListeners(config);
  const port = listeners.sv2?.port ?? 0;
  const held = new RawSv2Client(encodeAuthorityPublicKey(generateAuthorityKeyPair().xonly));
  sv2Clients.push(held);
  void held.connect(port).catch(() => {});
  await waitFor("held", () => listeners?.sv2?.heldCount === 1);
  await expect(startPool(config, { logger: createMemoryLogger(), listeners })).rejects.toThrow("secret key file is accessible by group/others");
  await waitFor("the held miner is closed", () => held.closed);
  await expect(Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } })).rejects.toThrow();
});

test('sv2.secp256k1: "wasm" makes the handshakes use the built-in arithmetic (logged), and a miner is served', async () => {
  const { dir, authorityKey } = dataDirWithKeys();
  const base = { "": { data_dir: dir }, sv2: { listen: "127.0.0.1:0", secp256k1: "wasm" }, sv1: { enabled: false }, http: { enabled: false } };
  const logger = createMemoryLogger();
  try {
    running = await startPool(resolveConfig(base), { logger });
    const ec = logger.records.find((r) => r.msg === "handshake elliptic-curve arithmetic");
    expect(ec?.fields).toMatchObject({ ecdh: "built-in WebAssembly", setting: "wasm" });
    expect(nativeSecp256k1()).toBeNull();
    const port = Number((running.sv2Address ?? "").split(":")[1]);
    const miner = new RawSv2Client(authorityKey);
    sv2Clients.push(miner);
    await miner.connect(port);
    expect((await miner.setup(MiningSetupFlags.REQUIRES_STANDARD_JOBS)).type).toBe("SetupConnectionSuccess");
  } finally {
    useNativeSecp256k1(true);
  }
}, 20_000);
