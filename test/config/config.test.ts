// Configuration: every bad value is refused with a message that names the key, the value and what is
// allowed; unknown keys, sections, environment variables and flags are errors; file < env < flags;
// the defaults; a pasted private key is never repeated; the documented example file is valid.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { createBase58check } from "@scure/base";
import { scriptToAddress } from "../../src/bitcoin/address.ts";
import { hexToBytes } from "../../src/bitcoin/bytes.ts";
import {
  envName,
  exampleConfig,
  flagName,
  loadConfig,
  parseConfigText,
  rawFromEnv,
  rawFromFlags,
  resolveConfig,
  SCHEMA,
  type Config,
} from "../../src/config.ts";
import { StratumV2Error } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "sv2pool-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// P2WPKH / P2TR of fixed programs; the test below checks they are what the address code makes.
const REGTEST_A = "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c";
const REGTEST_B = "bcrt1pyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3qnswg0v";
const MAINNET_A = "bc1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3h8ffkz";
const MAINNET_P2PKH = "15fioDrrk36NmHdRCtGTu2TMj6rPXzG3sn";

const base58check = createBase58check(sha256);
const KEY_BYTES = new Uint8Array(32).fill(7);
/** Private keys in the forms an operator might paste by mistake. */
const WIF_TESTNET = base58check.encode(Uint8Array.of(0xef, ...KEY_BYTES, 0x01));
const WIF_MAINNET_COMPRESSED = base58check.encode(Uint8Array.of(0x80, ...KEY_BYTES, 0x01));
const WIF_MAINNET_UNCOMPRESSED = base58check.encode(Uint8Array.of(0x80, ...KEY_BYTES));
/** BIP32 xprv: version 0488ade4, depth, fingerprint, child, chain code, 0x00 ‖ key. */
const XPRV = base58check.encode(Uint8Array.of(0x04, 0x88, 0xad, 0xe4, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...new Uint8Array(32).fill(9), 0, ...KEY_BYTES));
/** A WIF with its last character changed: the checksum fails, but it is still a key. */
const WIF_MISTYPED = WIF_TESTNET.slice(0, -1) + (WIF_TESTNET.endsWith("R") ? "S" : "R");

/** The message of the ConfigError `run` throws (fails the test when it throws nothing or something else). */
async function configErrorOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (e) {
    if (e instanceof StratumV2Error && e.kind === "ConfigError") return e.message;
    throw e;
  }
  throw new Error("expected a configuration error, got none");
}

interface BadConfig {
  name: string;
  toml?: string;
  env?: Record<string, string>;
  flags?: Record<string, string>;
  message: string;
}

const TOML = "farm.toml";

