/**
 * What else the machine was doing during a measurement. On a shared 2-core box other processes
 * (test suites, builds) take CPU from the pool and the load generator, and the figures only mean
 * something next to that number: `cpuAccount` reports the whole machine's busy cores and the
 * share of them that were not ours.
 */
import { cpus } from "node:os";
import { readFileSync } from "node:fs";

interface CpuSample {
  atMs: number;
  machineBusyTicks: number;
  processTicks: Map<number, number>;
}

const TICKS_PER_SEC = 100; // USER_HZ on Linux

function machineBusyTicks(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    return (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  } catch {
    return Number.NaN;
  }
}

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at index 2 (state).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[11]) + Number(rest[12]); // utime + stime
  } catch {
    return Number.NaN;
  }
}

export function cpuSample(pids: number[]): CpuSample {
  const m = new Map<number, number>();
  for (const pid of [...pids, process.pid]) m.set(pid, processTicks(pid));
  return { atMs: performance.now(), machineBusyTicks: machineBusyTicks(), processTicks: m };
}

export interface CpuAccount {
  /** Cores busy on the whole machine (0..cores). */
  machineCores: number;
  /** Cores used by each watched process (and by this one, under its own pid). */
  perProcess: Record<number, number>;
  /** Cores used by processes that are not part of the benchmark. */
  otherCores: number;
}

export function cpuAccount(a: CpuSample, b: CpuSample): CpuAccount {
  const sec = (b.atMs - a.atMs) / 1000;
  const cores = (ticks: number): number => Number((ticks / TICKS_PER_SEC / sec).toFixed(2));
  const perProcess: Record<number, number> = {};
  let ours = 0;
  for (const [pid, t0] of a.processTicks) {
    const t1 = b.processTicks.get(pid) ?? Number.NaN;
    const d = t1 - t0;
    if (Number.isFinite(d)) {
      perProcess[pid] = cores(d);
      ours += d;
    }
  }
  const machine = b.machineBusyTicks - a.machineBusyTicks;
  return { machineCores: cores(machine), perProcess, otherCores: Math.max(0, cores(machine - ours)) };
}

export function coreCount(): number {
  return cpus().length;
}

/** Load average over the last minute: a quick "is the box quiet" check before a run. */
export function loadAverage1m(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return Number.NaN;
  }
}

/** TcpExt ListenOverflows + ListenDrops: SYNs or accepts dropped because an accept queue was full. */
export function listenDrops(): number {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
    for (let i = 0; i + 1 < lines.length; i++) {
      const names = (lines[i] as string).split(/\s+/);
      if (names[0] !== "TcpExt:") continue;
      const values = (lines[i + 1] as string).split(/\s+/);
      const at = (n: string): number => Number(values[names.indexOf(n)] ?? Number.NaN);
      return at("ListenDrops");
    }
  } catch {
    // Not Linux, or /proc not mounted.
  }
  return Number.NaN;
}

/**
 * This process's event-loop lag: a 1 ms timer noting turns that come late. When a latency tail shows
 * up, the pool's and the load's monitors say which process was held up; one in the idle harness says
 * when the machine itself was (an idle process late by several ms was kept off the CPU by the
 * hypervisor or everything else, not by the pool).
 */
export class LagMonitor {
  private last = performance.now();
  private worst = 0;
  private count = 0;
  private total = 0;
  /** Late turns by how late: > 0.5, > 1, > 2, > 5, > 10 ms. */
  private readonly histogram = [0, 0, 0, 0, 0];

  private readonly timer: ReturnType<typeof setInterval>;

  constructor() {
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = now - this.last - 1;
      this.last = now;
      for (let i = 0; i < LAG_BOUNDS_MS.length; i++) if (late > (LAG_BOUNDS_MS[i] as number)) (this.histogram[i] as number)++;
      if (late > 2) {
        this.count++;
        this.total += late;
        this.worst = Math.max(this.worst, late);
      }
    }, 1);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Late turns (> 2 ms) since the last call: how many, the worst and the sum (ms), and the histogram. */
  take(): { lags: number; worstMs: number; totalMs: number; over: Record<string, number> } {
    const over: Record<string, number> = {};
    LAG_BOUNDS_MS.forEach((b, i) => (over[`${b}ms`] = this.histogram[i] as number));
    const r = { lags: this.count, worstMs: Number(this.worst.toFixed(1)), totalMs: Number(this.total.toFixed(1)), over };
    this.count = 0;
    this.worst = 0;
    this.total = 0;
    this.histogram.fill(0);
    return r;
  }
}

const LAG_BOUNDS_MS = [0.5, 1, 2, 5, 10];
