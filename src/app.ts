/**
 * The whole pool process from a Config: the SV2 and SV1 ports, keys, the pool service, the SV2 and
 * SV1 servers on those ports and the HTTP server, started in order and stopped gracefully in reverse.
 * `sv2pool run` and the tests of the compiled binary go through here.
 *
 * The ports come first: a miner connecting while the keys, the certificate and the ledger load is
 * accepted and waits (src/server/early-listener.ts) instead of being refused.
 */
import type { Config } from "./config.ts";
import { StratumV2Error } from "./errors.ts";
import { formatHostPort } from "./config.ts";
import type { Logger } from "./log.ts";
import type { NodeAPI } from "./node/api.ts";
import { systemClock, type Clock } from "./pool/clock.ts";
import { createPoolService } from "./server/assemble.ts";
import type { PoolService } from "./server/pool-service.ts";
import { keyPaths, loadOrCreateKeys, PoolIdentity } from "./server/sv2/identity.ts";
import { Sv2Server, sv2OptionsFromConfig } from "./server/sv2/server.ts";
import { listenError, openPoolListeners, type PoolListeners } from "./server/early-listener.ts";
import { selectAead } from "./noise/native/select.ts";
import { nativeSecp256k1, useNativeSecp256k1 } from "./noise/native/secp256k1.ts";
import { HttpServer } from "./http/server.ts";
import { Sv1Server, sv1OptionsFromConfig } from "./server/sv1/server.ts";
import { VERSION } from "./version.ts";

export interface RunningPool {
  config: Config;
  service: PoolService;
  identity: PoolIdentity;
  sv2: Sv2Server | null;
  sv1: Sv1Server | null;
  http: HttpServer | null;
  sv2Address: string | null;
  sv1Address: string | null;
  httpAddress: string | null;
  startedAtMs: number;
  /** Keys created at this start (first run). */
  createdKeys: string[];
  stop(reason?: string): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  clock?: Clock;
  node?: NodeAPI;
  ledgerPath?: string;
  /** The SV2/SV1 ports, already open (`sv2pool run` opens them before loading this module); opened first thing otherwise. */
  listeners?: PoolListeners;
}

export async function startPool(config: Config, options: StartOptions): Promise<RunningPool> {
  const listeners = options.listeners ?? openPoolListeners(config);
  try {
    return await startOnListeners(config, options, listeners);
  } catch (e) {
    // Held miners are dropped and the ports freed: nothing may keep running when the pool cannot serve.
    listeners.close();
    throw e;
  }
}

async function startOnListeners(config: Config, options: StartOptions, listeners: PoolListeners): Promise<RunningPool> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const startedAtMs = clock.nowMs();
  // Before any key is made: libsecp256k1 for ECDH and key generation when installed and allowed.
  useNativeSecp256k1(config.sv2.secp256k1 === "auto");
  const ec = nativeSecp256k1();
  logger.info("handshake elliptic-curve arithmetic", { ecdh: ec === null ? "built-in WebAssembly" : `libsecp256k1 (${ec.name})`, setting: config.sv2.secp256k1 });
  const paths = keyPaths(config.dataDir, config.sv2.authorityKeyFile, config.sv2.staticKeyFile);
  const keys = loadOrCreateKeys(paths);
  for (const created of keys.created) logger.info("created key file", { path: created });
  const identity = new PoolIdentity(keys.authority, keys.staticSecret, clock, {
    validitySec: config.sv2.certificateValiditySec,
    backdateSec: 3600,
    renewBeforeSec: Math.floor(config.sv2.certificateValiditySec / 4),
  });
  const service = createPoolService(config, { logger, clock, node: options.node, ledgerPath: options.ledgerPath });
  service.start();

  let sv2: Sv2Server | null = null;
  let sv2Address: string | null = null;
  if (config.sv2.enabled) {
    const aead = selectAead(config.sv2.aead);
    if (aead.fallbackReason !== null) logger.warn("using the built-in AEAD", { wanted: config.sv2.aead, reason: aead.fallbackReason });
    sv2 = new Sv2Server(service, { ...sv2OptionsFromConfig(config, identity, aead.provider), listen: listeners.sv2?.listen });
    let a: { host: string; port: number };
    try {
      a = await sv2.start();
    } catch (e) {
      // Nothing may keep running (node watcher, timers, an open ledger) when the pool cannot serve.
      await service.stop("cannot listen");
      throw listenError("sv2.listen", config.sv2.listen, e);
    }
    sv2Address = formatHostPort(a);
  }
  let sv1: Sv1Server | null = null;
  let sv1Address: string | null = null;
  if (config.sv1.enabled) {
    sv1 = new Sv1Server(service, { ...sv1OptionsFromConfig(config), reusePort: config.reusePort, listen: listeners.sv1?.listen });
    try {
      sv1Address = formatHostPort(await sv1.start());
    } catch (e) {
      await service.stop("cannot listen");
      throw listenError("sv1.listen", config.sv1.listen, e);
    }
  }

  let http: HttpServer | null = null;
  let httpAddress: string | null = null;
  if (config.http.enabled) {
    http = new HttpServer(service, {
      host: config.http.listen.host,
      port: config.http.listen.port,
      token: config.http.token === "" ? undefined : config.http.token,
      info: () => ({
        version: VERSION,
        network: config.network,
        authorityPublicKey: sv2 === null ? null : identity.authorityPublicKey,
        sv2Listen: sv2Address,
        sv1Listen: sv1Address,
        httpListen: httpAddress ?? undefined,
        startedAtMs,
      }),
    });
    try {
      httpAddress = formatHostPort(await http.start());
    } catch (e) {
      await service.stop("cannot listen");
      throw listenError("http.listen", config.http.listen, e);
    }
    const loopback = ["127.0.0.1", "::1", "localhost"].includes(config.http.listen.host);
    if (!loopback && config.http.token === "") logger.warn("the HTTP API listens beyond loopback without a token; set http.token", { listen: httpAddress });
  }

  const running: RunningPool = {
    config,
    service,
    identity,
    sv2,
    sv1,
    http,
    sv2Address,
    sv1Address,
    httpAddress,
    startedAtMs,
    createdKeys: keys.created,
    stop: async (reason = "shutting down") => {
      // Miners first (Reconnect), then the node and pending blocks, the HTTP API last.
      await service.stop(reason);
      await http?.stop();
    },
  };
  logger.info("sv2pool started", { version: VERSION, network: config.network, node: config.node.mode, sv2: sv2Address ?? "off", sv1: sv1Address ?? "off", http: httpAddress ?? "off" });
  return running;
}