const BAD: BadConfig[] = [
  {
    name: "unknown key in a section",
    toml: '[sv2]\nlisten_addr = "0.0.0.0:34254"\n',
    message: `${TOML}: unknown key sv2.listen_addr; keys of [sv2]: enabled, listen, certificate_validity_sec, authority_key_file, static_key_file, aead, secp256k1`,
  },
  {
    name: "unknown top-level key",
    toml: 'datadir = "/var/lib/sv2pool"\n',
    message: `${TOML}: unknown key datadir; top-level keys: network, data_dir, reuse_port`,
  },
  {
    name: "a section key written at the top level",
    toml: 'listen = "0.0.0.0:34254"\n',
    message: `${TOML}: unknown key listen; top-level keys: network, data_dir, reuse_port`,
  },
  {
    name: "unknown section",
    toml: "[pool]\nfee = 1\n",
    message: `${TOML}: unknown section [pool]; known: [log], [node], [sv2], [sv1], [http], [payout], [mining], [limits]`,
  },
  { name: "bool given as a word", toml: '[sv2]\nenabled = "maybe"\n', message: 'sv2.enabled = "maybe" is not valid: expected true or false' },
  { name: "string given as a number", toml: "[payout]\ntag = 5\n", message: "payout.tag = 5 is not valid: expected a string" },
  {
    name: "integer given as a word",
    toml: '[limits]\nmax_connections = "many"\n',
    message: 'limits.max_connections = "many" is not valid: expected an integer in 1..1000000',
  },
  { name: "integer given as a fraction", toml: "[limits]\nmax_connections = 1.5\n", message: "limits.max_connections = 1.5 is not valid: expected an integer in 1..1000000" },
  { name: "array where a string belongs", toml: "[sv2]\nlisten = [1, 2]\n", message: "sv2.listen = [1,2] is not valid: expected a string, number or boolean" },
  { name: "integer above its range", toml: "[mining]\nserver_id = 256\n", message: "mining.server_id = 256 is not valid: must be in 0..255" },
  { name: "integer below its range", toml: "[sv1]\nextranonce2_size = 1\n", message: "sv1.extranonce2_size = 1 is not valid: must be in 2..16" },
  { name: "number below its range", toml: "[mining]\nshares_per_minute = 0\n", message: "mining.shares_per_minute = 0 is not valid: must be in 0.1..600" },
  { name: "bad enum (network)", toml: 'network = "testnet5"\n', message: 'network = "testnet5" is not valid: one of mainnet, testnet, testnet4, signet, regtest' },
  { name: "bad enum (log level)", toml: '[log]\nlevel = "verbose"\n', message: 'log.level = "verbose" is not valid: one of debug, info, warn, error' },
  { name: "host:port without a port", toml: '[sv2]\nlisten = "localhost"\n', message: 'sv2.listen = "localhost" is not valid: expected host:port, e.g. 0.0.0.0:34254 or [::1]:3333' },
  { name: "host:port with a port above 65535", toml: '[sv1]\nlisten = "0.0.0.0:70000"\n', message: 'sv1.listen = "0.0.0.0:70000" is not valid: expected host:port, e.g. 0.0.0.0:34254 or [::1]:3333' },
  { name: "IPv6 without brackets", toml: '[http]\nlisten = "::1:8080"\n', message: 'http.listen = "::1:8080" is not valid: expected host:port, e.g. 0.0.0.0:34254 or [::1]:3333' },
  { name: "bad version rolling mask", toml: '[mining]\nversion_rolling_mask = "0x1fffffe0ff"\n', message: 'mining.version_rolling_mask = "0x1fffffe0ff" is not valid: expected a 32-bit hex value like 1fffffe0' },
  {
    name: "mainnet payout address on regtest",
    toml: `[payout]\naddress = "${MAINNET_A}"\n`,
    message: `payout.address = "${MAINNET_A}" is not valid: "${MAINNET_A}" is a mainnet address, but the pool runs on regtest: regtest addresses start with "bcrt1", "m", "n" or "2"`,
  },
  {
    name: "mainnet base58 payout address on regtest",
    toml: `[payout]\naddress = "${MAINNET_P2PKH}"\n`,
    message: `payout.address = "${MAINNET_P2PKH}" is not valid: "${MAINNET_P2PKH}" is a mainnet address, but the pool runs on regtest: regtest addresses start with "bcrt1", "m", "n" or "2"`,
  },
  {
    name: "regtest payout address on mainnet",
    toml: `network = "mainnet"\n[node]\nmode = "rpc"\nrpc_cookie_file = "/var/lib/bitcoind/.cookie"\n[payout]\naddress = "${REGTEST_A}"\n`,
    message: `payout.address = "${REGTEST_A}" is not valid: "${REGTEST_A}" is a regtest address, but the pool runs on mainnet: mainnet addresses start with "bc1", "1" or "3"`,
  },
  {
    name: "no payout address on mainnet",
    toml: 'network = "mainnet"\n[node]\nmode = "rpc"\nrpc_cookie_file = "/var/lib/bitcoind/.cookie"\n',
    message: 'payout.address = "" is not valid: a payout address for mainnet is required: every block pays it',
  },
  {
    name: "split not summing to 100",
    toml: `[payout]\nsplit = "${REGTEST_A}:60,${REGTEST_B}:30"\n`,
    message: `payout.split = "${REGTEST_A}:60,${REGTEST_B}:30" is not valid: payout percentages must add up to 100, they add up to 90`,
  },
  {
    name: "split with a zero share",
    toml: `[payout]\nsplit = "${REGTEST_A}:100,${REGTEST_B}:0"\n`,
    message: `payout.split = "${REGTEST_A}:100,${REGTEST_B}:0" is not valid: payout ${REGTEST_B}: percent must be in (0, 100], got 0`,
  },
  {
    name: "split without percentages",
    toml: `[payout]\nsplit = "${REGTEST_A},${REGTEST_B}"\n`,
    message: `payout.split = "${REGTEST_A},${REGTEST_B}" is not valid: expected "address:percent,address:percent"`,
  },
  {
    name: "both address and split",
    toml: `[payout]\naddress = "${REGTEST_A}"\nsplit = "${REGTEST_A}:50,${REGTEST_B}:50"\n`,
    message: `payout.split = "${REGTEST_A}:50,${REGTEST_B}:50" is not valid: set either payout.address or payout.split, not both`,
  },
  {
    name: "coinbase tag longer than 40 bytes",
    toml: `[payout]\ntag = "${"farm-".repeat(8)}x"\n`,
    message: `payout.tag = "${"farm-".repeat(8)}x" is not valid: at most 40 bytes (the coinbase scriptSig is limited to 100)`,
  },
  {
    name: "coinbase tag of 21 two-byte characters (42 bytes)",
    toml: `[payout]\ntag = "${"é".repeat(21)}"\n`,
    message: `payout.tag = "${"é".repeat(21)}" is not valid: at most 40 bytes (the coinbase scriptSig is limited to 100)`,
  },
  {
    name: "rpc mode without credentials",
    toml: `[node]\nmode = "rpc"\n[payout]\naddress = "${REGTEST_A}"\n`,
    message: 'node.rpc_cookie_file = "" is not valid: node.mode = "rpc" needs rpc_cookie_file or rpc_user + rpc_password',
  },
  {
    name: "rpc mode with a user but no password",
    toml: `[node]\nmode = "rpc"\nrpc_user = "pool"\n[payout]\naddress = "${REGTEST_A}"\n`,
    message: 'node.rpc_password = "" is not valid: node.rpc_user = "pool" needs rpc_password (or use rpc_cookie_file)',
  },
  {
    name: "rpc url with another scheme",
    toml: `[node]\nmode = "rpc"\nrpc_cookie_file = "/c"\nrpc_url = "ftp://127.0.0.1:8332"\n[payout]\naddress = "${REGTEST_A}"\n`,
    message: 'node.rpc_url = "ftp://127.0.0.1:8332" is not valid: expected an http:// URL such as http://127.0.0.1:8332',
  },
  {
    name: "rpc url that is not a URL",
    toml: `[node]\nmode = "rpc"\nrpc_cookie_file = "/c"\nrpc_url = "127.0.0.1:8332"\n[payout]\naddress = "${REGTEST_A}"\n`,
    message: 'node.rpc_url = "127.0.0.1:8332" is not valid: expected an http:// URL such as http://127.0.0.1:8332',
  },
  {
    name: "rpc url with credentials in it (never printed)",
    toml: `[node]\nmode = "rpc"\nrpc_cookie_file = "/c"\nrpc_url = "http://pool:hunter2@127.0.0.1:8332"\n[payout]\naddress = "${REGTEST_A}"\n`,
    message:
      "node.rpc_url = (value not shown) is not valid: credentials in the URL are not used and would be printed; set node.rpc_user and node.rpc_password, or node.rpc_cookie_file",
  },
  {
    name: "max_difficulty below min_difficulty",
    toml: "[mining]\nmin_difficulty = 10\nmax_difficulty = 5\n",
    message: "mining.max_difficulty = 5 is not valid: must be ≥ mining.min_difficulty (10)",
  },
  {
    name: "embedded node on mainnet",
    toml: `network = "mainnet"\n[payout]\naddress = "${MAINNET_A}"\n`,
    message: 'node.mode = "embedded" is not valid: the embedded node only runs regtest; set network = "regtest" or node.mode = "rpc"',
  },
  {
    name: "TOML syntax error (missing value) names the line",
    toml: '# farm\n[sv2]\nlisten = \n',
    message: `${TOML}: TOML syntax error at line 3, column 10: Invalid TOML document: invalid value`,
  },
  {
    name: "TOML syntax error (unclosed section) names the line",
    toml: 'network = "regtest"\n\n[sv2\nlisten = "0.0.0.0:1"\n',
    message: `${TOML}: TOML syntax error at line 3, column 5: Invalid TOML document: illegal character in key`,
  },
  {
    name: "TOML duplicate key",
    toml: '[sv2]\nlisten = "0.0.0.0:1"\nlisten = "0.0.0.0:2"\n',
    message: `${TOML}: TOML syntax error at line 3, column 1: Invalid TOML document: trying to redefine an already defined table or value`,
  },
  // The environment and flag layers go through the same checks.
  { name: "env: out-of-range int", env: { SV2POOL_LIMITS_MAX_CONNECTIONS: "0" }, message: 'limits.max_connections = "0" is not valid: must be in 1..1000000' },
  { name: "env: empty int", env: { SV2POOL_MINING_SERVER_ID: "" }, message: 'mining.server_id = "" is not valid: expected an integer in 0..255' },
  { name: "env: bad bool", env: { SV2POOL_SV1_ENABLED: "off" }, message: 'sv1.enabled = "off" is not valid: expected true or false' },
  { name: "env: bad host:port", env: { SV2POOL_SV2_LISTEN: "0.0.0.0" }, message: 'sv2.listen = "0.0.0.0" is not valid: expected host:port, e.g. 0.0.0.0:34254 or [::1]:3333' },
  {
    name: "env: unknown variable of a known section",
    env: { SV2POOL_SV2_LISTEN_ADDR: "0.0.0.0:34254" },
    message:
      "unknown environment variable SV2POOL_SV2_LISTEN_ADDR; variables of [sv2]: SV2POOL_SV2_ENABLED, SV2POOL_SV2_LISTEN, SV2POOL_SV2_CERTIFICATE_VALIDITY_SEC, SV2POOL_SV2_AUTHORITY_KEY_FILE, SV2POOL_SV2_STATIC_KEY_FILE, SV2POOL_SV2_AEAD, SV2POOL_SV2_SECP256K1",
  },
  {
    name: "env: unknown variable",
    env: { SV2POOL_DATADIR: "/var/lib/sv2pool" },
    message: "unknown environment variable SV2POOL_DATADIR; variables are SV2POOL_<SECTION>_<KEY> for the config keys (sv2pool config-example lists them) and SV2POOL_CONFIG",
  },
  { name: "flag: not a number", flags: { "--mining-server-id": "abc" }, message: 'mining.server_id = "abc" is not valid: expected an integer in 0..255' },
  { name: "flag: bad enum", flags: { "--node-mode": "core" }, message: 'node.mode = "core" is not valid: one of embedded, rpc' },
  { name: "flag: unknown", flags: { "--sv2-port": "34254" }, message: "unknown option --sv2-port" },
  { name: "flags: two unknown", flags: { "--sv2-port": "1", "--pool": "x" }, message: "unknown options --sv2-port, --pool" },
  {
    name: "flag: cross-key check (max < min over layers)",
    flags: { "--mining-max-difficulty": "0.00001" },
    message: "mining.max_difficulty = 0.00001 is not valid: must be ≥ mining.min_difficulty (0.0001)",
  },
];

