// Tiny benchmark helpers shared by every file in bench/. Figures are printed, never asserted.

export interface Measurement {
  name: string;
  nsPerOp: number;
  opsPerSec: number;
  iterations: number;
}

/**
 * Runs `fn` repeatedly for about `ms` milliseconds after a warm-up and returns the mean cost.
 * `fn` should do one operation; keep its result alive through `sink` so the JIT cannot drop it.
 */
export function measure(name: string, fn: () => unknown, ms = 1000): Measurement {
  const warmUntil = performance.now() + Math.min(200, ms / 4);
  while (performance.now() < warmUntil) sink(fn());
  let iterations = 0;
  let batch = 16;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) sink(fn());
    iterations += batch;
    elapsed = performance.now() - start;
    if (batch < 1 << 16) batch *= 2;
  }
  const nsPerOp = (elapsed * 1e6) / iterations;
  return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp, iterations };
}

let sinkValue: unknown;
export function sink(v: unknown): void {
  sinkValue = v;
}
export function sunk(): unknown {
  return sinkValue;
}

/** Percentile (0..100) of a list of numbers, by nearest rank on a sorted copy. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function printTable(rows: Measurement[]): void {
  for (const r of rows) {
    const ns = r.nsPerOp < 10_000 ? `${r.nsPerOp.toFixed(1)} ns/op` : `${(r.nsPerOp / 1000).toFixed(2)} µs/op`;
    console.log(`${r.name.padEnd(48)} ${ns.padStart(16)} ${Math.round(r.opsPerSec).toLocaleString("en-US").padStart(14)} op/s`);
  }
}
