// The command line: runCli in-process with captured output for help, version, usage errors (exit 2),
// check-config, config-example and keygen; then the real process: `sv2pool run` prints its banner with
// the port it bound and the authority key, a real SV2 miner gets shares accepted through it, and
// SIGTERM / SIGINT stop it with exit code 0.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { createBase58check } from "@scure/base";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, HELP, runCli, type CliIo } from "../../src/cli.ts";
import { exampleConfig } from "../../src/config.ts";
import { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { decodeAuthorityPublicKey, encodeAuthorityPublicKey } from "../../src/noise/keys.ts";
import { readAuthorityKeyFile, readPublicKeyFile, readStaticKeyFile } from "../../src/server/keyfiles.ts";
import { VERSION } from "../../src/version.ts";
import { waitFor } from "../helpers/sv2.ts";
import { cleanEnv, exitWithin, REPO_DIR, spawnSv2pool, startPoolProcess, type PoolProcess } from "./pool-process.ts";

const root = mkdtempSync(join(tmpdir(), "sv2pool-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Captured {
  io: CliIo;
  out: string[];
  err: string[];
}

function capture(env: Record<string, string> = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l), env }, out, err };
}

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const c = capture(env);
  const code = await runCli(argv, c.io);
  return { code, out: c.out, err: c.err };
}

const mode = (path: string): number => statSync(path).mode & 0o777;

describe("help, version and usage errors", () => {
  test("--help: exit 0, usage with examples and the exit codes", async () => {
    for (const argv of [["--help"], ["-h"], ["help"], ["run", "--help"], ["keygen", "--help"]]) {
      expect(await cli(argv)).toEqual({ code: EXIT_OK, out: [HELP], err: [] });
    }
    expect(HELP).toContain("\nExamples:\n");
    expect(HELP).toContain("  sv2pool run --config /etc/sv2pool/sv2pool.toml\n");
    expect(HELP).toContain("  sv2pool keygen --data-dir /var/lib/sv2pool\n");
    expect(HELP).toContain("  sv2pool check-config --config sv2pool.toml\n");
    expect(HELP).toContain("Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.");
    expect([EXIT_OK, EXIT_FAILURE, EXIT_USAGE]).toEqual([0, 1, 2]);
  });

  test("--version matches package.json", async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_DIR, "package.json"), "utf8")) as { version: string };
    expect(VERSION).toBe(pkg.version);
    for (const argv of [["--version"], ["-V"], ["version"]]) {
      expect(await cli(argv)).toEqual({ code: EXIT_OK, out: [`sv2pool ${pkg.version}`], err: [] });
    }
  });

  const usage: { argv: string[]; message: string }[] = [
    { argv: ["frobnicate"], message: 'sv2pool: unknown command "frobnicate"; commands: run, keygen, miner, check-config, config-example, demo (see sv2pool --help)' },
    { argv: ["check-config", "extra"], message: 'sv2pool: unexpected argument "extra" (see sv2pool --help)' },
    { argv: ["check-config", "--sv2-port", "34254"], message: "sv2pool: configuration error: unknown option --sv2-port" },
    { argv: ["run", "--bogus", "1"], message: "sv2pool: configuration error: unknown option --bogus" },
    { argv: ["keygen", "--bogus", "1"], message: "sv2pool: configuration error: keygen: unknown option --bogus" },
    { argv: ["check-config", "--config"], message: "sv2pool: option --config needs a value" },
    { argv: ["run", "--sv2-listen", "--sv1-listen", "0.0.0.0:3333"], message: "sv2pool: option --sv2-listen needs a value" },
    { argv: ["check-config", "--sv2-listen", "34254"], message: 'sv2pool: configuration error: sv2.listen = "34254" is not valid: expected host:port, e.g. 0.0.0.0:34254 or [::1]:3333' },
    { argv: ["miner", "--pool", "127.0.0.1:34254"], message: "sv2pool: configuration error: miner: --authority-key is required (the pool prints it at start)" },
    { argv: ["miner", "--authority-key", "x", "--count", "0"], message: "sv2pool: configuration error: miner: --count must be 1..100000" },
  ];
  for (const u of usage) {
    test(`exit 2: ${u.argv.join(" ")}`, async () => {
      expect(await cli(u.argv)).toEqual({ code: EXIT_USAGE, out: [], err: [u.message] });
    });
  }
});

