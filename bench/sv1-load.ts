// Load generator for bench/sv1.ts, run as a separate process so the pool's event loop is measured,
// not the client's. Prints one JSON line with its results on stdout.
//
//   bun bench/sv1-load.ts shares <port> <connections> <window> <durationMs> <warmupMs>
//     Each connection subscribes and authorizes (password d=1e-10: the pool's maximum target, so
//     nearly every share is valid), then keeps <window> mining.submit requests in flight with
//     distinct nonces. Reports shares answered per second and the round trip of each share.
//   bun bench/sv1-load.ts fanout <port> <connections>
//     Opens idle sessions, prints {"ready":true} once every one has its first job, then prints the
//     wall-clock time (ms, µs resolution) at which the last session received the next notify.
import type { Socket } from "bun";

const now = (): number => performance.timeOrigin + performance.now();

interface Conn {
  socket: Socket<undefined> | null;
  buffer: string;
  jobId: string | null;
  ntime: string;
  notifies: number;
  nextNonce: number;
  inFlight: Map<number, number>;
  nextId: number;
  worker: string;
  /** Requests queued while a chunk of answers is processed, written once at its end. */
  out: string;
}

async function open(port: number, worker: string, onLine: (c: Conn, line: string) => void, onChunkEnd?: (c: Conn) => void): Promise<Conn> {
  const c: Conn = { socket: null, buffer: "", jobId: null, ntime: "", notifies: 0, nextNonce: 0, inFlight: new Map(), nextId: 10, worker, out: "" };
  c.socket = await Bun.connect<undefined>({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        c.buffer += chunk.toString();
        let nl = c.buffer.indexOf("\n");
        while (nl >= 0) {
          onLine(c, c.buffer.slice(0, nl));
          c.buffer = c.buffer.slice(nl + 1);
          nl = c.buffer.indexOf("\n");
        }
        onChunkEnd?.(c);
      },
    },
  });
  c.socket.write(
    `{"id":1,"method":"mining.subscribe","params":["sv1-load/1"]}\n{"id":2,"method":"mining.authorize","params":["${worker}","d=1e-10"]}\n`,
  );
  return c;
}

function onNotify(c: Conn, line: string): boolean {
  if (!line.includes('"method":"mining.notify"')) return false;
  const params = (JSON.parse(line) as { params: unknown[] }).params;
  c.jobId = params[0] as string;
  c.ntime = params[7] as string;
  c.notifies++;
  return true;
}

async function until(pred: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("load: timed out");
    await Bun.sleep(5);
  }
}

async function shares(port: number, connections: number, window: number, durationMs: number, warmupMs: number): Promise<void> {
  let measuring = false;
  let answered = 0;
  let accepted = 0;
  const rtts = new Float64Array(1 << 20);
  let rttCount = 0;
  let running = true;
  const sendOne = (c: Conn): void => {
    const id = c.nextId++;
    const nonce = (c.nextNonce++ >>> 0).toString(16).padStart(8, "0");
    c.inFlight.set(id, now());
    c.out += `{"id":${id},"method":"mining.submit","params":["${c.worker}","${c.jobId}","00000000","${c.ntime}","${nonce}"]}\n`;
  };
  const flush = (c: Conn): void => {
    if (c.out.length === 0) return;
    c.socket?.write(c.out);
    c.out = "";
  };
  const onLine = (c: Conn, line: string): void => {
    if (onNotify(c, line)) return;
    // Responses: {"id":N,"result":...}: find the id without a full parse.
    const m = /^\{"id":(\d+),"result":(true|null)/.exec(line);
    if (m === null) return;
    const id = Number(m[1]);
    const sent = c.inFlight.get(id);
    if (sent === undefined) return;
    c.inFlight.delete(id);
    if (measuring) {
      answered++;
      if (m[2] === "true") accepted++;
      if (rttCount < rtts.length) rtts[rttCount++] = (now() - sent) * 1000;
    }
    if (running) sendOne(c);
  };
  const conns: Conn[] = [];
  for (let i = 0; i < connections; i++) conns.push(await open(port, `bench.w${i}`, onLine, flush));
  await until(() => conns.every((c) => c.jobId !== null), 10_000);
  for (const c of conns) {
    for (let k = 0; k < window; k++) sendOne(c);
    flush(c);
  }
  await Bun.sleep(warmupMs);
  measuring = true;
  const t0 = now();
  await Bun.sleep(durationMs);
  measuring = false;
  const seconds = (now() - t0) / 1000;
  running = false;
  const sorted = rtts.subarray(0, rttCount).sort();
  const pct = (p: number): number => (sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number));
  console.log(JSON.stringify({ answered, accepted, seconds, rttP50Us: pct(50), rttP99Us: pct(99) }));
  for (const c of conns) c.socket?.end();
}

async function fanout(port: number, connections: number): Promise<void> {
  let last = 0;
  const onLine = (c: Conn, line: string): void => {
    if (onNotify(c, line)) last = now();
  };
  const conns: Conn[] = [];
  for (let i = 0; i < connections; i++) conns.push(await open(port, `idle.w${i}`, onLine));
  await until(() => conns.every((c) => c.notifies >= 1), 30_000);
  console.log(JSON.stringify({ ready: true }));
  await until(() => conns.every((c) => c.notifies >= 2), 30_000);
  console.log(JSON.stringify({ lastNotifyMs: last }));
  for (const c of conns) c.socket?.end();
}

const [mode, ...args] = process.argv.slice(2);
const n = args.map(Number);
if (mode === "shares") await shares(n[0] as number, n[1] as number, n[2] as number, n[3] as number, n[4] as number);
else if (mode === "fanout") await fanout(n[0] as number, n[1] as number);
else throw new Error(`usage: bun bench/sv1-load.ts shares|fanout ...`);
process.exit(0);
