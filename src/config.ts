/**
 * Configuration: one TOML file, overridden by environment variables, overridden by CLI flags.
 *
 * Every key is declared once in SCHEMA with its type, default, bounds and a one-line description; the
 * same table drives validation (an error names the key, the value and what is allowed; unknown keys
 * are errors), the environment mapping (`SV2POOL_<SECTION>_<KEY>`), the CLI flags
 * (`--<section>-<key>`, underscores as dashes) and `sv2pool config-keys`.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import { AddressError, payoutScript } from "./bitcoin/address.ts";
import { hexToBytes } from "./bitcoin/bytes.ts";
import { NETWORKS, type Network } from "./bitcoin/network.ts";
import { StratumV2Error } from "./errors.ts";
import type { LogLevel } from "./log.ts";
import { validatePayouts, type Payout } from "./pool/payout.ts";

export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  network: Network;
  dataDir: string;
  reusePort: boolean;
  log: { level: LogLevel; format: "text" | "json" };
  node: {
    mode: "embedded" | "rpc";
    rpcUrl: string;
    rpcCookieFile: string;
    rpcUser: string;
    rpcPassword: string;
    rpcTimeoutMs: number;
    tipPollMs: number;
    templateRefreshMs: number;
    embeddedDifficulty: number;
    embeddedMempoolTxs: number;
  };
  sv2: { enabled: boolean; listen: HostPort; certificateValiditySec: number; authorityKeyFile: string; staticKeyFile: string; aead: "pure" | "wasm" | "noble" | "libsodium" | "tcc" | "auto"; secp256k1: "auto" | "wasm" };
  sv1: { enabled: boolean; listen: HostPort; extranonce2Size: number; maxLineBytes: number };
  http: { enabled: boolean; listen: HostPort; token: string };
  payout: { payouts: Payout[]; tag: string };
  mining: {
    sharesPerMinute: number;
    minDifficulty: number;
    maxDifficulty: number;
    initialDifficulty: number;
    maxJobsPerChannel: number;
    versionRollingMask: number;
    shareBatchSize: number;
    serverId: number;
    speculativeJobs: boolean;
  };
  limits: {
    maxConnections: number;
    maxConnectionsPerIp: number;
    maxChannelsPerConnection: number;
    handshakeTimeoutMs: number;
    idleTimeoutMs: number;
    maxFrameBytes: number;
    writeBufferBytes: number;
    maxSharesPerSecond: number;
  };
}

type KeyType = "string" | "int" | "number" | "bool" | "enum" | "hostport" | "hex32";

interface KeySpec {
  type: KeyType;
  default: string | number | boolean;
  description: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** Never printed (passwords, tokens). */
  secret?: boolean;
}

const NETWORK_NAMES = Object.keys(NETWORKS) as Network[];

