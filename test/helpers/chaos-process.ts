// The real `sv2pool run` process (src/main.ts) against a ChaosCore, and a look into the SQLite ledger
// it leaves in its data dir.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { cleanEnv, spawnScript, waitForBanner, type PoolProcess } from "../cli/pool-process.ts";
import { CHAOS_RPC_USER, type ChaosCore } from "./chaos-core.ts";
import { CHAOS_PAYOUT } from "./chaos-pool.ts";

/** Flags for `sv2pool run` on `core` with its data in `dataDir` (the RPC password goes in the environment). */
export function poolArgs(core: ChaosCore, dataDir: string, extra: string[] = []): string[] {
  return [
    "--data-dir",
    dataDir,
    "--node-mode",
    "rpc",
    "--node-rpc-url",
    core.url,
    "--node-rpc-user",
    CHAOS_RPC_USER,
    "--node-tip-poll-ms",
    "10",
    "--sv2-listen",
    "127.0.0.1:0",
    "--sv1-enabled",
    "false",
    "--http-enabled",
    "false",
    "--payout-address",
    CHAOS_PAYOUT,
    "--mining-min-difficulty",
    "1e-8",
    "--mining-initial-difficulty",
    "1e-6",
    "--mining-shares-per-minute",
    "600",
    ...extra,
  ];
}

/** The environment of the pool process: the test's, minus SV2POOL_*, plus the RPC password. */
export function poolEnv(core: ChaosCore, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({ SV2POOL_NODE_RPC_PASSWORD: core.password, ...extra });
}

export interface StoredBlock {
  hash: string;
  height: number;
  prev_hash: string;
  status: string;
  attempts: number;
  node_answer: string | null;
  last_error: string | null;
}

/** The blocks table of the ledger in `dataDir`, read-only (the pool may be dead or alive). */
export function storedBlocks(dataDir: string): StoredBlock[] {
  const db = new Database(join(dataDir, "sv2pool.sqlite"), { readonly: true });
  try {
    return db.query("SELECT hash, height, prev_hash, status, attempts, node_answer, last_error FROM blocks ORDER BY found_at_ms").all() as StoredBlock[];
  } finally {
    db.close();
  }
}

/** A pool started from a wrapper script (the same banner as `sv2pool run`). */
export type ScriptPool = PoolProcess;

/** Runs `bun <script> run <args>` (a wrapper around the CLI) and waits for the banner. */
export function startScriptPool(script: string, args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<ScriptPool> {
  return waitForBanner(spawnScript(script, ["run", ...args], env), script, timeoutMs);
}