describe("bad configs: each refused with its exact message", () => {
  test("the fixed addresses are what the address code makes", () => {
    expect(scriptToAddress(hexToBytes(`0014${"11".repeat(20)}`), "regtest")).toBe(REGTEST_A);
    expect(scriptToAddress(hexToBytes(`5120${"22".repeat(32)}`), "regtest")).toBe(REGTEST_B);
    expect(scriptToAddress(hexToBytes(`0014${"11".repeat(20)}`), "mainnet")).toBe(MAINNET_A);
    expect(scriptToAddress(hexToBytes(`76a914${"33".repeat(20)}88ac`), "mainnet")).toBe(MAINNET_P2PKH);
  });

  for (const c of BAD) {
    test(c.name, async () => {
      const message = await configErrorOf(() => {
        if (c.toml !== undefined) return resolveConfig(parseConfigText(c.toml, TOML));
        return loadConfig({ env: c.env, flags: c.flags });
      });
      expect(message).toBe(c.message);
    });
  }

  test("a missing config file", async () => {
    const path = join(dir, "nope.toml");
    expect(await configErrorOf(() => loadConfig({ file: path }))).toBe(`config file ${path} does not exist`);
  });

  test("errors in a file name the file", async () => {
    const path = join(dir, "typo.toml");
    writeFileSync(path, "[limits]\nmax_conections = 10\n");
    expect(await configErrorOf(() => loadConfig({ file: path }))).toBe(
      `${path}: unknown key limits.max_conections; keys of [limits]: max_connections, max_connections_per_ip, max_channels_per_connection, handshake_timeout_ms, idle_timeout_ms, max_frame_bytes, write_buffer_bytes, max_shares_per_second`,
    );
  });
});