/** Every configuration key, by section ("" = top level). */
export const SCHEMA: Record<string, Record<string, KeySpec>> = {
  "": {
    network: { type: "enum", values: NETWORK_NAMES, default: "regtest", description: "Bitcoin network the pool mines on" },
    data_dir: { type: "string", default: "./data", description: "Keys, the SQLite ledger and state live here" },
    reuse_port: { type: "bool", default: false, description: "Let several sv2pool processes share the SV2 and SV1 ports (SO_REUSEPORT; give each its own mining.server_id and data_dir)" },
  },
  log: {
    level: { type: "enum", values: ["debug", "info", "warn", "error"], default: "info", description: "Lowest level logged" },
    format: { type: "enum", values: ["text", "json"], default: "text", description: "One text line per event, or JSON lines" },
  },
  node: {
    mode: { type: "enum", values: ["embedded", "rpc"], default: "embedded", description: "embedded regtest chain, or Bitcoin Core over JSON-RPC" },
    rpc_url: { type: "string", default: "http://127.0.0.1:8332", description: "Bitcoin Core RPC URL" },
    rpc_cookie_file: { type: "string", default: "", description: "Core's .cookie file (preferred over user/password)" },
    rpc_user: { type: "string", default: "", description: "rpcuser, when not using the cookie" },
    rpc_password: { type: "string", default: "", description: "rpcpassword, when not using the cookie", secret: true },
    rpc_timeout_ms: { type: "int", min: 100, max: 600_000, default: 10_000, description: "Timeout of one RPC call" },
    tip_poll_ms: { type: "int", min: 5, max: 10_000, default: 20, description: "getbestblockhash poll interval (new-block detection)" },
    template_refresh_ms: { type: "int", min: 1000, max: 600_000, default: 30_000, description: "Refresh the template for new transactions" },
    embedded_difficulty: { type: "number", min: 0, max: 1e12, default: 0, description: "Embedded node difficulty (0 = regtest minimum)" },
    embedded_mempool_txs: { type: "int", min: 0, max: 10_000, default: 0, description: "Synthetic transactions per embedded block" },
  },
  sv2: {
    enabled: { type: "bool", default: true, description: "Serve Stratum V2 miners" },
    listen: { type: "hostport", default: "127.0.0.1:34254", description: "SV2 listen address (0.0.0.0:34254 for the farm LAN)" },
    certificate_validity_sec: { type: "int", min: 60, max: 365 * 86400, default: 86400, description: "Validity of the pool's Noise certificate" },
    authority_key_file: { type: "string", default: "authority.key", description: "Authority key pair (relative to data_dir)" },
    static_key_file: { type: "string", default: "static.key", description: "Pool static Noise key (relative to data_dir)" },
    aead: { type: "enum", values: ["pure", "wasm", "noble", "libsodium", "tcc", "auto"], default: "wasm", description: "ChaCha20-Poly1305 implementation (wasm: built in, fastest measured without native code; pure: TypeScript; libsodium via FFI if installed; auto: libsodium, else wasm)" },
    secp256k1: { type: "enum", values: ["auto", "wasm"], default: "auto", description: "Handshake ECDH and key generation: auto = the system's libsecp256k1 when installed (Debian libsecp256k1-1, ~4x faster), else the built-in WebAssembly; wasm = always the built-in" },
  },
  sv1: {
    enabled: { type: "bool", default: true, description: "Serve Stratum V1 miners" },
    listen: { type: "hostport", default: "127.0.0.1:3333", description: "SV1 listen address (0.0.0.0:3333 for the farm LAN)" },
    extranonce2_size: { type: "int", min: 2, max: 16, default: 4, description: "extranonce2 bytes SV1 miners roll" },
    max_line_bytes: { type: "int", min: 512, max: 1 << 20, default: 4096, description: "Longest JSON line accepted" },
  },
  http: {
    enabled: { type: "bool", default: true, description: "Serve the JSON API, /metrics and the dashboard" },
    listen: { type: "hostport", default: "127.0.0.1:8080", description: "HTTP listen address" },
    token: { type: "string", default: "", description: "Bearer token required by the API when set", secret: true },
  },
  payout: {
    address: { type: "string", default: "", description: "Payout address (all of the block reward)" },
    split: { type: "string", default: "", description: "Several payouts: \"addr1:60,addr2:40\" (percent)" },
    tag: { type: "string", default: "sv2pool", description: "Text in every coinbase (max 40 bytes)" },
  },
  mining: {
    shares_per_minute: { type: "number", min: 0.1, max: 600, default: 6, description: "Vardiff goal per channel" },
    min_difficulty: { type: "number", min: 1e-10, max: 1e15, default: 0.0001, description: "Lowest difficulty handed out" },
    max_difficulty: { type: "number", min: 1e-10, max: 1e18, default: 1e15, description: "Highest difficulty handed out" },
    initial_difficulty: { type: "number", min: 1e-10, max: 1e15, default: 1, description: "Start difficulty when a miner announces no hashrate" },
    max_jobs_per_channel: { type: "int", min: 2, max: 64, default: 8, description: "Recent jobs remembered per channel" },
    version_rolling_mask: { type: "hex32", default: "1fffffe0", description: "Rollable version bits (BIP323)" },
    share_batch_size: { type: "int", min: 1, max: 1000, default: 1, description: "Accepted shares per SubmitShares.Success" },
    server_id: { type: "int", min: 0, max: 255, default: 0, description: "Distinct per process when several share the ports" },
    speculative_jobs: { type: "bool", default: true, description: "Send next-block jobs ahead (a new block costs one SetNewPrevHash)" },
  },
  limits: {
    max_connections: { type: "int", min: 1, max: 1_000_000, default: 50_000, description: "Connections in total" },
    max_connections_per_ip: { type: "int", min: 1, max: 1_000_000, default: 20_000, description: "Connections per source IP" },
    max_channels_per_connection: { type: "int", min: 1, max: 65_535, default: 1024, description: "Channels one connection may open" },
    handshake_timeout_ms: { type: "int", min: 100, max: 600_000, default: 10_000, description: "Noise handshake + SetupConnection deadline" },
    idle_timeout_ms: { type: "int", min: 1000, max: 86_400_000, default: 900_000, description: "Close connections silent this long" },
    max_frame_bytes: { type: "int", min: 1024, max: 16_777_215, default: 1 << 20, description: "Largest SV2 frame accepted" },
    write_buffer_bytes: { type: "int", min: 4096, max: 1 << 28, default: 1 << 20, description: "Unsent bytes per connection before it is dropped" },
    max_shares_per_second: { type: "int", min: 1, max: 1_000_000, default: 1000, description: "Share rate cap per channel" },
  },
};

