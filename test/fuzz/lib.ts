// The fuzz harness: seeded, reproducible runs of many inputs against one target, with a failure
// report that names the seed, the iteration and the input, and a replay recipe.
//
// Environment (all optional):
//   SV2POOL_FUZZ_SEED   base seed (decimal or 0x-hex), or "random" for a fresh one (printed)
//   SV2POOL_FUZZ_N      iterations for every target (overrides the per-target defaults)
//   SV2POOL_FUZZ_SCALE  multiplier on the per-target defaults (e.g. 10 for a long local run)
//   SV2POOL_FUZZ_ITER   run only this iteration (replays one failing input)
//   SV2POOL_FUZZ_TRACE  "1": print every iteration before running it (finds the input that hangs)
//
// Each iteration gets its own PRNG from (seed, target name, iteration), so one input can be replayed
// without running the ones before it.
import { StratumV2Error, type StratumV2ErrorKind } from "../../src/errors.ts";
import { Prng } from "../sv2/samples.ts";

export { Prng };

const DEFAULT_SEED = 0x5eed_f022;

function parseSeed(v: string | undefined): number {
  if (v === undefined || v === "") return DEFAULT_SEED;
  if (v === "random") return (Math.random() * 0x100000000) >>> 0;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`SV2POOL_FUZZ_SEED=${v} is not a number`);
  return n >>> 0;
}

export const FUZZ_SEED: number = parseSeed(process.env["SV2POOL_FUZZ_SEED"]);
const FIXED_N = process.env["SV2POOL_FUZZ_N"];
const SCALE = Number(process.env["SV2POOL_FUZZ_SCALE"] ?? "1");
const ONLY_ITER = process.env["SV2POOL_FUZZ_ITER"];
/** SV2POOL_FUZZ_TRACE=1: targets may print their steps too (for replaying one iteration). */
export const TRACE: boolean = process.env["SV2POOL_FUZZ_TRACE"] === "1";

export function seedHex(seed: number = FUZZ_SEED): string {
  return `0x${seed.toString(16).padStart(8, "0")}`;
}

/** Iterations for a target: SV2POOL_FUZZ_N, else the default times SV2POOL_FUZZ_SCALE (at least 1). */
export function fuzzCount(defaultCount: number): number {
  if (FIXED_N !== undefined && FIXED_N !== "") return Math.max(1, Math.floor(Number(FIXED_N)));
  return Math.max(1, Math.round(defaultCount * (Number.isFinite(SCALE) && SCALE > 0 ? SCALE : 1)));
}

/** The iterations to run: all of [0, count), or only SV2POOL_FUZZ_ITER when set. */
export function iterations(count: number): number[] {
  if (ONLY_ITER !== undefined && ONLY_ITER !== "") return [Number(ONLY_ITER)];
  return Array.from({ length: count }, (_, i) => i);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** murmur3's 32-bit finalizer: spreads (seed, name, i) over the whole PRNG state space. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function iterationSeed(target: string, i: number, seed: number = FUZZ_SEED): number {
  return fmix32((fmix32(seed ^ fnv1a(target)) + Math.imul(i + 1, 0x9e3779b1)) >>> 0);
}

export function iterationRng(target: string, i: number): Prng {
  return new Prng(iterationSeed(target, i));
}

// ---- typed errors ------------------------------------------------------------------------------

/** A classifier names the typed error an input produced, or returns null when it is not allowed. */
export type ErrorClassifier = (e: unknown) => string | null;

/** StratumV2Error (or subclass) of one of `kinds`: "<name>:<kind>[:<code/reason>]". */
export function stratumError(...kinds: StratumV2ErrorKind[]): ErrorClassifier {
  return (e) => {
    if (!(e instanceof StratumV2Error)) return null;
    if (kinds.length > 0 && !kinds.includes(e.kind)) return null;
    const detail = (e as { reason?: unknown; code?: unknown; failure?: unknown }).reason ?? (e as { code?: unknown }).code ?? (e as { failure?: unknown }).failure;
    return `error:${e.name}:${e.kind}${typeof detail === "string" || typeof detail === "number" ? `:${detail}` : ""}`;
  };
}

