// `sv2pool run` opens its SV2 port before it loads the rest of the pool: a miner that connects the
// moment the port accepts (here: retrying every millisecond from the spawn on) is served properly,
// handshake, channel and job, not refused or dropped.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { MAX_TARGET, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { runCli } from "../../src/cli.ts";
import { MiningSetupFlags } from "../../src/sv2/constants.ts";
import { RawSv2Client } from "../helpers/sv2-raw.ts";
import { exitWithin, spawnSv2pool } from "./pool-process.ts";

let proc: Subprocess | null = null;
let client: RawSv2Client | null = null;
const dirs: string[] = [];
afterEach(() => {
  client?.close();
  client = null;
  if (proc !== null && proc.exitCode === null) proc.kill("SIGKILL");
  proc = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

test("a miner connecting as soon as the SV2 port accepts gets its handshake, a channel and a job", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sv2pool-early-cli-"));
  dirs.push(dataDir);
  const out: string[] = [];
  const io = { out: (l: string) => void out.push(l), err: () => {}, env: {} };
  expect(await runCli(["keygen", "--data-dir", dataDir], io)).toBe(0);
  const authorityKey = (out[1] ?? "").replace("authority public key: ", "");

  const port = freePort();
  const spawned = spawnSv2pool(["run", "--data-dir", dataDir, "--sv2-listen", `127.0.0.1:${port}`, "--sv1-enabled", "false", "--http-enabled", "false", "--log-level", "warn"]);
  proc = spawned.proc;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const c = new RawSv2Client(authorityKey);
    try {
      await c.connect(port, false);
      client = c;
      break;
    } catch {
      // Refused: the process has not bound the port yet.
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`sv2pool never accepted; stderr:\n${spawned.err.text}`);
      await Bun.sleep(1);
    }
  }
  // The handshake starts at once, whether or not the pool has loaded its keys yet.
  await client.handshake();
  expect((await client.setup(MiningSetupFlags.REQUIRES_STANDARD_JOBS)).type).toBe("SetupConnectionSuccess");
  client.send({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "farm.first", nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) });
  expect((await client.next((m) => m.type === "OpenStandardMiningChannelSuccess")).type).toBe("OpenStandardMiningChannelSuccess");
  expect((await client.next((m) => m.type === "NewMiningJob")).type).toBe("NewMiningJob");
  expect((await client.next((m) => m.type === "SetNewPrevHash")).type).toBe("SetNewPrevHash");

  proc.kill("SIGTERM");
  expect(await exitWithin(proc, 10_000)).toBe(0);
}, 30_000);
