/**
 * The command line: `sv2pool [run] | keygen | miner | check-config | config-example | demo`,
 * `--help`, `--version`.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error (bad flag, bad config
 * value, unreadable or world-readable key file), 130/143 never: a signal stops the pool gracefully
 * and exits 0.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunningPool } from "./app.ts";
import { exampleConfig, formatHostPort, loadConfig, parseHostPort, type Config } from "./config.ts";
import { StratumV2Error } from "./errors.ts";
import { createLogger, type Logger } from "./log.ts";
import type { ChannelKind, Sv2Miner } from "./miner/sv2-miner.ts";
import { openPoolListeners } from "./server/early-listener.ts";
import { VERSION } from "./version.ts";

// Only what every command needs (config, errors, logging) is imported statically. The pool, the
// Noise and curve code, SQLite, the HTTP server and the miner are imported by the commands that use
// them: evaluating them all costs ~20 ms, which `run` spends after its ports are open.

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
}

const defaultIo: CliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  env: process.env,
};

export const HELP = `sv2pool ${VERSION} — a Stratum V2 (and V1) mining pool for your own farm

Usage:
  sv2pool [run] [--config FILE] [--<section>-<key> VALUE ...]
  sv2pool keygen [--data-dir DIR] [--force]
  sv2pool miner --pool HOST:PORT --authority-key KEY [--count N] [--user NAME]
                [--channel standard|extended] [--hashrate H/s] [--duration SEC]
  sv2pool check-config [--config FILE] [flags]
  sv2pool config-example
  sv2pool demo [--miners N]
  sv2pool --help | --version

Every config key is also a flag (--<section>-<key>) and an environment variable
(SV2POOL_<SECTION>_<KEY>); flags override the environment, which overrides the file.

Examples:
  sv2pool                                   # regtest pool on the embedded node, keys in ./data
  sv2pool run --config /etc/sv2pool/sv2pool.toml
  sv2pool run --sv2-listen 0.0.0.0:34254 --sv1-listen 0.0.0.0:3333 --data-dir /var/lib/sv2pool
  sv2pool keygen --data-dir /var/lib/sv2pool
  sv2pool miner --pool 127.0.0.1:34254 --authority-key 9bXiEd8b... --count 4
  sv2pool check-config --config sv2pool.toml

Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.`;

export interface ParsedArgs {
  command: string;
  flags: Record<string, string>;
  switches: Set<string>;
}

const SWITCHES = new Set(["--help", "-h", "--version", "-V", "--force"]);
const COMMANDS = new Set(["run", "keygen", "miner", "check-config", "config-example", "demo", "help", "version"]);

/** `--key value`, `--key=value`, and a few boolean switches. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const flags: Record<string, string> = {};
  const switches = new Set<string>();
  let command = "run";
  let i = 0;
  if (argv[0] !== undefined && COMMANDS.has(argv[0])) {
    command = argv[0];
    i = 1;
  } else if (argv[0] !== undefined && !argv[0].startsWith("-")) {
    throw StratumV2Error.config(`unknown command "${argv[0]}"; commands: ${[...COMMANDS].filter((c) => c !== "help" && c !== "version").join(", ")} (see sv2pool --help)`);
  }
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (SWITCHES.has(a)) {
      switches.add(a);
      continue;
    }
    if (!a.startsWith("--")) throw StratumV2Error.config(`unexpected argument "${a}" (see sv2pool --help)`);
    const eq = a.indexOf("=");
    if (eq > 0) {
      flags[a.slice(0, eq)] = a.slice(eq + 1);
      continue;
    }
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith("--") && v.length > 2)) throw StratumV2Error.config(`option ${a} needs a value`);
    flags[a] = v;
    i++;
  }
  return { command, flags, switches };
}

function takeFlag(flags: Record<string, string>, name: string): string | undefined {
  const v = flags[name];
  delete flags[name];
  return v;
}

async function configFrom(flags: Record<string, string>, io: CliIo): Promise<Config> {
  const file = takeFlag(flags, "--config") ?? io.env["SV2POOL_CONFIG"];
  return loadConfig({ file, env: io.env, flags });
}

export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`sv2pool: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
  if (args.switches.has("--help") || args.switches.has("-h") || args.command === "help") {
    io.out(HELP);
    return EXIT_OK;
  }
  if (args.switches.has("--version") || args.switches.has("-V") || args.command === "version") {
    io.out(`sv2pool ${VERSION}`);
    return EXIT_OK;
  }
  try {
    switch (args.command) {
      case "run":
        return await cmdRun(args, io);
      case "keygen":
        return await cmdKeygen(args, io);
      case "miner":
        return await cmdMiner(args, io);
      case "check-config":
        return await cmdCheckConfig(args, io);
      case "config-example":
        io.out(exampleConfig());
        return EXIT_OK;
      case "demo":
        return await cmdDemo(args, io);
      default:
        io.err(`sv2pool: unknown command ${args.command}`);
        return EXIT_USAGE;
    }
  } catch (e) {
    if (e instanceof StratumV2Error && e.kind === "ConfigError") {
      io.err(`sv2pool: configuration error: ${e.message}`);
      return EXIT_USAGE;
    }
    io.err(`sv2pool: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_FAILURE;
  }
}

function loggerFor(config: Config, io: CliIo): Logger {
  // journald stamps lines itself; a terminal gets timestamps.
  const underJournal = io.env["JOURNAL_STREAM"] !== undefined || io.env["INVOCATION_ID"] !== undefined;
  return createLogger({ level: config.log.level, format: config.log.format, timestamps: !underJournal && config.log.format === "text" });
}

/** Resolves on SIGINT/SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(sig);
    };
    const onInt = (): void => on("SIGINT");
    const onTerm = (): void => on("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}

export function banner(pool: RunningPool): string[] {
  const lines = [
    `sv2pool ${VERSION} on ${pool.config.network} (${pool.config.node.mode === "embedded" ? "embedded regtest node" : `Bitcoin Core at ${pool.config.node.rpcUrl}`})`,
  ];
  if (pool.sv2Address !== null) lines.push(`  Stratum V2:  stratum2+tcp://${pool.sv2Address}`, `  Authority public key (give it to SV2 miners and proxies): ${pool.identity.authorityPublicKey}`);
  if (pool.sv1Address !== null) lines.push(`  Stratum V1:  stratum+tcp://${pool.sv1Address}  (worker name as user, any password)`);
  if (pool.httpAddress !== null) lines.push(`  Dashboard:   http://${pool.httpAddress}/   metrics: http://${pool.httpAddress}/metrics`);
  for (const p of pool.config.payout.payouts) lines.push(`  Payout:      ${p.percent}% to ${p.address}`);
  if (pool.sv2Address !== null) {
    const a = parseHostPort(pool.sv2Address);
    const host = a.host === "0.0.0.0" || a.host === "::" ? "127.0.0.1" : a.host;
    lines.push(`  Try a miner: sv2pool miner --pool ${formatHostPort({ host, port: a.port })} --authority-key ${pool.identity.authorityPublicKey}`);
    lines.push(`               (from a checkout: npm run miner -- --pool ${formatHostPort({ host, port: a.port })} --authority-key ${pool.identity.authorityPublicKey})`);
  }
  return lines;
}

async function cmdRun(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = await configFrom(args.flags, io);
  const logger = loggerFor(config, io);
  // The ports first: miners connecting from here on wait for the rest instead of being refused.
  const listeners = openPoolListeners(config);
  let startPool: typeof import("./app.ts").startPool;
  try {
    ({ startPool } = await import("./app.ts"));
  } catch (e) {
    listeners.close();
    throw e;
  }
  const pool = await startPool(config, { logger, listeners });
  for (const l of banner(pool)) io.out(l);
  const sig = await untilSignal();
  logger.info("stopping", { signal: sig });
  await pool.stop(`received ${sig}`);
  logger.info("stopped");
  return EXIT_OK;
}

async function cmdKeygen(args: ParsedArgs, io: CliIo): Promise<number> {
  const dataDir = takeFlag(args.flags, "--data-dir") ?? io.env["SV2POOL_DATA_DIR"] ?? "./data";
  const authorityFile = takeFlag(args.flags, "--sv2-authority-key-file") ?? "authority.key";
  const staticFile = takeFlag(args.flags, "--sv2-static-key-file") ?? "static.key";
  const unknown = Object.keys(args.flags);
  if (unknown.length > 0) throw StratumV2Error.config(`keygen: unknown option ${unknown.join(", ")}`);
  const [{ keyPaths }, { generateAuthorityKeyPair, encodeAuthorityPublicKey }, { randomSecretKey }, { writeAuthorityKeyFile, writePublicKeyFile, writeStaticKeyFile }] = await Promise.all([
    import("./server/sv2/identity.ts"),
    import("./noise/keys.ts"),
    import("./noise/ellswift.ts"),
    import("./server/keyfiles.ts"),
  ]);
  const paths = keyPaths(dataDir, authorityFile, staticFile);
  const force = args.switches.has("--force");
  if (!force && (existsSync(paths.authority) || existsSync(paths.static))) {
    throw StratumV2Error.config(`keys already exist in ${dataDir}; pass --force to replace them (miners must then be given the new authority key)`);
  }
  const authority = generateAuthorityKeyPair();
  writeAuthorityKeyFile(paths.authority, authority, { overwrite: force });
  writeStaticKeyFile(paths.static, randomSecretKey(), { overwrite: force });
  const pubPath = join(dataDir, "authority.pub");
  writePublicKeyFile(pubPath, authority.xonly, { overwrite: true });
  io.out(`wrote ${paths.authority} (0600), ${paths.static} (0600), ${pubPath}`);
  io.out(`authority public key: ${encodeAuthorityPublicKey(authority.xonly)}`);
  return EXIT_OK;
}

interface MinerFleetOptions {
  host: string;
  port: number;
  authority: string;
  count: number;
  user: string;
  channel: ChannelKind;
  hashrate: number;
}

function minerOptions(flags: Record<string, string>): MinerFleetOptions {
  const pool = takeFlag(flags, "--pool") ?? "127.0.0.1:34254";
  const authority = takeFlag(flags, "--authority-key");
  if (authority === undefined) throw StratumV2Error.config("miner: --authority-key is required (the pool prints it at start)");
  const count = Number(takeFlag(flags, "--count") ?? "1");
  if (!Number.isInteger(count) || count < 1 || count > 100_000) throw StratumV2Error.config(`miner: --count must be 1..100000`);
  const channel = (takeFlag(flags, "--channel") ?? "standard") as ChannelKind;
  if (channel !== "standard" && channel !== "extended") throw StratumV2Error.config(`miner: --channel must be standard or extended`);
  const hashrate = Number(takeFlag(flags, "--hashrate") ?? "0");
  if (!Number.isFinite(hashrate) || hashrate < 0) throw StratumV2Error.config(`miner: --hashrate must be a number of H/s`);
  const hp = parseHostPort(pool, "--pool");
  return { host: hp.host, port: hp.port, authority, count, user: takeFlag(flags, "--user") ?? "cpu", channel, hashrate };
}

async function startFleet(o: MinerFleetOptions, logger: Logger): Promise<Sv2Miner[]> {
  const { Sv2Miner } = await import("./miner/sv2-miner.ts");
  const miners: Sv2Miner[] = [];
  for (let i = 0; i < o.count; i++) {
    const m = new Sv2Miner({
      host: o.host,
      port: o.port,
      authorityPublicKey: o.authority,
      user: o.count === 1 ? o.user : `${o.user}.${i + 1}`,
      channel: o.channel,
      maxHashrate: o.hashrate,
      nominalHashrate: o.hashrate > 0 ? o.hashrate : 1e6 / Math.max(1, o.count),
      logger,
    });
    miners.push(m);
    void m.start();
  }
  return miners;
}

function fleetLine(miners: Sv2Miner[], sinceMs: number, hashesAtStart: number): string {
  let accepted = 0;
  let rejected = 0;
  let hashes = 0;
  let connected = 0;
  let blocks = 0;
  for (const m of miners) {
    accepted += m.stats.accepted;
    rejected += m.stats.rejected;
    hashes += m.stats.hashes;
    blocks += m.stats.blockCandidates;
    if (m.connected) connected++;
  }
  const sec = Math.max(0.001, (Date.now() - sinceMs) / 1000);
  return `miners ${connected}/${miners.length} connected, ${((hashes - hashesAtStart) / sec / 1e6).toFixed(2)} MH/s, shares accepted ${accepted} rejected ${rejected}, block candidates ${blocks}`;
}

async function cmdMiner(args: ParsedArgs, io: CliIo): Promise<number> {
  const duration = Number(takeFlag(args.flags, "--duration") ?? "0");
  const o = minerOptions(args.flags);
  const unknown = Object.keys(args.flags);
  if (unknown.length > 0) throw StratumV2Error.config(`miner: unknown option ${unknown.join(", ")}`);
  const logger = createLogger({ level: "info" });
  const miners = await startFleet(o, logger);
  io.out(`started ${o.count} SV2 miner(s) against ${o.host}:${o.port}`);
  let since = Date.now();
  let base = 0;
  const timer = setInterval(() => {
    io.out(fleetLine(miners, since, base));
    since = Date.now();
    base = miners.reduce((s, m) => s + m.stats.hashes, 0);
  }, 5000);
  const stop = duration > 0 ? Bun.sleep(duration * 1000).then(() => "duration") : untilSignal();
  await stop;
  clearInterval(timer);
  for (const m of miners) m.stop();
  io.out(fleetLine(miners, since, base));
  return EXIT_OK;
}

async function cmdCheckConfig(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = await configFrom(args.flags, io);
  io.out(`config ok: network ${config.network}, node ${config.node.mode}, sv2 ${config.sv2.enabled ? formatHostPort(config.sv2.listen) : "off"}, sv1 ${config.sv1.enabled ? formatHostPort(config.sv1.listen) : "off"}, http ${config.http.enabled ? formatHostPort(config.http.listen) : "off"}, data dir ${config.dataDir}`);
  for (const p of config.payout.payouts) io.out(`  payout ${p.percent}% to ${p.address}`);
  return EXIT_OK;
}

/** Pool + embedded node + a few CPU miners in one process, until Ctrl-C. */
async function cmdDemo(args: ParsedArgs, io: CliIo): Promise<number> {
  const count = Number(takeFlag(args.flags, "--miners") ?? "3");
  if (args.flags["--node-embedded-difficulty"] === undefined) args.flags["--node-embedded-difficulty"] = "0.001";
  if (args.flags["--mining-min-difficulty"] === undefined) args.flags["--mining-min-difficulty"] = "0.00001";
  if (args.flags["--mining-initial-difficulty"] === undefined) args.flags["--mining-initial-difficulty"] = "0.0001";
  const config = await configFrom(args.flags, io);
  const logger = loggerFor(config, io);
  const { startPool } = await import("./app.ts");
  const pool = await startPool(config, { logger });
  for (const l of banner(pool)) io.out(l);
  if (pool.sv2Address === null) throw StratumV2Error.config("demo needs sv2 enabled");
  const a = parseHostPort(pool.sv2Address);
  const miners = await startFleet({ host: a.host === "0.0.0.0" ? "127.0.0.1" : a.host, port: a.port, authority: pool.identity.authorityPublicKey, count, user: "demo", channel: "standard", hashrate: 0 }, logger);
  let since = Date.now();
  let base = 0;
  const timer = setInterval(() => {
    const blocks = pool.service.submitter.counters;
    io.out(`${fleetLine(miners, since, base)}; blocks found ${blocks.found}, accepted by the node ${blocks.accepted}, tip height ${(pool.service.pool.currentTip?.height ?? 1) - 1}`);
    since = Date.now();
    base = miners.reduce((s, m) => s + m.stats.hashes, 0);
  }, 5000);
  await untilSignal();
  clearInterval(timer);
  for (const m of miners) m.stop();
  await pool.stop("demo over");
  return EXIT_OK;
}