/** Instances of one class only (e.g. Sv2CodecError, NoiseError, AddressError). */
export function instanceOf(cls: abstract new (...args: never[]) => Error, detailOf?: (e: Error) => string): ErrorClassifier {
  return (e) => (e instanceof cls ? `error:${e.name}${detailOf === undefined ? "" : `:${detailOf(e)}`}` : null);
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${e.stack ?? ""}`;
  return `non-Error thrown: ${String(e)}`;
}

// ---- the harness -------------------------------------------------------------------------------

export interface FuzzCase<I> {
  input: I;
  /** How the input was made (e.g. "mutated:bitflip+truncate"), for the report and statistics. */
  label: string;
}

export interface FuzzTarget<I> {
  /** Target name: part of the PRNG seed and of the replay recipe. */
  name: string;
  /** Test file, for the replay recipe. */
  file: string;
  count: number;
  generate(rng: Prng, i: number): FuzzCase<I>;
  /** Runs one input: returns an outcome label, or throws (only typed errors are allowed). */
  run(input: I, rng: Prng): string | Promise<string>;
  classify: ErrorClassifier;
  /** Input as text for the failure report (trimmed by the harness). */
  show(input: I): string;
  /** An input taking longer than this counts as a hang (default 2000 ms). */
  maxMsPerInput?: number;
}

export interface FuzzStats {
  name: string;
  inputs: number;
  elapsedMs: number;
  /** Time spent inside the target (the rest is generating inputs). */
  runMs: number;
  /** Outcome label (or typed error) → count. */
  outcomes: Map<string, number>;
  /** Mutation label (first step) → count. */
  labels: Map<string, number>;
  slowestMs: number;
  slowestIteration: number;
  heapGrowthMb: number;
}

export class FuzzFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FuzzFailure";
  }
}

function bump(m: Map<string, number>, k: string, n = 1): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

function clip(s: string, max = 2000): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
}

export function failureReport(t: { name: string; file: string }, i: number, label: string, input: string, problem: string): string {
  return [
    `FUZZ FAILURE in ${t.name}: seed=${seedHex()} iteration=${i} input=${label}`,
    `input: ${clip(input)}`,
    `problem: ${clip(problem, 4000)}`,
    `replay: SV2POOL_FUZZ_SEED=${seedHex()} SV2POOL_FUZZ_ITER=${i} npx bun test --timeout 60000 ${t.file}`,
  ].join("\n");
}

function heapMb(): number {
  Bun.gc(true);
  return process.memoryUsage().heapUsed / (1 << 20);
}

/** Runs a target; throws FuzzFailure (after printing it) at the first untyped error or hang. */
export async function runFuzz<I>(t: FuzzTarget<I>): Promise<FuzzStats> {
  const maxMs = t.maxMsPerInput ?? 2000;
  const stats: FuzzStats = {
    name: t.name,
    inputs: 0,
    elapsedMs: 0,
    runMs: 0,
    outcomes: new Map(),
    labels: new Map(),
    slowestMs: 0,
    slowestIteration: -1,
    heapGrowthMb: 0,
  };
  const heapBefore = heapMb();
  const t0 = performance.now();
  for (const i of iterations(t.count)) {
    const rng = iterationRng(t.name, i);
    const c = t.generate(rng, i);
    if (TRACE) process.stderr.write(`[fuzz] ${t.name} #${i} ${c.label}\n`);
    bump(stats.labels, c.label.split(/[+:]/)[0] as string);
    const start = performance.now();
    let outcome: string;
    try {
      const r = t.run(c.input, rng);
      outcome = typeof r === "string" ? r : await r;
    } catch (e) {
      const typed = t.classify(e);
      if (typed === null) {
        const msg = failureReport(t, i, c.label, t.show(c.input), `untyped error: ${describeError(e)}`);
        console.error(msg);
        throw new FuzzFailure(msg);
      }
      outcome = typed;
    }
    const ms = performance.now() - start;
    stats.runMs += ms;
    if (ms > stats.slowestMs) {
      stats.slowestMs = ms;
      stats.slowestIteration = i;
    }
    if (ms > maxMs) {
      const msg = failureReport(t, i, c.label, t.show(c.input), `took ${ms.toFixed(0)} ms (limit ${maxMs} ms): a hang or a blow-up`);
      console.error(msg);
      throw new FuzzFailure(msg);
    }
    bump(stats.outcomes, outcome);
    stats.inputs++;
  }
  stats.elapsedMs = performance.now() - t0;
  stats.heapGrowthMb = heapMb() - heapBefore;
  printStats(stats);
  return stats;
}

export function printStats(s: FuzzStats): void {
  const top = [...s.outcomes.entries()].sort((a, b) => b[1] - a[1]);
  const shown = top.slice(0, 12).map(([k, v]) => `${k}=${v}`).join(", ");
  console.log(
    `[fuzz] ${s.name}: ${s.inputs} inputs in ${(s.elapsedMs / 1000).toFixed(2)} s (${(s.runMs / 1000).toFixed(2)} s in the target; seed ${seedHex()}), ` +
      `slowest ${s.slowestMs.toFixed(1)} ms (#${s.slowestIteration}), heap ${s.heapGrowthMb >= 0 ? "+" : ""}${s.heapGrowthMb.toFixed(1)} MB\n` +
      `        outcomes: ${shown}${top.length > 12 ? `, … (${top.length} kinds)` : ""}`,
  );
}

/** Sum of outcomes whose label starts with `prefix`. */
export function countOutcomes(s: FuzzStats, prefix: string): number {
  let n = 0;
  for (const [k, v] of s.outcomes) if (k.startsWith(prefix)) n += v;
  return n;
}

/** Hex of bytes for reports, trimmed. */
export function hexOf(bytes: Uint8Array, max = 512): string {
  const shown = bytes.subarray(0, max);
  let s = "";
  for (const b of shown) s += b.toString(16).padStart(2, "0");
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}

/** True when SV2POOL_FUZZ_ITER replays one input (coverage assertions do not apply then). */
export const REPLAYING: boolean = ONLY_ITER !== undefined && ONLY_ITER !== "";
