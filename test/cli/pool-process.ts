// Runs the real `sv2pool` entry point (src/main.ts) as a child process, the way an operator or
// systemd does, and reads what it prints: the SV2 port actually bound and the authority key.
import { join } from "node:path";
import type { Subprocess } from "bun";

export const REPO_DIR = join(import.meta.dir, "..", "..");

export interface PoolProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** From the banner (the port the listener really bound, also for --sv2-listen host:0). */
  sv2Port: number;
  authorityKey: string;
  /** http://host:port of the HTTP API, when enabled. */
  httpUrl: string | null;
  /** Resolves with the exit code, or rejects when the process is still running after `timeoutMs`. */
  exit(timeoutMs: number): Promise<number>;
}

/** The environment of the test run minus SV2POOL_* (a stray variable must not change the pool under test). */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("SV2POOL_")) env[k] = v;
  return { ...env, ...extra };
}

function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }): void {
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
  })();
}

type Spawned = { proc: Subprocess<"ignore", "pipe", "pipe">; out: { text: string }; err: { text: string } };

/** Starts `bun <script> <args>` from the repository, collecting its output, without waiting for anything. */
export function spawnScript(script: string, args: string[], env: Record<string, string> = cleanEnv()): Spawned {
  const proc = Bun.spawn([process.execPath, script, ...args], { cwd: REPO_DIR, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = { text: "" };
  const err = { text: "" };
  collect(proc.stdout, out);
  collect(proc.stderr, err);
  return { proc, out, err };
}

/** Starts `sv2pool <args>` (bun src/main.ts) without waiting for anything. */
export function spawnSv2pool(args: string[], env: Record<string, string> = cleanEnv()): Spawned {
  return spawnScript("src/main.ts", args, env);
}

export async function exitWithin(proc: Subprocess, timeoutMs: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process ${proc.pid} still running after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `sv2pool run <args>` and waits for its banner. */
export function startPoolProcess(args: string[], env?: Record<string, string>, timeoutMs = 15_000): Promise<PoolProcess> {
  return waitForBanner(spawnSv2pool(["run", ...args], env), "sv2pool", timeoutMs);
}

/** Waits until the started pool has printed its banner and reads the ports and key from it. */
export async function waitForBanner({ proc, out, err }: Spawned, what: string, timeoutMs: number): Promise<PoolProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const port = /Stratum V2: {2}stratum2\+tcp:\/\/[^\s]+:(\d+)\n/.exec(out.text);
    const key = /Authority public key \(give it to SV2 miners and proxies\): (\S+)\n/.exec(out.text);
    if (port !== null && key !== null) {
      const http = /Dashboard: {3}(http:\/\/[^/\s]+)\//.exec(out.text);
      return {
        proc,
        stdout: () => out.text,
        stderr: () => err.text,
        sv2Port: Number(port[1]),
        authorityKey: key[1] as string,
        httpUrl: http === null ? null : (http[1] as string),
        exit: (ms) => exitWithin(proc, ms),
      };
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`${what} did not print its banner (exit code ${proc.exitCode}); stdout:\n${out.text}\nstderr:\n${err.text}`);
    }
    await Bun.sleep(10);
  }
}