describe("check-config and config-example", () => {
  test("check-config on the shipped example: exit 0 and a summary", async () => {
    expect(await cli(["check-config", "--config", join(REPO_DIR, "sv2pool.example.toml")])).toEqual({
      code: EXIT_OK,
      out: [
        "config ok: network regtest, node embedded, sv2 127.0.0.1:34254, sv1 127.0.0.1:3333, http 127.0.0.1:8080, data dir ./data",
        "  payout 100% to (regtest anyone-can-spend demo output)",
      ],
      err: [],
    });
  });

  test("check-config reads SV2POOL_CONFIG and applies env and flags over it", async () => {
    const file = join(root, "farm.toml");
    writeFileSync(file, '[sv2]\nlisten = "0.0.0.0:34254"\n[sv1]\nenabled = false\n[http]\nlisten = "127.0.0.1:9000"\n');
    expect(await cli(["check-config", "--http-enabled", "false"], { SV2POOL_CONFIG: file, SV2POOL_DATA_DIR: "/var/lib/sv2pool" })).toEqual({
      code: EXIT_OK,
      out: [
        "config ok: network regtest, node embedded, sv2 0.0.0.0:34254, sv1 off, http off, data dir /var/lib/sv2pool",
        "  payout 100% to (regtest anyone-can-spend demo output)",
      ],
      err: [],
    });
  });

  test("check-config with a bad file: exit 2 and the key, value and what is allowed", async () => {
    const file = join(root, "bad.toml");
    writeFileSync(file, "[mining]\nserver_id = 999\n");
    expect(await cli(["check-config", "--config", file])).toEqual({
      code: EXIT_USAGE,
      out: [],
      err: ["sv2pool: configuration error: mining.server_id = 999 is not valid: must be in 0..255"],
    });
    expect(await cli(["check-config", "--config", join(root, "missing.toml")])).toEqual({
      code: EXIT_USAGE,
      out: [],
      err: [`sv2pool: configuration error: config file ${join(root, "missing.toml")} does not exist`],
    });
    expect(await cli(["check-config"], { SV2POOL_SV2_LISTEN_ADDR: "0.0.0.0:1" })).toEqual({
      code: EXIT_USAGE,
      out: [],
      err: [
        "sv2pool: configuration error: unknown environment variable SV2POOL_SV2_LISTEN_ADDR; variables of [sv2]: SV2POOL_SV2_ENABLED, SV2POOL_SV2_LISTEN, SV2POOL_SV2_CERTIFICATE_VALIDITY_SEC, SV2POOL_SV2_AUTHORITY_KEY_FILE, SV2POOL_SV2_STATIC_KEY_FILE, SV2POOL_SV2_AEAD, SV2POOL_SV2_SECP256K1",
      ],
    });
  });

  test("a private key pasted as the payout address is refused without being printed", async () => {
    const wif = createBase58check(sha256).encode(Uint8Array.of(0xef, ...new Uint8Array(32).fill(42), 0x01));
    const r = await cli(["check-config", "--payout-address", wif]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([
      "sv2pool: configuration error: payout.address = (value not shown) is not valid: this is a private key (WIF), not an address: never put a private key in the pool's config; give the address it belongs to instead (the key may now be exposed: move its funds)",
    ]);
    expect(r.err.join("\n")).not.toContain(wif.slice(0, 12));
  });

  test("config-example prints the generated example", async () => {
    expect(await cli(["config-example"])).toEqual({ code: EXIT_OK, out: [exampleConfig()], err: [] });
  });
});

describe("keygen", () => {
  const dataDir = join(root, "keys", "data");

  test("writes 0600 key files in a 0700 directory and prints a decodable authority key", async () => {
    const r = await cli(["keygen", "--data-dir", dataDir]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toBe(`wrote ${join(dataDir, "authority.key")} (0600), ${join(dataDir, "static.key")} (0600), ${join(dataDir, "authority.pub")}`);
    const m = /^authority public key: (\S+)$/.exec(r.out[1] ?? "");
    expect(m).not.toBeNull();
    expect(r.out.length).toBe(2);
    const key = (m as RegExpExecArray)[1] as string;
    const xonly = decodeAuthorityPublicKey(key);
    expect(xonly.length).toBe(32);
    expect(encodeAuthorityPublicKey(xonly)).toBe(key);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, "authority.key"))).toBe(0o600);
    expect(mode(join(dataDir, "static.key"))).toBe(0o600);
    expect(mode(join(dataDir, "authority.pub"))).toBe(0o644);
    // The files hold that key.
    expect(readAuthorityKeyFile(join(dataDir, "authority.key")).xonly).toEqual(xonly);
    expect(readPublicKeyFile(join(dataDir, "authority.pub"))).toEqual(xonly);
    expect(readStaticKeyFile(join(dataDir, "static.key")).length).toBe(32);
  });

  test("refuses to overwrite existing keys without --force; --force replaces them", async () => {
    const before = readFileSync(join(dataDir, "authority.key"), "utf8");
    expect(await cli(["keygen", "--data-dir", dataDir])).toEqual({
      code: EXIT_USAGE,
      out: [],
      err: [`sv2pool: configuration error: keys already exist in ${dataDir}; pass --force to replace them (miners must then be given the new authority key)`],
    });
    expect(readFileSync(join(dataDir, "authority.key"), "utf8")).toBe(before);
    // SV2POOL_DATA_DIR is honoured too.
    const forced = await cli(["keygen", "--force"], { SV2POOL_DATA_DIR: dataDir });
    expect(forced.code).toBe(EXIT_OK);
    expect(readFileSync(join(dataDir, "authority.key"), "utf8")).not.toBe(before);
    expect(forced.out[1]).toBe(`authority public key: ${encodeAuthorityPublicKey(readAuthorityKeyFile(join(dataDir, "authority.key")).xonly)}`);
    expect(mode(join(dataDir, "authority.key"))).toBe(0o600);
  });

  test("a secret key file group or others can read makes `run` refuse with exit 2 and the chmod", async () => {
    const dir = join(root, "leaky");
    expect((await cli(["keygen", "--data-dir", dir])).code).toBe(EXIT_OK);
    const authority = join(dir, "authority.key");
    chmodSync(authority, 0o644);
    const args = ["run", "--data-dir", dir, "--sv2-listen", "127.0.0.1:0", "--sv1-enabled", "false", "--http-enabled", "false"];
    expect(await cli(args)).toEqual({
      code: EXIT_USAGE,
      out: [],
      err: [`sv2pool: configuration error: ${authority}: secret key file is accessible by group/others (mode 0644); fix it with: chmod 600 ${authority}`],
    });
    chmodSync(authority, 0o600);
    const staticKey = join(dir, "static.key");
    chmodSync(staticKey, 0o640);
    expect(await cli(args)).toEqual({
      code: EXIT_USAGE,
      out: [],
      err: [`sv2pool: configuration error: ${staticKey}: secret key file is accessible by group/others (mode 0640); fix it with: chmod 600 ${staticKey}`],
    });
    // Nothing was created or started: no ledger in the data dir.
    expect(existsSync(join(dir, "sv2pool.sqlite"))).toBe(false);
  });
});

