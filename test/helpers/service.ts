// A real PoolService on the real embedded node, in memory, for socket-level tests.
import { resolveConfig, type Config, type RawConfig } from "../../src/config.ts";
import { createMemoryLogger, type LogRecord } from "../../src/log.ts";
import { EmbeddedNode } from "../../src/node/embedded.ts";
import { createPoolService } from "../../src/server/assemble.ts";
import type { PoolService } from "../../src/server/pool-service.ts";

export interface TestService {
  config: Config;
  service: PoolService;
  node: EmbeddedNode;
  logs: LogRecord[];
}

/**
 * Starts a service mining on an embedded regtest chain. `embeddedDifficulty` 0 = regtest minimum
 * (every other share is a block); tests that must not find blocks pass a higher one.
 */
export async function startTestService(layers: RawConfig = {}, opts: { embeddedDifficulty?: number; mempoolTxs?: number; flushMs?: number } = {}): Promise<TestService> {
  const base: RawConfig = {
    "": { data_dir: ":memory:" },
    node: { tip_poll_ms: 10 },
    mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6 },
  };
  const merged: RawConfig = { ...base };
  for (const [section, values] of Object.entries(layers)) merged[section] = { ...(merged[section] ?? {}), ...values };
  const config = resolveConfig(merged);
  const logger = createMemoryLogger();
  const node = new EmbeddedNode({ difficulty: opts.embeddedDifficulty ?? 0, mempoolTxs: opts.mempoolTxs ?? 0 });
  const service = createPoolService(config, { logger, node, submitRetryMinMs: 20, submitRetryMaxMs: 200, flushMs: opts.flushMs });
  service.start();
  await service.ready;
  return { config, service, node, logs: logger.records };
}
