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

export interface StallReport {
  /** Turns of a 1 ms timer that came more than `thresholdMs` late. */
  stalls: number;
  /** The latest turn, ms past its due time. */
  maxMs: number;
  /** Sum of the lateness of those turns: time the probe could not run. */
  stalledMs: number;
}

/**
 * A 1 ms timer in this process (the harness, idle while a scenario runs) that notes how late each
 * turn comes. An idle process that is still late by several ms was kept off the CPU by the machine
 * (the hypervisor, or everything else), not by the pool: a latency tail that coincides with such
 * stalls is the machine's. Returns a function that stops the probe and reports.
 */
export function startStallProbe(thresholdMs = 2): () => StallReport {
  const report: StallReport = { stalls: 0, maxMs: 0, stalledMs: 0 };
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - 1;
    last = now;
    if (late > thresholdMs) {
      report.stalls++;
      report.stalledMs += late;
      report.maxMs = Math.max(report.maxMs, late);
    }
  }, 1);
  return () => {
    clearInterval(timer);
    return { stalls: report.stalls, maxMs: Number(report.maxMs.toFixed(1)), stalledMs: Number(report.stalledMs.toFixed(1)) };
  };
}