export type RawValue = string | number | boolean;
/** section → key → value, as read from a file, the environment or flags. */
export type RawConfig = Record<string, Record<string, RawValue>>;

/** Stands for a value that must not appear in messages (passwords, tokens, pasted private keys). */
const NOT_SHOWN = "(value not shown)";

function configError(key: string, value: unknown, allowed: string, hide = false): StratumV2Error {
  const shown = hide ? NOT_SHOWN : typeof value === "string" ? JSON.stringify(value) : String(value);
  return StratumV2Error.config(`${key} = ${shown} is not valid: ${allowed}`);
}

function qualified(section: string, key: string): string {
  return section === "" ? key : `${section}.${key}`;
}

export function parseHostPort(s: string, key = "listen"): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) throw configError(key, s, "expected host:port, e.g. 0.0.0.0:34254 or [::1]:3333");
  return { host: (m[1] ?? m[2]) as string, port };
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** Converts a raw value (from TOML, env or flags: strings allowed everywhere) to the key's type. */
function coerce(section: string, key: string, spec: KeySpec, v: RawValue): RawValue {
  const name = qualified(section, key);
  switch (spec.type) {
    case "string":
      if (typeof v !== "string") throw configError(name, v, "expected a string", spec.secret === true);
      return v;
    case "bool":
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "1" || v === "yes") return true;
      if (v === "false" || v === "0" || v === "no") return false;
      throw configError(name, v, "expected true or false");
    case "int":
    case "number": {
      const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
      if (!Number.isFinite(n) || (spec.type === "int" && !Number.isInteger(n))) {
        throw configError(name, v, `expected ${spec.type === "int" ? "an integer" : "a number"} in ${spec.min}..${spec.max}`);
      }
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw configError(name, v, `must be in ${spec.min}..${spec.max}`);
      }
      return n;
    }
    case "enum":
      if (typeof v !== "string" || !(spec.values ?? []).includes(v)) {
        throw configError(name, v, `one of ${(spec.values ?? []).join(", ")}`);
      }
      return v;
    case "hostport":
      if (typeof v !== "string") throw configError(name, v, "expected \"host:port\"");
      parseHostPort(v, name);
      return v;
    case "hex32":
      if (typeof v !== "string" || !/^(0x)?[0-9a-fA-F]{1,8}$/.test(v)) throw configError(name, v, "expected a 32-bit hex value like 1fffffe0");
      return v;
  }
}

