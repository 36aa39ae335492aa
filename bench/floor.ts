/**
 * What this machine's kernel costs before any pool code runs, so the pool figures can be read
 * against it: one 80-byte socket.write to each of N connected loopback sockets (the fan-out's
 * unavoidable part: one write per miner), and a 64-byte ping-pong round trip on one connection
 * (the share round trip's unavoidable part). Plain Bun sockets, no Noise, no SV2, one process.
 */
import { cc, FFIType, ptr } from "bun:ffi";
import { join } from "node:path";
import { percentile } from "./lib.ts";

type Sock = import("bun").Socket<undefined>;

async function writeFloor(n: number, rounds: number): Promise<number> {
  const accepted: Sock[] = [];
  const listener = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => void accepted.push(s), data() {} } });
  const clients: Sock[] = [];
  try {
    // In batches: a burst of connects beyond the listen backlog would measure SYN retries instead.
    for (let i = 0; i < n; i += 100) {
      const batch = Math.min(100, n - i);
      clients.push(...(await Promise.all(Array.from({ length: batch }, () => Bun.connect<undefined>({ hostname: "127.0.0.1", port: listener.port, socket: { data() {} } })))));
    }
    while (accepted.length < n) await Bun.sleep(2);
    const frame = new Uint8Array(80);
    const perSocketUs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (const s of accepted) s.write(frame);
      perSocketUs.push(((performance.now() - t0) * 1000) / n);
      await Bun.sleep(50);
    }
    return percentile(perSocketUs, 50);
  } finally {
    for (const c of clients) c.terminate();
    listener.stop(true);
  }
}

/**
 * The same writes from C (bench/floor.c, compiled by TinyCC), with nobody waiting on the receiving
 * ends or (`reader`) with another process asleep in epoll on them: null where bun:ffi's cc is unavailable.
 */
function compileFloorC() {
  return cc({
    source: join(import.meta.dir, "floor.c"),
    symbols: { write_floor: { args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 } },
  }).symbols;
}

/** Compiled once for both runs. */
let floorC: ReturnType<typeof compileFloorC> | undefined;

function writeFloorC(n: number, rounds: number, reader: boolean): number | null {
  try {
    floorC ??= compileFloorC();
    const symbols = floorC;
    const fds = new Int32Array(2 * n);
    const perSocketUs = new Float64Array(rounds);
    const rc = symbols.write_floor(n, rounds, ptr(fds), ptr(perSocketUs), reader ? 1 : 0);
    if (rc !== 0) return null;
    return percentile([...perSocketUs], 50);
  } catch {
    return null;
  }
}

async function pingPong(trips: number): Promise<number> {
  const listener = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { data: (s, d) => void s.write(d) } });
  const buf = new Uint8Array(64);
  let left = trips;
  let t0 = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const client = await Bun.connect<undefined>({
    hostname: "127.0.0.1",
    port: listener.port,
    socket: {
      data: (s) => {
        if (--left > 0) s.write(buf);
        else done();
      },
    },
  });
  t0 = performance.now();
  client.write(buf);
  await finished;
  const us = ((performance.now() - t0) * 1000) / trips;
  client.terminate();
  listener.stop(true);
  return us;
}

export async function run(opts: { quick?: boolean }): Promise<Record<string, number>> {
  const n = opts.quick ? 1000 : 2000;
  const write = await writeFloor(n, opts.quick ? 3 : 7);
  const writeC = writeFloorC(n, opts.quick ? 3 : 7, false);
  const writeReader = writeFloorC(n, opts.quick ? 3 : 7, true);
  const rtt = await pingPong(opts.quick ? 3000 : 10_000);
  const figures: Record<string, number> = { socket_write_floor_us: Math.round(write * 10) / 10, loopback_pingpong_rtt_us: Math.round(rtt * 10) / 10 };
  console.log(`${`kernel floor: 80-byte socket.write to each of ${n} loopback sockets`.padEnd(64)} ${`${figures.socket_write_floor_us} µs/socket`.padStart(16)}`);
  if (writeC !== null) {
    figures.socket_write_floor_c_us = Math.round(writeC * 10) / 10;
    console.log(`${`  the same from C (send() in a loop, no runtime)`.padEnd(64)} ${`${figures.socket_write_floor_c_us} µs/socket`.padStart(16)}`);
  }
  if (writeReader !== null) {
    figures.socket_write_floor_reader_us = Math.round(writeReader * 10) / 10;
    console.log(`${`  from C, another process asleep in epoll on the receivers`.padEnd(64)} ${`${figures.socket_write_floor_reader_us} µs/socket`.padStart(16)}`);
  }
  console.log(`${"kernel floor: 64-byte ping-pong on one loopback connection".padEnd(64)} ${`${figures.loopback_pingpong_rtt_us} µs/trip`.padStart(16)}`);
  return figures;
}

if (import.meta.main) {
  const figures = await run({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
}
