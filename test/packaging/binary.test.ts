// The compiled single binary: build it, start it on a temp data dir, mine a block through it with the
// real SV2 miner client, read the block back from its HTTP API, stop it with SIGTERM.
import { expect, test } from "bun:test";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sv2Miner } from "../../src/miner/sv2-miner.ts";

const ROOT = join(import.meta.dir, "../..");

async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp, timeoutMs: number): Promise<{ text: string; match: RegExpMatchArray }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = text.match(pattern);
    if (m !== null) {
      reader.releaseLock();
      return { text, match: m };
    }
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${text}`);
    const { value, done } = await Promise.race([reader.read(), Bun.sleep(500).then(() => ({ value: undefined, done: false }))]);
    if (done === true) throw new Error(`process output ended without ${pattern}:\n${text}`);
    if (value !== undefined) text += decoder.decode(value);
  }
}

test("dist binary: starts, mines a block with a real miner, stops on SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sv2pool-bin-"));
  const bin = join(dir, "sv2pool");
  const build = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm", join(ROOT, "src/main.ts"), "--outfile", bin], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(build.exitCode).toBe(0);
  console.log(`binary size ${(statSync(bin).size / 1e6).toFixed(1)} MB`);

  const version = Bun.spawnSync([bin, "--version"], { stdout: "pipe" });
  expect(version.stdout.toString()).toMatch(/^sv2pool \d+\.\d+\.\d+/);

  const proc = Bun.spawn(
    [bin, "run", "--data-dir", join(dir, "data"), "--sv2-listen", "127.0.0.1:0", "--sv1-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
      "--node-embedded-difficulty", "0.0001", "--mining-min-difficulty", "1e-8", "--mining-initial-difficulty", "1e-6", "--log-level", "warn"],
    { cwd: dir, stdout: "pipe", stderr: "inherit" },
  );
  try {
    const { text } = await readUntil(proc.stdout, /Dashboard: +http:\/\/127\.0\.0\.1:(\d+)\//, 15_000);
    const sv2Port = Number(text.match(/stratum2\+tcp:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    const authority = text.match(/Authority public key[^:]*: (\S+)/)?.[1] as string;
    const httpPort = Number(text.match(/Dashboard: +http:\/\/127\.0\.0\.1:(\d+)\//)?.[1]);
    expect(sv2Port).toBeGreaterThan(0);
    const miner = new Sv2Miner({ host: "127.0.0.1", port: sv2Port, authorityPublicKey: authority, user: "bin.test", reconnect: false });
    await miner.start();
    let blocks: { status: string; nodeAnswer: string | null }[] = [];
    const poll = async (): Promise<void> => {
      const deadline = Date.now() + 25_000;
      while (Date.now() < deadline) {
        const r = (await (await fetch(`http://127.0.0.1:${httpPort}/api/blocks`)).json()) as { blocks: { status: string; nodeAnswer: string | null }[] };
        blocks = r.blocks;
        if (blocks.some((b) => b.status === "accepted")) return;
        await Bun.sleep(100);
      }
    };
    await poll();
    miner.stop();
    expect(blocks.some((b) => b.status === "accepted")).toBe(true);
    expect(miner.stats.accepted).toBeGreaterThan(0);
    const pool = (await (await fetch(`http://127.0.0.1:${httpPort}/api/pool`)).json()) as { authorityPublicKey: string; tipHeight: number };
    expect(pool.authorityPublicKey).toBe(authority);
    expect(pool.tipHeight).toBeGreaterThanOrEqual(1);

    const t0 = Date.now();
    proc.kill("SIGTERM");
    const code = await proc.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}, 90_000);