/** Parses a TOML document into a RawConfig, rejecting unknown sections and keys. */
export function parseConfigText(text: string, source = "config"): RawConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      throw StratumV2Error.config(`${source}: TOML syntax error at line ${e.line}, column ${e.column}: ${e.message.split("\n")[0]}`);
    }
    throw e;
  }
  const raw: RawConfig = {};
  for (const [k, v] of Object.entries(doc)) {
    if (typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date)) {
      const section = SCHEMA[k];
      if (section === undefined || k === "") throw StratumV2Error.config(`${source}: unknown section [${k}]; known: ${sectionNames()}`);
      for (const [kk, vv] of Object.entries(v as Record<string, unknown>)) {
        const spec = section[kk];
        if (spec === undefined) {
          throw StratumV2Error.config(`${source}: unknown key ${k}.${kk}; keys of [${k}]: ${Object.keys(section).join(", ")}`);
        }
        raw[k] ??= {};
        (raw[k] as Record<string, RawValue>)[kk] = coerce(k, kk, spec, toRaw(`${k}.${kk}`, vv, spec.secret === true));
      }
    } else {
      const spec = SCHEMA[""]?.[k];
      if (spec === undefined) throw StratumV2Error.config(`${source}: unknown key ${k}; top-level keys: ${Object.keys(SCHEMA[""] ?? {}).join(", ")}`);
      raw[""] ??= {};
      (raw[""] as Record<string, RawValue>)[k] = coerce("", k, spec, toRaw(k, v, spec.secret === true));
    }
  }
  return raw;
}

function toRaw(name: string, v: unknown, hide: boolean): RawValue {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return Number(v);
  // Shown as JSON (an array stays an array), not as a quoted string.
  throw StratumV2Error.config(`${name} = ${hide ? NOT_SHOWN : JSON.stringify(v)} is not valid: expected a string, number or boolean`);
}

function sectionNames(): string {
  return Object.keys(SCHEMA)
    .filter((s) => s !== "")
    .map((s) => `[${s}]`)
    .join(", ");
}

/** Environment variable for a key: SV2POOL_<SECTION>_<KEY> (top level: SV2POOL_<KEY>). */
export function envName(section: string, key: string): string {
  return `SV2POOL_${section === "" ? "" : `${section.toUpperCase()}_`}${key.toUpperCase()}`;
}

/** CLI flag for a key: --<section>-<key> with dashes (top level: --<key>). */
export function flagName(section: string, key: string): string {
  return `--${section === "" ? "" : `${section}-`}${key.replaceAll("_", "-")}`;
}

/** SV2POOL_ variables that are not config keys (read by the CLI itself). */
const OTHER_ENV = new Set(["SV2POOL_CONFIG"]);

export function rawFromEnv(env: Record<string, string | undefined>): RawConfig {
  // A misspelt variable (say, in a systemd unit) must not be ignored silently: same rule as unknown keys.
  const known = new Set(OTHER_ENV);
  for (const [section, keys] of Object.entries(SCHEMA)) for (const key of Object.keys(keys)) known.add(envName(section, key));
  for (const name of Object.keys(env)) {
    if (!name.startsWith("SV2POOL_") || known.has(name) || env[name] === undefined) continue;
    const section = Object.keys(SCHEMA).find((s) => s !== "" && name.startsWith(`SV2POOL_${s.toUpperCase()}_`));
    const hint =
      section === undefined
        ? "variables are SV2POOL_<SECTION>_<KEY> for the config keys (sv2pool config-example lists them) and SV2POOL_CONFIG"
        : `variables of [${section}]: ${Object.keys(SCHEMA[section] ?? {}).map((k) => envName(section, k)).join(", ")}`;
    throw StratumV2Error.config(`unknown environment variable ${name}; ${hint}`);
  }
  const raw: RawConfig = {};
  for (const [section, keys] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(keys)) {
      const v = env[envName(section, key)];
      if (v === undefined) continue;
      raw[section] ??= {};
      (raw[section] as Record<string, RawValue>)[key] = coerce(section, key, spec, v);
    }
  }
  return raw;
}

