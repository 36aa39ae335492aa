// Chaos: secrets never reach the logs. The real process runs at debug level with every secret in use
// (authority and static keys, the node's RPC password, the HTTP token) through miners, a found block,
// HTTP requests with and without the token, the node going away, refusing the password and answering
// garbage; then its whole output is searched for every secret in every form it could be printed in.
// And the HTTP API binds loopback unless told otherwise.
import { afterAll, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import net from "node:net";
import { join } from "node:path";
import { bytesToHex } from "../../src/bitcoin/bytes.ts";
import { resolveConfig } from "../../src/config.ts";
import { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { encodeSecretKey } from "../../src/noise/keys.ts";
import { readAuthorityKeyFile, readStaticKeyFile } from "../../src/server/keyfiles.ts";
import { spawnSv2pool, exitWithin } from "../cli/pool-process.ts";
import { ChaosCore, CHAOS_RPC_USER } from "../helpers/chaos-core.ts";
import { removeDir, startChaosPool, tempDir, until } from "../helpers/chaos-pool.ts";
import { poolArgs, poolEnv, startScriptPool } from "../helpers/chaos-process.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

/** Every way a secret could be printed: as is, hex, base64, base58check. */
function forms(name: string, secret: string | Uint8Array): { name: string; text: string }[] {
  if (typeof secret === "string") {
    return [
      { name, text: secret },
      { name: `${name} (hex)`, text: Buffer.from(secret, "utf8").toString("hex") },
      { name: `${name} (base64)`, text: Buffer.from(secret, "utf8").toString("base64") },
    ];
  }
  return [
    { name: `${name} (hex)`, text: bytesToHex(secret) },
    { name: `${name} (base58check)`, text: encodeSecretKey(secret) },
    { name: `${name} (base64)`, text: Buffer.from(secret).toString("base64") },
  ];
}

test("a debug-level run using every secret prints none of them", async () => {
  const rpcPassword = `rpc-pw-${bytesToHex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const httpToken = `http-token-${bytesToHex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const core = await ChaosCore.start({ difficulty: 1e-4, password: rpcPassword });
  const dir = tempDir("secrets");
  dirs.push(dir);
  const env = poolEnv(core, { SV2POOL_HTTP_TOKEN: httpToken, SV2POOL_LOG_LEVEL: "debug" });
  const args = poolArgs(core, dir, ["--http-enabled", "true", "--http-listen", "127.0.0.1:0"]);
  // src/main.ts itself, started by the banner-reading launcher (it also reports the HTTP address).
  const p = await startScriptPool("src/main.ts", args, env);
  const miners: Sv2Miner[] = [];
  try {
    const api = p.httpUrl as string;
    const finder = new Sv2Miner({ host: "127.0.0.1", port: p.sv2Port, authorityPublicKey: p.authorityKey, user: "farm.finder", nominalHashrate: 200_000 });
    miners.push(finder);
    await finder.start();
    await until("a block reaching the node", () => core.chainSubmissions.length >= 1, 20_000);
    finder.stop();

    expect((await fetch(`${api}/api/pool`)).status).toBe(401);
    expect((await fetch(`${api}/metrics`, { headers: { authorization: "Bearer wrong-token" } })).status).toBe(401);
    expect((await fetch(`${api}/api/pool`, { headers: { authorization: `Bearer ${httpToken}` } })).status).toBe(200);
    expect((await fetch(`${api}/api/blocks/${"zz".repeat(32)}`, { headers: { authorization: `Bearer ${httpToken}` } })).status).toBe(404);

    // The node goes away, comes back refusing the password, then answers garbage, then is fine.
    await core.stop();
    await until("the outage logged", () => p.stderr().includes("node unreachable"), 5_000);
    await core.restart("another-password");
    await until("the refusal logged", () => p.stderr().includes("node refused the RPC credentials"), 5_000);
    await core.serveGarbage("not-json");
    await until("the garbage logged", () => p.stderr().includes("node sent an invalid answer"), 5_000);
    await core.restart(rpcPassword);
    await until("the node back", () => p.stderr().includes("node is serving templates again"), 5_000);

    p.proc.kill("SIGTERM");
    expect(await p.exit(10_000)).toBe(0);
  } finally {
    for (const m of miners) m.stop();
    if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
    await core.close();
  }

  // check-config prints the effective configuration: secrets must not be in it either.
  const check = spawnSv2pool(["check-config", ...args], env);
  expect(await exitWithin(check.proc, 10_000)).toBe(0);
  await Bun.sleep(50);

  const authority = readAuthorityKeyFile(join(dir, "authority.key"));
  const staticSecret = readStaticKeyFile(join(dir, "static.key"));
  const secrets = [
    ...forms("RPC password", rpcPassword),
    { name: "RPC basic auth", text: Buffer.from(`${CHAOS_RPC_USER}:${rpcPassword}`).toString("base64") },
    ...forms("HTTP token", httpToken),
    ...forms("authority secret key", authority.secret),
    ...forms("static secret key", staticSecret),
  ];
  const output = [p.stdout(), p.stderr(), check.out.text, check.err.text].join("\n");
  // The run did log plenty (debug level), including about each thing the secrets guard.
  expect(output).toContain("block accepted by the node");
  expect(output).toContain(`rejected rpcuser \\"${CHAOS_RPC_USER}\\" (HTTP 401)`);
  expect(output).toContain("auth=\"bearer token\"");
  const leaks = secrets.filter((s) => output.includes(s.text)).map((s) => s.name);
  console.log(`[chaos] secrets: ${output.split("\n").length} lines of output searched for ${secrets.length} secret forms; leaks: ${leaks.length === 0 ? "none" : leaks.join(", ")}`);
  expect(leaks).toEqual([]);
}, 60_000);

test("the HTTP API (and SV2) bind loopback unless configured otherwise; a LAN address cannot reach it", async () => {
  const defaults = resolveConfig({});
  expect(defaults.http.listen.host).toBe("127.0.0.1");
  expect(defaults.sv2.listen.host).toBe("127.0.0.1");
  // A running pool with the default host: reachable on 127.0.0.1, refused on the machine's LAN address.
  const core = await ChaosCore.start({ difficulty: 1 });
  const dir = tempDir("loopback");
  dirs.push(dir);
  const pool = await startChaosPool(core, { dataDir: dir });
  try {
    const port = Number(pool.httpUrl.split(":").pop());
    expect(pool.httpUrl).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${pool.httpUrl}/healthz`)).status).toBeLessThan(600);
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === "IPv4" && !i.internal)?.address;
    if (lan !== undefined) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: lan, port });
        s.once("connect", () => {
          s.destroy();
          resolve(false);
        });
        s.once("error", () => resolve(true));
      });
      expect({ lan, refused }).toEqual({ lan, refused: true });
    } else {
      console.log("[chaos] no non-loopback IPv4 address on this machine: the LAN reachability check is skipped");
    }
  } finally {
    await pool.stop();
    await core.close();
  }
});