describe("runtime failure: exit 1", () => {
  test("the SV2 port is taken: exit 1 with the address and the cause, and nothing left running", async () => {
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const dir = join(root, "port-taken");
    try {
      const r = await cli(["run", "--data-dir", dir, "--sv2-listen", `127.0.0.1:${squatter.port}`, "--sv1-enabled", "false", "--http-enabled", "false", "--log-level", "error"]);
      expect(r).toEqual({
        code: EXIT_FAILURE,
        out: [],
        err: [`sv2pool: cannot listen on 127.0.0.1:${squatter.port} (sv2.listen): the address is already in use (another sv2pool or another program listens there)`],
      });
      // The ports are opened first: nothing was created or opened (no keys, no ledger) for a pool that cannot serve.
      expect(existsSync(dir)).toBe(false);

      // The real process says the same and exits 1.
      const { proc, err } = spawnSv2pool(["run", "--data-dir", dir, "--sv2-listen", `127.0.0.1:${squatter.port}`, "--sv1-enabled", "false", "--http-enabled", "false"]);
      expect(await exitWithin(proc, 10_000)).toBe(EXIT_FAILURE);
      await Bun.sleep(20);
      expect(err.text).toContain(`sv2pool: cannot listen on 127.0.0.1:${squatter.port} (sv2.listen): the address is already in use`);
    } finally {
      squatter.stop(true);
    }
  }, 20_000);

  test("the HTTP port is taken: exit 1, the mining ports freed and the ledger closed", async () => {
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const dir = join(root, "http-port-taken");
    const sv2Port = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = sv2Port.port;
    sv2Port.stop(true);
    try {
      const r = await cli(["run", "--data-dir", dir, "--sv2-listen", `127.0.0.1:${port}`, "--sv1-enabled", "false", "--http-listen", `127.0.0.1:${squatter.port}`, "--log-level", "error"]);
      expect(r.code).toBe(EXIT_FAILURE);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toStartWith(`sv2pool: cannot listen on 127.0.0.1:${squatter.port} (http.listen): `);
      // The ledger was closed (no -wal/-shm left), not left open by a half-started pool, and the SV2 port is free again.
      expect(readdirSync(dir).sort()).toEqual(["authority.key", "static.key", "sv2pool.sqlite"]);
      Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    } finally {
      squatter.stop(true);
    }
  }, 20_000);
});