/** Maps `--section-key value` flags to a RawConfig; returns the flags it did not recognize. */
export function rawFromFlags(flags: Record<string, string>): { raw: RawConfig; unknown: string[] } {
  const byFlag = new Map<string, [string, string, KeySpec]>();
  for (const [section, keys] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(keys)) byFlag.set(flagName(section, key), [section, key, spec]);
  }
  const raw: RawConfig = {};
  const unknown: string[] = [];
  for (const [flag, value] of Object.entries(flags)) {
    const hit = byFlag.get(flag);
    if (hit === undefined) {
      unknown.push(flag);
      continue;
    }
    const [section, key, spec] = hit;
    raw[section] ??= {};
    (raw[section] as Record<string, RawValue>)[key] = coerce(section, key, spec, value);
  }
  return { raw, unknown };
}

function merge(...layers: RawConfig[]): RawConfig {
  const out: RawConfig = {};
  for (const layer of layers) {
    for (const [section, keys] of Object.entries(layer)) out[section] = { ...(out[section] ?? {}), ...keys };
  }
  return out;
}

/** The anyone-can-spend P2WSH(OP_TRUE) script: the embedded regtest chain's default payout (demos only). */
const REGTEST_DEMO_SCRIPT = "0020" + "4ae81572f06e1b88fd5ced7a1a000945432e83e1551e6f721ee9c00b8cc33260";

