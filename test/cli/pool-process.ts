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

/** Starts `sv2pool <args>` (bun src/main.ts) without waiting for anything. */
export function spawnSv2pool(args: string[], env: Record<string, string> = cleanEnv()): { proc: Subprocess<"ignore", "pipe", "pipe">; out: { text: string }; err: { text: string } } {
  const proc = Bun.spawn([process.execPath, "src/main.ts", ...args], { cwd: REPO_DIR, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = { text: "" };
  const err = { text: "" };
  collect(proc.stdout, out);
  collect(proc.stderr, err);
  return { proc, out, err };
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
export async function startPoolProcess(args: string[], env?: Record<string, string>, timeoutMs = 15_000): Promise<PoolProcess> {
  const { proc, out, err } = spawnSv2pool(["run", ...args], env);
  const deadline = Date.now() + timeoutMs;
  let port: RegExpExecArray | null = null;
  let key: RegExpExecArray | null = null;
  while (port === null || key === null) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`sv2pool did not print its banner (exit code ${proc.exitCode}); stdout:\n${out.text}\nstderr:\n${err.text}`);
    }
    await Bun.sleep(10);
    port = /Stratum V2: {2}stratum2\+tcp:\/\/[^\s]+:(\d+)\n/.exec(out.text);
    key = /Authority public key \(give it to SV2 miners and proxies\): (\S+)\n/.exec(out.text);
  }
  return {
    proc,
    stdout: () => out.text,
    stderr: () => err.text,
    sv2Port: Number(port[1]),
    authorityKey: key[1] as string,
    exit: (ms) => exitWithin(proc, ms),
  };
}