describe("secrets are never echoed", () => {
  const cases: { name: string; key: "address" | "split"; value: string; message: string }[] = [
    {
      name: "testnet WIF as payout.address",
      key: "address",
      value: WIF_TESTNET,
      message:
        "payout.address = (value not shown) is not valid: this is a private key (WIF), not an address: never put a private key in the pool's config; give the address it belongs to instead (the key may now be exposed: move its funds)",
    },
    {
      name: "mainnet compressed WIF on regtest",
      key: "address",
      value: WIF_MAINNET_COMPRESSED,
      message:
        "payout.address = (value not shown) is not valid: this is a private key (WIF), not an address: never put a private key in the pool's config; give the address it belongs to instead (the key may now be exposed: move its funds)",
    },
    {
      name: "mainnet uncompressed WIF on regtest",
      key: "address",
      value: WIF_MAINNET_UNCOMPRESSED,
      message:
        "payout.address = (value not shown) is not valid: this is a private key (WIF), not an address: never put a private key in the pool's config; give the address it belongs to instead (the key may now be exposed: move its funds)",
    },
    {
      name: "xprv",
      key: "address",
      value: XPRV,
      message: "payout.address = (value not shown) is not valid: the value is an extended key (xpub/xprv), not an address: give one address derived from it",
    },
    {
      name: "a mistyped WIF (bad checksum)",
      key: "address",
      value: WIF_MISTYPED,
      message:
        "payout.address = (value not shown) is not valid: not an address, and it has the shape of a private key (WIF or extended private key): never put a private key in the pool's config; give the address it belongs to instead",
    },
    {
      name: "WIF inside payout.split",
      key: "split",
      value: `${REGTEST_A}:50,${WIF_TESTNET}:50`,
      message:
        "payout.split = (value not shown) is not valid: this is a private key (WIF), not an address: never put a private key in the pool's config; give the address it belongs to instead (the key may now be exposed: move its funds)",
    },
    {
      name: "WIF as payout.split without a percentage",
      key: "split",
      value: WIF_TESTNET,
      message: 'payout.split = (value not shown) is not valid: expected "address:percent,address:percent"',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const message = await configErrorOf(() => resolveConfig({ payout: { [c.key]: c.value } }));
      expect(message).toBe(c.message);
      // Not even a recognizable piece of the key.
      const secret = c.key === "split" ? WIF_TESTNET : c.value;
      for (let i = 0; i + 8 <= secret.length; i++) expect(message).not.toContain(secret.slice(i, i + 8));
    });
  }

  test("rpc_password and http.token of the wrong type are not echoed", async () => {
    expect(await configErrorOf(() => parseConfigText("[node]\nrpc_password = 834201\n"))).toBe("node.rpc_password = (value not shown) is not valid: expected a string");
    expect(await configErrorOf(() => parseConfigText("[http]\ntoken = [\"s3cr3t-token\"]\n"))).toBe("http.token = (value not shown) is not valid: expected a string, number or boolean");
  });

  test("an ordinary bad address is quoted (it is what the operator needs to see)", async () => {
    const message = await configErrorOf(() => resolveConfig({ payout: { address: `${REGTEST_A.slice(0, -1)}q` } }));
    expect(message).toBe(
      `payout.address = "${REGTEST_A.slice(0, -1)}q" is not valid: "${REGTEST_A.slice(0, -1)}q" has an invalid checksum: a character is mistyped, swapped or missing; copy it again from the wallet`,
    );
  });
});