/** Builds the validated Config from layers (lowest precedence first). */
export function resolveConfig(...layers: RawConfig[]): Config {
  const raw = merge(...layers);
  const get = (section: string, key: string): RawValue => {
    const spec = SCHEMA[section]?.[key];
    if (spec === undefined) throw StratumV2Error.config(`internal: no key ${qualified(section, key)}`);
    return raw[section]?.[key] ?? coerce(section, key, spec, spec.default);
  };
  const str = (s: string, k: string): string => get(s, k) as string;
  const num = (s: string, k: string): number => get(s, k) as number;
  const bool = (s: string, k: string): boolean => get(s, k) as boolean;

  const network = str("", "network") as Network;
  const tag = str("payout", "tag");
  if (new TextEncoder().encode(tag).length > 40) throw configError("payout.tag", tag, "at most 40 bytes (the coinbase scriptSig is limited to 100)");

  const payouts = resolvePayouts(network, str("payout", "address"), str("payout", "split"), str("node", "mode"));
  const mode = str("node", "mode") as "embedded" | "rpc";
  if (mode === "embedded" && network !== "regtest") {
    throw configError("node.mode", mode, `the embedded node only runs regtest; set network = "regtest" or node.mode = "rpc"`);
  }
  if (mode === "rpc") {
    const cookie = str("node", "rpc_cookie_file");
    const user = str("node", "rpc_user");
    if (cookie === "" && user === "") {
      throw configError("node.rpc_cookie_file", cookie, "node.mode = \"rpc\" needs rpc_cookie_file or rpc_user + rpc_password");
    }
    if (cookie === "" && str("node", "rpc_password") === "") {
      throw configError("node.rpc_password", "", `node.rpc_user = ${JSON.stringify(user)} needs rpc_password (or use rpc_cookie_file)`);
    }
    let url: URL | null = null;
    try {
      url = new URL(str("node", "rpc_url"));
    } catch {
      url = null;
    }
    if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw configError("node.rpc_url", str("node", "rpc_url"), "expected an http:// URL such as http://127.0.0.1:8332");
    }
    if (url.username !== "" || url.password !== "") {
      // The RPC client ignores them, and the URL is printed at start: keep the password out of it.
      throw configError("node.rpc_url", "", "credentials in the URL are not used and would be printed; set node.rpc_user and node.rpc_password, or node.rpc_cookie_file", true);
    }
  }
  const minDiff = num("mining", "min_difficulty");
  const maxDiff = num("mining", "max_difficulty");
  if (maxDiff < minDiff) throw configError("mining.max_difficulty", maxDiff, `must be ≥ mining.min_difficulty (${minDiff})`);
  const mask = Number.parseInt(str("mining", "version_rolling_mask").replace(/^0x/, ""), 16) >>> 0;

  return {
    network,
    dataDir: str("", "data_dir"),
    reusePort: bool("", "reuse_port"),
    log: { level: str("log", "level") as LogLevel, format: str("log", "format") as "text" | "json" },
    node: {
      mode,
      rpcUrl: str("node", "rpc_url"),
      rpcCookieFile: str("node", "rpc_cookie_file"),
      rpcUser: str("node", "rpc_user"),
      rpcPassword: str("node", "rpc_password"),
      rpcTimeoutMs: num("node", "rpc_timeout_ms"),
      tipPollMs: num("node", "tip_poll_ms"),
      templateRefreshMs: num("node", "template_refresh_ms"),
      embeddedDifficulty: num("node", "embedded_difficulty"),
      embeddedMempoolTxs: num("node", "embedded_mempool_txs"),
    },
    sv2: {
      enabled: bool("sv2", "enabled"),
      listen: parseHostPort(str("sv2", "listen"), "sv2.listen"),
      certificateValiditySec: num("sv2", "certificate_validity_sec"),
      authorityKeyFile: str("sv2", "authority_key_file"),
      staticKeyFile: str("sv2", "static_key_file"),
      aead: str("sv2", "aead") as Config["sv2"]["aead"],
      secp256k1: str("sv2", "secp256k1") as Config["sv2"]["secp256k1"],
    },
    sv1: {
      enabled: bool("sv1", "enabled"),
      listen: parseHostPort(str("sv1", "listen"), "sv1.listen"),
      extranonce2Size: num("sv1", "extranonce2_size"),
      maxLineBytes: num("sv1", "max_line_bytes"),
    },
    http: { enabled: bool("http", "enabled"), listen: parseHostPort(str("http", "listen"), "http.listen"), token: str("http", "token") },
    payout: { payouts, tag },
    mining: {
      sharesPerMinute: num("mining", "shares_per_minute"),
      minDifficulty: minDiff,
      maxDifficulty: maxDiff,
      initialDifficulty: num("mining", "initial_difficulty"),
      maxJobsPerChannel: num("mining", "max_jobs_per_channel"),
      versionRollingMask: mask,
      shareBatchSize: num("mining", "share_batch_size"),
      serverId: num("mining", "server_id"),
      speculativeJobs: bool("mining", "speculative_jobs"),
    },
    limits: {
      maxConnections: num("limits", "max_connections"),
      maxConnectionsPerIp: num("limits", "max_connections_per_ip"),
      maxChannelsPerConnection: num("limits", "max_channels_per_connection"),
      handshakeTimeoutMs: num("limits", "handshake_timeout_ms"),
      idleTimeoutMs: num("limits", "idle_timeout_ms"),
      maxFrameBytes: num("limits", "max_frame_bytes"),
      writeBufferBytes: num("limits", "write_buffer_bytes"),
      maxSharesPerSecond: num("limits", "max_shares_per_second"),
    },
  };
}

