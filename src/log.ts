/**
 * Levelled logging, one line per event, readable under journald (no colours, no timestamps unless
 * asked: journald adds its own) or as JSON lines for log shippers.
 *
 * Modules take a `Logger` argument instead of importing a global, so the pure core stays free of I/O
 * and tests can capture what was logged.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, string | number | boolean | bigint | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` (e.g. the component or the peer) to every line. */
  child(fields: LogFields): Logger;
}

export interface LogRecord {
  level: LogLevel;
  msg: string;
  fields: LogFields;
  timeMs: number;
}

export type LogSink = (record: LogRecord) => void;

export interface LoggerOptions {
  level?: LogLevel;
  format?: "text" | "json";
  /** Prefix text lines with an ISO timestamp (off under journald, which stamps lines itself). */
  timestamps?: boolean;
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
}

function formatValue(v: string | number | boolean | bigint | null | undefined): string {
  if (v === null || v === undefined) return "-";
  const s = String(v);
  // Quote values with spaces or quotes so a line stays machine-splittable (logfmt style).
  return /[\s"=]/.test(s) || s.length === 0 ? JSON.stringify(s) : s;
}

export function formatText(r: LogRecord, timestamps: boolean): string {
  let line = timestamps ? `${new Date(r.timeMs).toISOString()} ` : "";
  line += `${r.level.toUpperCase().padEnd(5)} ${r.msg}`;
  for (const [k, v] of Object.entries(r.fields)) {
    if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
  }
  return line;
}

export function formatJson(r: LogRecord): string {
  const out: Record<string, unknown> = { time: new Date(r.timeMs).toISOString(), level: r.level, msg: r.msg };
  for (const [k, v] of Object.entries(r.fields)) {
    if (v !== undefined) out[k] = typeof v === "bigint" ? v.toString() : v;
  }
  return JSON.stringify(out);
}

class SinkLogger implements Logger {
  constructor(
    private readonly minRank: number,
    private readonly sink: LogSink,
    private readonly base: LogFields,
  ) {}

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.minRank) return;
    this.sink({ level, msg, fields: fields === undefined ? this.base : { ...this.base, ...fields }, timeMs: Date.now() });
  }
  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }
  child(fields: LogFields): Logger {
    return new SinkLogger(this.minRank, this.sink, { ...this.base, ...fields });
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const format = options.format ?? "text";
  const timestamps = options.timestamps ?? false;
  const sink: LogSink = (r) => write(format === "json" ? formatJson(r) : formatText(r, timestamps));
  return new SinkLogger(RANK[options.level ?? "info"], sink, {});
}

/** A logger that keeps records in memory: for tests that assert what was logged. */
export function createMemoryLogger(level: LogLevel = "debug"): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = new SinkLogger(RANK[level], (r) => records.push(r), {});
  return Object.assign(logger, { records });
}

export const silentLogger: Logger = new SinkLogger(Number.POSITIVE_INFINITY, () => {}, {});

/**
 * Rate-limited logging for causes that can repeat thousands of times a second (a flooding client,
 * a limit being hit): the first occurrence is logged, then at most one summary per interval.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly maxKeys = 10_000,
  ) {}

  warn(cause: string, msg: string, fields: LogFields = {}, nowMs: number = Date.now()): void {
    const entry = this.last.get(cause);
    if (entry !== undefined && nowMs - entry.atMs < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    if (entry === undefined && this.last.size >= this.maxKeys) this.last.clear();
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(cause, { atMs: nowMs, suppressed: 0 });
    this.logger.warn(msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