describe("layers", () => {
  const file = join(dir, "layers.toml");
  writeFileSync(
    file,
    ['[sv2]', 'listen = "10.0.0.1:1001"', '[log]', 'level = "debug"', '[mining]', "server_id = 1", '[payout]', 'tag = "file-tag"', ""].join("\n"),
  );

  test("file < environment < flags, key by key", async () => {
    const fileOnly = await loadConfig({ file });
    expect(fileOnly.sv2.listen).toEqual({ host: "10.0.0.1", port: 1001 });
    expect(fileOnly.mining.serverId).toBe(1);

    const env = { SV2POOL_SV2_LISTEN: "10.0.0.2:1002", SV2POOL_MINING_SERVER_ID: "2", PATH: "/usr/bin", SV2POOL_CONFIG: file };
    const withEnv = await loadConfig({ file, env });
    expect(withEnv.sv2.listen).toEqual({ host: "10.0.0.2", port: 1002 });
    expect(withEnv.mining.serverId).toBe(2);
    expect(withEnv.log.level).toBe("debug");
    expect(withEnv.payout.tag).toBe("file-tag");

    const all = await loadConfig({ file, env, flags: { "--sv2-listen": "[::1]:1003", "--payout-tag": "flag-tag" } });
    expect(all.sv2.listen).toEqual({ host: "::1", port: 1003 });
    expect(all.payout.tag).toBe("flag-tag");
    // Keys no higher layer sets keep the lower layer's value.
    expect(all.mining.serverId).toBe(2);
    expect(all.log.level).toBe("debug");
  });

  test("a bad value in a lower layer is an error even when a higher layer overrides it", async () => {
    // Each layer is checked as it is read: a broken file never passes because a flag happens to cover it.
    const bad = join(dir, "bad-lower.toml");
    writeFileSync(bad, "[mining]\nserver_id = 999\n");
    expect(await configErrorOf(() => loadConfig({ file: bad, flags: { "--mining-server-id": "3" } }))).toBe("mining.server_id = 999 is not valid: must be in 0..255");
  });

  test("environment and flag values are converted to the key's type", () => {
    expect(rawFromEnv({ SV2POOL_SV2_ENABLED: "false", SV2POOL_MINING_MIN_DIFFICULTY: "1e-8", SV2POOL_NETWORK: "signet", HOME: "/root" })).toEqual({
      sv2: { enabled: false },
      mining: { min_difficulty: 1e-8 },
      "": { network: "signet" },
    });
    expect(rawFromFlags({ "--sv1-enabled": "no", "--limits-max-connections": "2000", "--data-dir": "/d", "--bogus": "1" })).toEqual({
      raw: { sv1: { enabled: false }, limits: { max_connections: 2000 }, "": { data_dir: "/d" } },
      unknown: ["--bogus"],
    });
  });

  test("names: SV2POOL_<SECTION>_<KEY> and --<section>-<key>", () => {
    expect(envName("", "data_dir")).toBe("SV2POOL_DATA_DIR");
    expect(envName("limits", "max_connections_per_ip")).toBe("SV2POOL_LIMITS_MAX_CONNECTIONS_PER_IP");
    expect(flagName("", "data_dir")).toBe("--data-dir");
    expect(flagName("node", "rpc_cookie_file")).toBe("--node-rpc-cookie-file");
  });

  test("a full rpc config with a split payout resolves", async () => {
    const c = resolveConfig(
      parseConfigText(
        [
          'network = "regtest"',
          "[node]",
          'mode = "rpc"',
          'rpc_url = "http://10.1.1.1:18443"',
          'rpc_user = "pool"',
          'rpc_password = "hunter2"',
          "[payout]",
          `split = "${REGTEST_A}:60, ${REGTEST_B}:40"`,
          "",
        ].join("\n"),
      ),
    );
    expect(c.node).toMatchObject({ mode: "rpc", rpcUrl: "http://10.1.1.1:18443", rpcUser: "pool", rpcPassword: "hunter2", rpcCookieFile: "" });
    expect(c.payout.payouts.map((p) => [p.address, p.percent])).toEqual([
      [REGTEST_A, 60],
      [REGTEST_B, 40],
    ]);
    expect(Buffer.from(c.payout.payouts[0]?.script ?? []).toString("hex")).toBe(`0014${"11".repeat(20)}`);
    expect(Buffer.from(c.payout.payouts[1]?.script ?? []).toString("hex")).toBe(`5120${"22".repeat(32)}`);
  });
});

