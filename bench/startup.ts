/**
 * Start-up of the compiled binary (dist/sv2pool): from spawning it with a temp data dir and free
 * ports until its SV2 port accepts a TCP connection (startup_ms), and until /healthz answers 200
 * (the first template is applied: startup_healthz_ms), and until a real miner connecting as soon
 * as the authority key can be read has done Noise NX, SetupConnection and OpenStandardMiningChannel
 * and holds its first job and SetNewPrevHash (startup_served_ms: what a farm waits for after a
 * restart, including this client's own handshake work). Measured on a fresh data dir (keys are
 * created: the first start) and again on the same dir (keys exist: a restart).
 *
 * The binary is built (`bun build --compile --minify --bytecode --format=esm src/main.ts --outfile dist/sv2pool`, as `npm run build`) when it is
 * missing or older than a source file; the build time is reported, not counted.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentile } from "./lib.ts";
import { InitiatorSession } from "../src/noise/session.ts";
import { readAuthorityKeyFile } from "../src/server/keyfiles.ts";
import { decodePayloadWithTrailing, encodeFrame, type Sv2Message } from "../src/sv2/messages/registry.ts";
import { MiningSetupFlags, Protocol, SV2_VERSION } from "../src/sv2/constants.ts";

const ROOT = join(import.meta.dir, "..");
const DEFAULT_BINARY = join(ROOT, "dist", "sv2pool");
/** BENCH_BINARY measures another build without rebuilding. */
const BINARY = process.env["BENCH_BINARY"] ?? DEFAULT_BINARY;

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/sv2pool when missing or stale; returns the build time in ms (0 when up to date). */
async function ensureBinary(): Promise<number> {
  if (BINARY !== DEFAULT_BINARY) return 0;
  let fresh = false;
  try {
    fresh = statSync(BINARY).mtimeMs >= newestSourceMtime(join(ROOT, "src"));
  } catch {
    fresh = false;
  }
  if (fresh) return 0;
  process.stderr.write("startup: building dist/sv2pool (npm run build flags)...\n");
  const t0 = performance.now();
  const build = Bun.spawn([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm", "src/main.ts", "--outfile", "dist/sv2pool"], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
  const code = await build.exited;
  if (code !== 0) throw new Error(`bun build --compile exited with ${code}`);
  return performance.now() - t0;
}

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

async function accepts(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    return r.status === 200;
  } catch {
    return false;
  }
}

interface StartResult {
  acceptMs: number;
  healthzMs: number;
  servedMs: number;
}

/**
 * The authority public key, read as an operator would hand it to miners: from the data dir's
 * authority key file once the pool has written it (a fresh data dir gets its keys from this start).
 */
function authorityKey(dataDir: string): Uint8Array | null {
  try {
    return readAuthorityKeyFile(join(dataDir, "authority.key")).xonly;
  } catch {
    return null;
  }
}

/**
 * One real miner: Noise NX (certificate checked against the authority key), SetupConnection,
 * OpenStandardMiningChannel, until its first job and SetNewPrevHash arrive. Resolves true when
 * mining can start, false if the pool closed or answered with an error first.
 */
async function served(port: number, authority: Uint8Array, timeoutMs: number): Promise<boolean> {
  const session = new InitiatorSession({ authorityXonly: authority, clock: { nowMs: Date.now } });
  return await new Promise<boolean>((resolve) => {
    let job = false;
    let prevHash = false;
    let sock: import("bun").Socket<undefined> | null = null;
    let finished = false;
    const done = (ok: boolean): void => {
      if (finished) return;
      // Before terminate(): closing runs the close handler, which would report failure first.
      finished = true;
      clearTimeout(timer);
      resolve(ok);
      sock?.terminate();
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const send = (msg: Sv2Message): void => void sock?.write(session.sendSerialized(encodeFrame(msg)));
    Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => {
          sock = s;
          s.write(session.start());
        },
        data: (_s, chunk) => {
          let out: ReturnType<InitiatorSession["receive"]>;
          try {
            out = session.receive(chunk);
          } catch {
            done(false);
            return;
          }
          if (out.handshakeCompleted) {
            send({ type: "SetupConnection", protocol: Protocol.Mining, minVersion: SV2_VERSION, maxVersion: SV2_VERSION, flags: MiningSetupFlags.REQUIRES_STANDARD_JOBS, endpointHost: "127.0.0.1", endpointPort: port, vendor: "bench", hardwareVersion: "", firmware: "", deviceId: "" });
          }
          for (const f of out.frames) {
            const m = decodePayloadWithTrailing(f.msgType, f.payload, f.extensionType & 0x7fff).message;
            if (m.type === "SetupConnectionSuccess") send({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "bench.startup", nominalHashRate: 1e12, maxTarget: new Uint8Array(32).fill(0xff) });
            else if (m.type === "NewMiningJob") job = true;
            else if (m.type === "SetNewPrevHash") prevHash = true;
            else if (m.type.endsWith("Error")) done(false);
          }
          if (job && prevHash) done(true);
        },
        close: () => done(false),
        error: () => done(false),
      },
    }).catch(() => done(false));
  });
}