describe("the real process", () => {
  let pool: PoolProcess | null = null;
  const miners: Sv2Miner[] = [];
  afterEach(() => {
    for (const m of miners.splice(0)) m.stop();
    if (pool !== null && pool.proc.exitCode === null) pool.proc.kill("SIGKILL");
    pool = null;
  });

  const quiet = ["--sv1-enabled", "false", "--http-enabled", "false"];

  test("run: banner with the bound port and the keygen key, a real miner's shares accepted, SIGTERM exits 0", async () => {
    const dataDir = join(root, "run-data");
    const keygen = await cli(["keygen", "--data-dir", dataDir]);
    const key = (keygen.out[1] ?? "").replace("authority public key: ", "");
    pool = await startPoolProcess([
      "--data-dir",
      dataDir,
      "--sv2-listen",
      "127.0.0.1:0",
      ...quiet,
      // Blocks practically never (difficulty 1 = 2^32 hashes); shares within milliseconds.
      "--node-embedded-difficulty",
      "1",
      "--mining-min-difficulty",
      "1e-8",
      "--mining-initial-difficulty",
      "1e-6",
    ]);
    // Port 0 in the flags: the banner shows the port really bound.
    expect(pool.sv2Port).toBeGreaterThan(0);
    expect(pool.authorityKey).toBe(key);
    const lines = pool.stdout().split("\n");
    expect(lines[0]).toBe(`sv2pool ${VERSION} on regtest (embedded regtest node)`);
    expect(lines[1]).toBe(`  Stratum V2:  stratum2+tcp://127.0.0.1:${pool.sv2Port}`);
    expect(lines[2]).toBe(`  Authority public key (give it to SV2 miners and proxies): ${key}`);
    expect(lines).toContain(`  Try a miner: sv2pool miner --pool 127.0.0.1:${pool.sv2Port} --authority-key ${key}`);

    const miner = new Sv2Miner({ host: "127.0.0.1", port: pool.sv2Port, authorityPublicKey: pool.authorityKey, user: "farm.rig1" });
    miners.push(miner);
    await miner.start();
    await waitFor("shares accepted by the pool process", () => miner.stats.accepted >= 5, 15_000);
    expect(miner.stats.rejected).toBe(0);

    pool.proc.kill("SIGTERM");
    expect(await pool.exit(5_000)).toBe(0);
    expect(pool.stderr()).toContain("INFO  stopping signal=SIGTERM");
    expect(pool.stderr()).toContain("INFO  stopped");
    // The miner was told to go away; the pool left its state on disk.
    await waitFor("the miner to see the connection end", () => !miner.connected, 5_000);
    // A clean stop leaves the ledger as one file (checkpointed, closed): what an operator backs up.
    expect(readdirSync(dataDir).sort()).toEqual(["authority.key", "authority.pub", "static.key", "sv2pool.sqlite"]);
  }, 30_000);

  test("run creates its keys at the first start; SIGINT exits 0 as well", async () => {
    const dataDir = join(root, "first-start");
    pool = await startPoolProcess(["--data-dir", dataDir, "--sv2-listen", "127.0.0.1:0", ...quiet]);
    expect(pool.authorityKey).toBe(encodeAuthorityPublicKey(readAuthorityKeyFile(join(dataDir, "authority.key")).xonly));
    expect(pool.stderr()).toContain(`INFO  created key file path=${join(dataDir, "authority.key")}`);
    expect(mode(join(dataDir, "authority.key"))).toBe(0o600);
    expect(mode(join(dataDir, "static.key"))).toBe(0o600);
    pool.proc.kill("SIGINT");
    expect(await pool.exit(5_000)).toBe(0);
  }, 20_000);

  test("a configuration error makes the process exit 2 before it listens", async () => {
    const { proc, out, err } = spawnSv2pool(["run", "--data-dir", join(root, "never"), "--mining-server-id", "999"]);
    expect(await exitWithin(proc, 10_000)).toBe(2);
    await Bun.sleep(20);
    expect(out.text).toBe("");
    expect(err.text).toBe("sv2pool: configuration error: mining.server_id = \"999\" is not valid: must be in 0..255\n");
    expect(existsSync(join(root, "never"))).toBe(false);
  });

  test("an unknown SV2POOL_ variable in the environment makes the process exit 2", async () => {
    const { proc, err } = spawnSv2pool(["check-config"], cleanEnv({ SV2POOL_SV1_LISTN: "0.0.0.0:3333" }));
    expect(await exitWithin(proc, 10_000)).toBe(2);
    await Bun.sleep(20);
    expect(err.text).toStartWith("sv2pool: configuration error: unknown environment variable SV2POOL_SV1_LISTN; variables of [sv1]: ");
  });
});