test("defaults", () => {
  const expected: Config = {
    network: "regtest",
    dataDir: "./data",
    reusePort: false,
    log: { level: "info", format: "text" },
    node: {
      mode: "embedded",
      rpcUrl: "http://127.0.0.1:8332",
      rpcCookieFile: "",
      rpcUser: "",
      rpcPassword: "",
      rpcTimeoutMs: 10_000,
      tipPollMs: 20,
      templateRefreshMs: 30_000,
      embeddedDifficulty: 0,
      embeddedMempoolTxs: 0,
    },
    sv2: { enabled: true, listen: { host: "127.0.0.1", port: 34254 }, certificateValiditySec: 86_400, authorityKeyFile: "authority.key", staticKeyFile: "static.key", aead: "wasm", secp256k1: "auto" },
    sv1: { enabled: true, listen: { host: "127.0.0.1", port: 3333 }, extranonce2Size: 4, maxLineBytes: 4096 },
    http: { enabled: true, listen: { host: "127.0.0.1", port: 8080 }, token: "" },
    payout: {
      // The embedded regtest chain pays an anyone-can-spend P2WSH(OP_TRUE) output unless told otherwise.
      payouts: [{ address: "(regtest anyone-can-spend demo output)", percent: 100, script: hexToBytes("00204ae81572f06e1b88fd5ced7a1a000945432e83e1551e6f721ee9c00b8cc33260") }],
      tag: "sv2pool",
    },
    mining: {
      sharesPerMinute: 6,
      minDifficulty: 0.0001,
      maxDifficulty: 1e15,
      initialDifficulty: 1,
      maxJobsPerChannel: 8,
      versionRollingMask: 0x1fffffe0,
      shareBatchSize: 1,
      serverId: 0,
      speculativeJobs: true,
    },
    limits: {
      maxConnections: 50_000,
      maxConnectionsPerIp: 20_000,
      maxChannelsPerConnection: 1024,
      handshakeTimeoutMs: 10_000,
      idleTimeoutMs: 900_000,
      maxFrameBytes: 1 << 20,
      writeBufferBytes: 1 << 20,
      maxSharesPerSecond: 1000,
    },
  };
  expect(resolveConfig()).toEqual(expected);
  // An empty file, an empty environment and no flags are the same thing.
  expect(resolveConfig(parseConfigText(""), rawFromEnv({}), rawFromFlags({}).raw)).toEqual(expected);
});

