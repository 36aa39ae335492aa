/**
 * Builds a PoolService from a resolved Config: the node (embedded or Bitcoin Core), the pool core,
 * the template watcher, the ledger and the block submitter. Front ends are added by the caller.
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { Registry } from "../metrics.ts";
import type { NodeAPI } from "../node/api.ts";
import { EmbeddedNode } from "../node/embedded.ts";
import { instrumentNode } from "../node/instrumented.ts";
import { RpcNode } from "../node/rpc-node.ts";
import type { RpcAuth } from "../node/rpc.ts";
import { TemplateWatcher } from "../node/template-watcher.ts";
import { systemClock, type Clock } from "../pool/clock.ts";
import { StratumV2Pool } from "../pool/pool.ts";
import { Ledger } from "../store/ledger.ts";
import { BlockSubmitter } from "./block-submitter.ts";
import { PoolService } from "./pool-service.ts";

export interface AssembleOptions {
  logger: Logger;
  clock?: Clock;
  metrics?: Registry;
  /** Use this node instead of the one the config names (tests, the demo). */
  node?: NodeAPI;
  /** Ledger path override; ":memory:" keeps nothing on disk. */
  ledgerPath?: string;
  /** Retry timing of block submission (tests use short ones). */
  submitRetryMinMs?: number;
  submitRetryMaxMs?: number;
  /** Share counters to SQLite every this many ms (default 5 s; tests use short ones). */
  flushMs?: number;
}

export function createNode(config: Config, logger: Logger, clock: Clock): NodeAPI {
  if (config.node.mode === "embedded") {
    return new EmbeddedNode({
      difficulty: config.node.embeddedDifficulty,
      mempoolTxs: config.node.embeddedMempoolTxs,
      clock,
      logger: logger.child({ component: "embedded-node" }),
    });
  }
  const auth: RpcAuth =
    config.node.rpcCookieFile !== ""
      ? { kind: "cookie", cookieFile: config.node.rpcCookieFile }
      : { kind: "userpass", user: config.node.rpcUser, password: config.node.rpcPassword };
  return new RpcNode({ url: config.node.rpcUrl, auth, timeoutMs: config.node.rpcTimeoutMs, logger: logger.child({ component: "rpc" }) });
}

export function ledgerPathFor(config: Config): string {
  if (config.dataDir === ":memory:") return ":memory:";
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  return join(config.dataDir, "sv2pool.sqlite");
}

export function createPoolService(config: Config, options: AssembleOptions): PoolService {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const metrics = options.metrics ?? new Registry();
  // Every RPC the pool makes is timed and its failures counted (sv2pool_node_rpc_*).
  const node = instrumentNode(options.node ?? createNode(config, logger, clock), metrics);
  const m = config.mining;
  const pool = new StratumV2Pool(
    {
      network: config.network,
      payouts: config.payout.payouts,
      coinbaseTag: config.payout.tag,
      serverId: m.serverId,
      maxJobsPerChannel: m.maxJobsPerChannel,
      versionMask: m.versionRollingMask,
      vardiff: {
        sharesPerMinute: m.sharesPerMinute,
        minDifficulty: m.minDifficulty,
        maxDifficulty: m.maxDifficulty,
        retargetAfterMs: 60_000,
        retargetAfterShares: 20,
        maxStepFactor: 4,
        tolerance: 0.3,
      },
      initialDifficulty: m.initialDifficulty,
      speculativeJobs: m.speculativeJobs,
    },
    clock,
  );
  const watcher = new TemplateWatcher(node, {
    logger: logger.child({ component: "node" }),
    tipPollMs: config.node.tipPollMs,
    refreshMs: config.node.templateRefreshMs,
    clock,
    nextTemplateId: () => pool.allocateTemplateId(),
  });
  const ledger = new Ledger({ path: options.ledgerPath ?? ledgerPathFor(config), logger: logger.child({ component: "ledger" }) });
  const submitter = new BlockSubmitter(node, ledger, logger.child({ component: "blocks" }), {
    retryMinMs: options.submitRetryMinMs,
    retryMaxMs: options.submitRetryMaxMs,
  });
  return new PoolService({ pool, node, watcher, submitter, ledger, logger, clock, metrics, flushMs: options.flushMs });
}
