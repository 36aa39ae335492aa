// `sv2pool miner --count N`: a fleet of SV2 CPU miners in one process against a running pool.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPool, type RunningPool } from "../../src/app.ts";
import { runCli } from "../../src/cli.ts";
import { resolveConfig } from "../../src/config.ts";
import { createMemoryLogger } from "../../src/log.ts";

let pool: RunningPool | null = null;
afterEach(async () => {
  await pool?.stop("test over");
  pool = null;
});

test("miner --count 3 --duration 2 connects three workers that get shares accepted", async () => {
  const config = resolveConfig({
    "": { data_dir: mkdtempSync(join(tmpdir(), "sv2pool-minercmd-")) },
    node: { embedded_difficulty: 1 },
    sv2: { listen: "127.0.0.1:0" },
    sv1: { enabled: false },
    http: { enabled: false },
    // The miners announce their capped hashrate; at 600 shares/min each gets a share every ~0.1 s.
    mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6, shares_per_minute: 600 },
  });
  pool = await startPool(config, { logger: createMemoryLogger("warn") });
  const out: string[] = [];
  const code = await runCli(["miner", "--pool", pool.sv2Address as string, "--authority-key", pool.identity.authorityPublicKey, "--count", "3", "--user", "rack7", "--duration", "2", "--hashrate", "200000"], {
    out: (l) => out.push(l),
    err: (l) => out.push(l),
    env: {},
  });
  expect(code).toBe(0);
  expect(out[0]).toBe(`started 3 SV2 miner(s) against ${pool.sv2Address}`);
  const last = out[out.length - 1] as string;
  expect(last).toMatch(/^miners \d\/3 connected, [\d.]+ MH\/s, shares accepted \d+ rejected 0/);
  const names = pool.service.pool.getWorkers().map((w) => w.name).sort();
  expect(names).toEqual(["rack7.1", "rack7.2", "rack7.3"]);
  expect(pool.service.pool.getWorkers().every((w) => w.counters.accepted > 0)).toBe(true);
});