describe("the documented example config (sv2pool.example.toml)", () => {
  const text = readFileSync(join(import.meta.dir, "..", "..", "sv2pool.example.toml"), "utf8");
  /** The example with every commented-out `# key = value` line switched on. */
  const allOn = text.replace(/^# ?([a-z_0-9]+ = .*)$/gm, "$1");

  test("parses with the real loader, as shipped and with every documented key switched on", () => {
    expect(resolveConfig(parseConfigText(text, "sv2pool.example.toml"))).toEqual(resolveConfig(parseConfigText(allOn, "sv2pool.example.toml")));
    // Every value it shows is the default, so switching them all on changes nothing.
    expect(resolveConfig(parseConfigText(allOn))).toEqual(resolveConfig());
  });

  test("documents every key of the schema exactly once, in its section, and nothing else", () => {
    const documented: string[] = [];
    let section = "";
    for (const line of allOn.split("\n")) {
      const s = /^\[([a-z0-9]+)\]\s*$/.exec(line);
      if (s !== null) section = s[1] as string;
      // Prose never looks like `# key = value` (the parse above would then fail on an unknown key).
      const k = /^([a-z_0-9]+) = /.exec(line);
      if (k !== null) documented.push(section === "" ? (k[1] as string) : `${section}.${k[1]}`);
    }
    const schemaKeys = Object.entries(SCHEMA).flatMap(([s, keys]) => Object.keys(keys).map((k) => (s === "" ? k : `${s}.${k}`)));
    expect(documented).toEqual(schemaKeys);
  });

  test("the generated example (config-example) parses and is all defaults", () => {
    const generated = exampleConfig();
    expect(resolveConfig(parseConfigText(generated))).toEqual(resolveConfig());
    expect(resolveConfig(parseConfigText(generated.replace(/^# ?([a-z_0-9]+ = .*)$/gm, "$1")))).toEqual(resolveConfig());
  });
});