async function startOnce(dataDir: string): Promise<StartResult> {
  const sv2 = freePort();
  const sv1 = freePort();
  const http = freePort();
  const args = [BINARY, "run", "--sv2-listen", `127.0.0.1:${sv2}`, "--sv1-listen", `127.0.0.1:${sv1}`, "--http-listen", `127.0.0.1:${http}`, "--data-dir", dataDir];
  const t0 = performance.now();
  // The binary refuses unknown SV2POOL_* variables and would read the known ones: start it clean.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SV2POOL_")));
  const proc = Bun.spawn(args, { stdout: "ignore", stderr: process.env["BENCH_DEBUG"] === "1" ? "inherit" : "ignore", cwd: dataDir, env });
  let acceptMs = Number.NaN;
  let healthzMs = Number.NaN;
  let servedMs = Number.NaN;
  try {
    const deadline = t0 + 15_000;
    while (performance.now() < deadline && proc.exitCode === null) {
      if (await accepts(sv2)) {
        acceptMs = performance.now() - t0;
        break;
      }
      await Bun.sleep(1);
    }
    // A real miner, connecting as soon as the authority key can be read (a fresh data dir gets
    // its keys from this start), held by the pool until it can serve it.
    while (performance.now() < deadline && proc.exitCode === null) {
      const key = authorityKey(dataDir);
      if (key !== null && (await served(sv2, key, 3000))) {
        servedMs = performance.now() - t0;
        break;
      }
      await Bun.sleep(1);
    }
    while (performance.now() < deadline && proc.exitCode === null) {
      if (await healthy(http)) {
        healthzMs = performance.now() - t0;
        break;
      }
      await Bun.sleep(1);
    }
  } finally {
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await proc.exited;
    clearTimeout(timer);
  }
  return { acceptMs, healthzMs, servedMs };
}

export async function run(opts: { quick?: boolean }): Promise<Record<string, number>> {
  const buildMs = await ensureBinary();
  const runs = opts.quick ? 3 : 7;
  const first: StartResult[] = [];
  const again: StartResult[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), "sv2pool-startup-"));
    try {
      first.push(await startOnce(dir));
      again.push(await startOnce(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const med = (xs: number[]): number => Math.round(percentile(xs.filter(Number.isFinite), 50) * 10) / 10;
  const figures: Record<string, number> = {
    startup_ms: med(first.map((r) => r.acceptMs)),
    startup_healthz_ms: med(first.map((r) => r.healthzMs)),
    startup_restart_ms: med(again.map((r) => r.acceptMs)),
    startup_restart_healthz_ms: med(again.map((r) => r.healthzMs)),
    startup_served_ms: med(first.map((r) => r.servedMs)),
    startup_restart_served_ms: med(again.map((r) => r.servedMs)),
    binary_size_mb: Math.round((statSync(BINARY).size / 1e6) * 10) / 10,
  };
  if (buildMs > 0) figures.binary_build_ms = Math.round(buildMs);
  const row = (label: string, value: string): void => console.log(`${label.padEnd(60)} ${value.padStart(12)}`);
  row(`compiled binary: SV2 port accepting, fresh data dir (median of ${runs})`, `${figures.startup_ms} ms`);
  row("compiled binary: /healthz 200, fresh data dir", `${figures.startup_healthz_ms} ms`);
  row("compiled binary: a miner has its first job, fresh data dir", `${figures.startup_served_ms} ms`);
  row("compiled binary: SV2 port accepting, keys already present", `${figures.startup_restart_ms} ms`);
  row("compiled binary: /healthz 200, keys already present", `${figures.startup_restart_healthz_ms} ms`);
  row("compiled binary: a miner has its first job, keys already present", `${figures.startup_restart_served_ms} ms`);
  row("dist/sv2pool size", `${figures.binary_size_mb} MB`);
  if (buildMs > 0) row("built dist/sv2pool first (not counted)", `${Math.round(buildMs)} ms`);
  return figures;
}

if (import.meta.main) {
  const figures = await run({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
}
