/**
 * Child processes of the benchmark harness (the pool host, the load generators), spoken to with one
 * JSON object per line: commands on their stdin, answers on their stdout, progress on stderr (which
 * is passed through to ours, so `--json` keeps stdout clean).
 *
 * Each child runs under `sh -c 'ulimit -n <hard limit>; exec …'` so it may hold 10,000+ sockets,
 * and, on a machine with at least two cores, pinned with taskset: the pool to CPU 0, load to CPU 1,
 * so "per core" figures mean one core for the pool.
 */
import { cpus } from "node:os";

export type Json = Record<string, unknown>;

const TASKSET = Bun.which("taskset");

export interface ChildOptions {
  /** CPU to pin to (ignored without taskset or on a 1-core machine). */
  cpu?: number;
  /** Extra arguments for bun itself (before the script), e.g. --cpu-prof. */
  bunArgs?: string[];
  name: string;
  cwd?: string;
}

export function pinningAvailable(): boolean {
  return TASKSET !== null && cpus().length >= 2 && process.env["BENCH_NO_PIN"] !== "1";
}

export class JsonChild {
  private readonly proc: ReturnType<typeof Bun.spawn<"pipe", "pipe", "inherit">>;
  private readonly queue: Json[] = [];
  private waiters: { pred: (o: Json) => boolean; resolve: (o: Json) => void }[] = [];
  private ended = false;
  readonly exited: Promise<number>;

  constructor(
    script: string,
    args: string[],
    readonly opts: ChildOptions,
  ) {
    const cmd: string[] = [];
    if (opts.cpu !== undefined && pinningAvailable()) cmd.push(TASKSET as string, "-c", String(opts.cpu));
    cmd.push(process.execPath, ...(opts.bunArgs ?? []), script, ...args);
    this.proc = Bun.spawn(["sh", "-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh", ...cmd], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      cwd: opts.cwd,
    });
    this.exited = this.proc.exited;
    void this.read();
  }

  get pid(): number {
    return this.proc.pid;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of this.proc.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith("{")) {
          if (line !== "") process.stderr.write(`[${this.opts.name} stdout] ${line}\n`);
          continue;
        }
        let o: Json;
        try {
          o = JSON.parse(line) as Json;
        } catch {
          process.stderr.write(`[${this.opts.name}] unparsable line: ${line.slice(0, 200)}\n`);
          continue;
        }
        const i = this.waiters.findIndex((w) => w.pred(o));
        if (i >= 0) {
          const [w] = this.waiters.splice(i, 1);
          w?.resolve(o);
        } else this.queue.push(o);
      }
    }
    this.ended = true;
    for (const w of this.waiters) w.resolve({ ev: "exit", error: `${this.opts.name} exited` });
    this.waiters = [];
  }

  /** The next line matching `pred` (already received or still to come). */
  next(pred: (o: Json) => boolean, timeoutMs = 120_000): Promise<Json> {
    const i = this.queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as Json);
    if (this.ended) return Promise.resolve({ ev: "exit", error: `${this.opts.name} exited` });
    return new Promise<Json>((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (o: Json) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.opts.name}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  send(cmd: Json): void {
    this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    this.proc.stdin.flush();
  }

  /** Sends a command and waits for its answer (the line whose `ev` is the command's name). */
  async request(cmd: Json, timeoutMs = 120_000): Promise<Json> {
    const name = String(cmd["cmd"]);
    this.send(cmd);
    const answer = await this.next((o) => o["ev"] === name, timeoutMs);
    if (typeof answer["error"] === "string") throw new Error(`${this.opts.name} ${name}: ${answer["error"]}`);
    return answer;
  }

  /** Asks the child to stop; kills it if it has not exited after `graceMs`. */
  async stop(cmd: Json | null, graceMs = 5000): Promise<void> {
    if (cmd !== null && !this.ended) {
      try {
        this.send(cmd);
      } catch {
        // stdin already closed: the child is gone.
      }
    }
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function num(o: Json, key: string): number {
  const v = o[key];
  return typeof v === "number" ? v : Number.NaN;
}

// ---- the child's side ------------------------------------------------------------------------

/** Writes one answer line to the harness. */
export function reply(o: Json): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/**
 * Serves commands from stdin until `last` has been answered: each line is a JSON command, answered
 * with `{ev: cmd, ...result}` or `{ev: cmd, error}`; a line that is not JSON gets an error answer.
 */
export async function serveCommands(handle: (cmd: Json) => Promise<Json>, last: string): Promise<void> {
  for await (const line of console) {
    const text = line.trim();
    if (text === "") continue;
    let cmd: Json;
    try {
      cmd = JSON.parse(text) as Json;
    } catch {
      reply({ error: `bad command line: ${text}` });
      continue;
    }
    try {
      reply({ ev: String(cmd["cmd"]), ...(await handle(cmd)) });
    } catch (e) {
      reply({ ev: String(cmd["cmd"]), error: e instanceof Error ? e.message : String(e) });
    }
    if (cmd["cmd"] === last) break;
  }
}