function resolvePayouts(network: Network, address: string, split: string, mode: string): Payout[] {
  const hideSplit = split.split(/[\s,:]+/).some(looksLikePrivateKey);
  if (address !== "" && split !== "") {
    throw configError("payout.split", split, "set either payout.address or payout.split, not both", hideSplit);
  }
  let payouts: Payout[];
  if (split !== "") {
    payouts = split.split(",").map((part) => {
      const m = /^\s*([^:\s]+)\s*:\s*([0-9.]+)\s*$/.exec(part);
      if (m === null) throw configError("payout.split", split, "expected \"address:percent,address:percent\"", hideSplit);
      const addr = m[1] as string;
      return { address: addr, percent: Number(m[2]), script: scriptFor("payout.split", addr, network) };
    });
  } else if (address !== "") {
    payouts = [{ address, percent: 100, script: scriptFor("payout.address", address, network) }];
  } else if (network === "regtest" && mode === "embedded") {
    payouts = [{ address: "(regtest anyone-can-spend demo output)", percent: 100, script: hexToBytes(REGTEST_DEMO_SCRIPT) }];
  } else {
    throw configError("payout.address", address, `a payout address for ${network} is required: every block pays it`);
  }
  try {
    validatePayouts(payouts);
  } catch (e) {
    throw configError("payout.split", split, (e as Error).message);
  }
  return payouts;
}

function scriptFor(key: string, address: string, network: Network): Uint8Array {
  try {
    return payoutScript(address, network);
  } catch (e) {
    const message = (e as Error).message;
    // An operator who pasted a private key (WIF, xprv) must learn so, but the key must not travel on
    // into terminals, journald and bug reports: the message never repeats the value.
    if (e instanceof AddressError && e.reason === "not-an-address") {
      throw configError(key, address, message.replaceAll(JSON.stringify(address), "the value"), true);
    }
    if (looksLikePrivateKey(address)) {
      throw configError(key, address, "not an address, and it has the shape of a private key (WIF or extended private key): never put a private key in the pool's config; give the address it belongs to instead", true);
    }
    throw configError(key, address, message);
  }
}

/** Base58 text of a WIF key's length (51–52 characters; addresses are 26–35), or an xprv-style prefix. */
function looksLikePrivateKey(s: string): boolean {
  return /^[1-9A-HJ-NP-Za-km-z]{50,52}$/.test(s) || /^[xtyzuvYZUV]prv[1-9A-HJ-NP-Za-km-z]{20,}$/.test(s);
}

/** Loads the config: file (optional) < environment < flags. */
export async function loadConfig(options: {
  file?: string;
  env?: Record<string, string | undefined>;
  flags?: Record<string, string>;
}): Promise<Config> {
  const layers: RawConfig[] = [];
  if (options.file !== undefined) {
    const f = Bun.file(options.file);
    if (!(await f.exists())) throw StratumV2Error.config(`config file ${options.file} does not exist`);
    layers.push(parseConfigText(await f.text(), options.file));
  }
  if (options.env !== undefined) layers.push(rawFromEnv(options.env));
  if (options.flags !== undefined) {
    const { raw, unknown } = rawFromFlags(options.flags);
    if (unknown.length > 0) throw StratumV2Error.config(`unknown option${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`);
    layers.push(raw);
  }
  return resolveConfig(...layers);
}

/** The documented example config, generated from the schema (also `sv2pool config-example`). */
export function exampleConfig(): string {
  const lines: string[] = ["# sv2pool configuration. Every key is optional; the values shown are the defaults.", ""];
  for (const [section, keys] of Object.entries(SCHEMA)) {
    if (section !== "") lines.push(`[${section}]`);
    for (const [key, spec] of Object.entries(keys)) {
      lines.push(`# ${spec.description}${spec.values !== undefined ? ` (${spec.values.join(" | ")})` : ""}. Env ${envName(section, key)}, flag ${flagName(section, key)}.`);
      const v = spec.default;
      lines.push(`${typeof v === "string" && spec.type !== "int" && spec.type !== "number" ? `# ${key} = ${JSON.stringify(v)}` : `# ${key} = ${v}`}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
