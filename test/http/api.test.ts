// The JSON API and /metrics of a pool that really mined: shares through the pool path, a block
// submitted to and accepted by the embedded node.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PROMETHEUS_CONTENT_TYPE } from "../../src/http/server.ts";
import { MAX_TARGET } from "../../src/bitcoin/target.ts";
import { mineScenario, parsePrometheus, sample, startHttpPool, STARTED_AT_MS, AUTHORITY_KEY, type HttpTestPool, type MinedScenario } from "./helpers.ts";

let t: HttpTestPool;
let mined: MinedScenario;

beforeAll(async () => {
  t = await startHttpPool();
  mined = await mineScenario(t);
});
afterAll(async () => {
  await t.stop();
});

async function getJson(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(t.base + path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

const HASHES_PER_DIFF1 = 2 ** 32;

describe("JSON API after real mining", () => {
  test("GET /api/pool: addresses, key, tip height, miners, shares and blocks", async () => {
    const { status, headers, body } = await getJson("/api/pool");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(body.authorityPublicKey).toBe(AUTHORITY_KEY);
    expect(body.sv2Listen).toBe("127.0.0.1:34254");
    expect(body.sv1Listen).toBe("127.0.0.1:3333");
    expect(body.httpListen).toBe(t.base.slice("http://".length));
    expect(body.network).toBe("regtest");
    expect(body.version).toBe("0.1.0-test");
    expect(body.startedAtMs).toBe(STARTED_AT_MS);
    expect(typeof body.uptimeSec).toBe("number");
    // The block found at height 1 is the node's tip.
    expect(body.tipHeight).toBe(1);
    expect(body.tipHeight).toBe(t.node.tipHeight);
    expect(body.tipHash).toBe(mined.blockHash);
    expect(body.miners).toBe(1);
    expect(body.channels).toBe(1);
    expect(body.workers).toBe(1);
    expect(body.workersOnline).toBe(1);
    expect(body.shares).toEqual({
      accepted: 4,
      rejected: 2,
      stale: 1,
      total: 6,
      sinceStart: { accepted: 4, rejected: 2, stale: 1, total: 6, rejectedByReason: { "duplicate-share": 1, "stale-share": 1 } },
    });
    expect(body.blocks).toEqual({ found: 1, accepted: 1, rejected: 0, pending: 0, lastFoundAtMs: expect.any(Number), lastHeight: 1 });
    // 4 accepted shares at the channel's difficulty, over the 10-minute window.
    expect(body.hashrate as number).toBeCloseTo((4 * mined.shareDifficulty * HASHES_PER_DIFF1) / 600, 10);
    expect(body.hashrate1m as number).toBeCloseTo((4 * mined.shareDifficulty * HASHES_PER_DIFF1) / 60, 10);
    const node = body.node as Record<string, unknown>;
    expect(node.state).toBe("ok");
    expect(node.ok).toBe(true);
    expect(node.templateHeight).toBe(2);
    expect(node.templateAgeSec as number).toBeGreaterThanOrEqual(0);
    expect(body.store).toEqual({ writeError: null, unsavedBlocks: 0 });
  });

  test("GET /api/workers: the worker with its counts, merged with the ledger", async () => {
    const { status, body } = await getJson("/api/workers");
    expect(status).toBe(200);
    const workers = body.workers as Record<string, unknown>[];
    expect(workers.length).toBe(1);
    const w = workers[0] as Record<string, unknown>;
    expect(w.name).toBe(mined.worker);
    expect(w.online).toBe(true);
    expect(w.channels).toBe(1);
    expect(w.accepted).toBe(4);
    expect(w.rejected).toBe(2);
    expect(w.stale).toBe(1);
    expect(w.rejectRate).toBe(2 / 6);
    expect(w.blocksFound).toBe(1);
    expect(w.silent).toBe(false);
    expect(w.acceptedDifficulty as number).toBeCloseTo(4 * mined.shareDifficulty, 15);
    expect(w.bestShareDifficulty as number).toBeGreaterThan(1e-5); // the block's hash beat the network difficulty
    expect(w.rejectedByReason).toEqual({ "duplicate-share": 1, "stale-share": 1 });
    expect(w.hashrate as number).toBeCloseTo((4 * mined.shareDifficulty * HASHES_PER_DIFF1) / 600, 10);
    expect(w.lastSeenMs as number).toBeLessThanOrEqual(body.nowMs as number);
    expect(w.lastSeenMs as number).toBeGreaterThanOrEqual(STARTED_AT_MS);
    // The same counts are in the ledger (the part that survives restarts).
    const stored = t.service.ledger.workerTotals().find((x) => x.name === mined.worker);
    expect([stored?.accepted, stored?.rejected, stored?.stale, stored?.blocksFound]).toEqual([4, 2, 1, 1]);
  });

  test("GET /api/workers/:name: URL-decoded names with dots; 404 JSON for unknown names", async () => {
    const one = await getJson(`/api/workers/${encodeURIComponent(mined.worker)}`);
    expect(one.status).toBe(200);
    const w = one.body.worker as Record<string, unknown>;
    expect(w.name).toBe("farm.rack-03.s19");
    expect(w.accepted).toBe(4);
    const history = one.body.history as { points: { accepted: number }[] };
    expect(history.points.reduce((s, p) => s + p.accepted, 0)).toBe(4);
    // Dots need no encoding.
    expect((await getJson("/api/workers/farm.rack-03.s19")).status).toBe(200);
    const missing = await getJson("/api/workers/no.such%20worker");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'unknown worker "no.such worker"' });
  });

  test("GET /api/blocks: the found block with the node's answer", async () => {
    const { status, body } = await getJson("/api/blocks");
    expect(status).toBe(200);
    const blocks = body.blocks as Record<string, unknown>[];
    expect(blocks.length).toBe(1);
    const b = blocks[0] as Record<string, unknown>;
    expect(b.hash).toBe(mined.blockHash);
    expect(b.height).toBe(1);
    expect(b.worker).toBe(mined.worker);
    expect(b.status).toBe("accepted");
    // Bitcoin Core (and the embedded node) answers submitblock with null for an accepted block.
    expect(b.nodeAnswer).toBe("null");
    expect(b.attempts).toBe(1);
    expect(b.lastError).toBeNull();
    expect(b.prevHash).toBe(t.node.chainHashes[0] as string);
    expect(b.coinbaseValue).toBe("5000000000");
    expect(typeof b.foundAtMs).toBe("number");
    expect("blockHex" in b).toBe(false);
    const one = await getJson(`/api/blocks/${mined.blockHash}`);
    expect(one.status).toBe(200);
    expect((one.body.block as Record<string, unknown>).blockHex).toBe(t.node.getBlock(mined.blockHash) as string);
    expect((await getJson(`/api/blocks/${"0".repeat(64)}`)).status).toBe(404);
    expect((await getJson("/api/blocks/not-a-hash")).status).toBe(404);
    expect(((await getJson("/api/blocks?limit=0")).body.blocks as unknown[]).length).toBe(1);
  });

  test("GET /api/hashrate: a series from the ledger's share buckets", async () => {
    const { status, body } = await getJson("/api/hashrate?minutes=30");
    expect(status).toBe(200);
    expect(body.minutes).toBe(30);
    expect(body.stepSec).toBe(60);
    const points = body.points as { t: number; hashrate: number; accepted: number; rejected: number; stale: number }[];
    expect(points.length).toBe(30);
    expect(points.map((p) => p.t)).toEqual(points.map((_, i) => (points[0] as { t: number }).t + i * 60_000));
    expect(points.reduce((s, p) => s + p.accepted, 0)).toBe(4);
    expect(points.reduce((s, p) => s + p.rejected, 0)).toBe(2);
    expect(points.reduce((s, p) => s + p.stale, 0)).toBe(1);
    expect(points.some((p) => p.hashrate > 0)).toBe(true);
    const wide = await getJson("/api/hashrate?minutes=10080");
    expect(wide.body.stepSec).toBe(2520); // 7 days in at most 240 whole-minute slots
    expect((wide.body.points as unknown[]).length).toBeLessThanOrEqual(240);
    const bad = await getJson("/api/hashrate?minutes=abc");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("minutes must be a whole number between 1 and 43200");
  });
});

describe("/metrics", () => {
  test("every line is valid text format 0.0.4 and the issue's families carry the mined numbers", async () => {
    const res = await fetch(`${t.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
    const fams = parsePrometheus(await res.text());
    for (const f of fams.values()) {
      expect(f.help).not.toBeNull();
      expect(f.type).not.toBe("untyped");
    }
    // connections and channels
    expect(sample(fams, "sv2pool_connected_miners", "sv2pool_connected_miners")).toBe(1);
    expect(sample(fams, "sv2pool_channels", "sv2pool_channels")).toBe(1);
    // shares by result
    expect(fams.get("sv2pool_shares_total")?.type).toBe("counter");
    expect(sample(fams, "sv2pool_shares_total", "sv2pool_shares_total", { result: "accepted" })).toBe(4);
    expect(sample(fams, "sv2pool_shares_total", "sv2pool_shares_total", { result: "duplicate-share" })).toBe(1);
    expect(sample(fams, "sv2pool_shares_total", "sv2pool_shares_total", { result: "stale-share" })).toBe(1);
    // hashrate estimates
    const expected = (4 * mined.shareDifficulty * HASHES_PER_DIFF1) / 600;
    expect(sample(fams, "sv2pool_hashrate_hps", "sv2pool_hashrate_hps") as number).toBeCloseTo(expected, 10);
    expect(sample(fams, "sv2pool_worker_hashrate_hps", "sv2pool_worker_hashrate_hps", { worker: mined.worker }) as number).toBeCloseTo(expected, 10);
    expect(sample(fams, "sv2pool_workers_online", "sv2pool_workers_online")).toBe(1);
    // blocks found
    expect(sample(fams, "sv2pool_blocks_found_total", "sv2pool_blocks_found_total")).toBe(1);
    expect(sample(fams, "sv2pool_blocks", "sv2pool_blocks", { status: "accepted" })).toBe(1);
    expect(sample(fams, "sv2pool_blocks", "sv2pool_blocks", { status: "pending" })).toBe(0);
    expect(sample(fams, "sv2pool_block_submissions_total", "sv2pool_block_submissions_total", { outcome: "accepted" })).toBe(1);
    expect(sample(fams, "sv2pool_block_submissions_total", "sv2pool_block_submissions_total", { outcome: "transport-error" })).toBe(0);
    // node RPC latency and errors (the node is wrapped by instrumentNode)
    expect(fams.get("sv2pool_node_rpc_duration_ms")?.type).toBe("histogram");
    expect(sample(fams, "sv2pool_node_rpc_duration_ms", "sv2pool_node_rpc_duration_ms_count", { method: "submitblock" })).toBe(1);
    expect(sample(fams, "sv2pool_node_rpc_duration_ms", "sv2pool_node_rpc_duration_ms_count", { method: "getblocktemplate" }) as number).toBeGreaterThanOrEqual(2);
    expect(fams.get("sv2pool_node_rpc_errors_total")?.type).toBe("counter");
    expect(fams.get("sv2pool_node_rpc_errors_total")?.samples).toEqual([]);
    expect(sample(fams, "sv2pool_node_up", "sv2pool_node_up")).toBe(1);
    expect(sample(fams, "sv2pool_node_state", "sv2pool_node_state", { state: "ok" })).toBe(1);
    expect(sample(fams, "sv2pool_node_state", "sv2pool_node_state", { state: "unreachable" })).toBe(0);
    expect(sample(fams, "sv2pool_tip_height", "sv2pool_tip_height")).toBe(1);
    expect(sample(fams, "sv2pool_ledger_write_failing", "sv2pool_ledger_write_failing")).toBe(0);
    expect(sample(fams, "sv2pool_ledger_unsaved_blocks", "sv2pool_ledger_unsaved_blocks")).toBe(0);
    // template age
    const age = sample(fams, "sv2pool_template_age_seconds", "sv2pool_template_age_seconds") as number;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    // fan-out latency histogram: the block found made one new tip
    expect(fams.get("sv2pool_fanout_ms")?.type).toBe("histogram");
    expect(sample(fams, "sv2pool_fanout_ms", "sv2pool_fanout_ms_count")).toBe(1);
    expect(sample(fams, "sv2pool_fanout_ms", "sv2pool_fanout_ms_bucket", { le: "+Inf" })).toBe(1);
    // process memory
    expect(sample(fams, "process_resident_memory_bytes", "process_resident_memory_bytes") as number).toBeGreaterThan(1e6);
    expect(sample(fams, "process_heap_bytes", "process_heap_bytes") as number).toBeGreaterThan(0);
    expect(sample(fams, "process_start_time_seconds", "process_start_time_seconds")).toBe(STARTED_AT_MS / 1000);
    expect(sample(fams, "sv2pool_build_info", "sv2pool_build_info", { version: "0.1.0-test", network: "regtest" })).toBe(1);
    // the HTTP layer counts itself (earlier tests in this file made API requests)
    expect(sample(fams, "sv2pool_http_requests_total", "sv2pool_http_requests_total", { route: "/api/pool", code: "200" })).toBe(1);
  });

  test("the parser is strict: it refuses malformed expositions", () => {
    const ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    expect(parsePrometheus(ok).get("a_total")?.samples).toEqual([{ name: "a_total", labels: { x: "1" }, value: 2 }]);
    for (const bad of [
      "# TYPE a counter\na 1", // no final newline
      "# TYPE a counter\na one\n",
      "# TYPE a counter\na{x=1} 1\n",
      "# TYPE a counter\na{x=\"1\" 1\n",
      "# TYPE a wibble\na 1\n",
      "# TYPE a counter\nb 1\n",
      "# TYPE a counter\n\na 1\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n",
    ]) {
      expect(() => parsePrometheus(bad)).toThrow();
    }
  });
});

describe("routing and odd input", () => {
  test("unknown paths answer 404 JSON; other methods 405", async () => {
    for (const path of ["/nope", "/api", "/api/", "/api/poolx", "/favicon.ico", "/api/workersx"]) {
      const r = await getJson(path);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.body).toEqual({ error: "not found" });
    }
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const r = await fetch(`${t.base}/api/pool`, { method, body: method === "POST" || method === "PUT" ? "{}" : undefined });
      expect([method, r.status]).toEqual([method, 405]);
      expect(r.headers.get("allow")).toBe("GET, HEAD");
      expect(((await r.json()) as { error: string }).error).toBe(`method ${method} not allowed; use GET`);
    }
    const head = await fetch(`${t.base}/api/pool`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("bad percent-encoding, huge queries and junk never crash the server", async () => {
    const bad = await getJson("/api/workers/%E0%A4%A");
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: "bad percent-encoding in the worker name" });
    const huge = await fetch(`${t.base}/api/pool?${"x=".concat("a".repeat(60_000))}`);
    expect([200, 414, 431]).toContain(huge.status);
    await huge.arrayBuffer();
    const bigLimit = await getJson("/api/blocks?limit=99999999999999999999");
    expect(bigLimit.status).toBe(400);
    const neg = await getJson("/api/hashrate?minutes=-5");
    expect(neg.status).toBe(400);
    const zero = await getJson("/api/hashrate?minutes=0");
    expect([zero.status, zero.body.minutes]).toEqual([200, 1]);
    // A raw request line no client library would send.
    const sock = await Bun.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(t.base).port),
      socket: { data() {}, open() {}, close() {}, error() {} },
    });
    sock.write("GET /api/workers/%zz%%/../.. HTTP/1.1\r\nHost: x\r\n\r\n");
    sock.write("\x00\x01garbage\r\n\r\n");
    await Bun.sleep(20);
    sock.end();
    // Still serving.
    expect((await getJson("/api/pool")).status).toBe(200);
  });

  test("the dashboard page is served with a CSP that allows only its own inline script and style", async () => {
    const res = await fetch(`${t.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    const html = await res.text();
    expect(html).toStartWith("<!doctype html>");
    // Nothing is loaded from elsewhere.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});

describe("many workers (a farm)", () => {
  let farm: HttpTestPool;
  beforeAll(async () => {
    farm = await startHttpPool();
    const pool = farm.service.pool;
    const now = farm.service.clock.nowMs();
    // 300 workers: 299 with counted shares (the ledger, some written to disk), one connected without any.
    for (let i = 0; i < 300; i++) {
      const endpoint = `10.0.1.${i}:4028`;
      pool.registerMiner(endpoint);
      pool.openStandardChannel(endpoint, { userIdentity: `farm.rig${String(i).padStart(3, "0")}`, nominalHashrate: 0, maxTarget: MAX_TARGET });
      for (let k = 0; k < i % 5 && i > 0; k++) farm.service.ledger.recordShare(`farm.rig${String(i).padStart(3, "0")}`, now, { accepted: true, difficulty: 1, hashDifficulty: 2, block: false });
      if (i === 150) farm.service.ledger.flush(now);
    }
  });
  afterAll(async () => {
    await farm.stop();
  });

  test("GET /api/workers?limit=N: the N busiest, with the count of all and of the silent ones", async () => {
    const all = (await (await fetch(`${farm.base}/api/workers`)).json()) as { total: number; silent: number; workers: { name: string; accepted: number }[] };
    expect(all.workers.length).toBe(300);
    expect(all.total).toBe(300);
    const page = (await (await fetch(`${farm.base}/api/workers?limit=7`)).json()) as typeof all;
    expect(page.total).toBe(300);
    expect(page.silent).toBe(all.silent);
    expect(page.workers.map((w) => w.name)).toEqual(all.workers.slice(0, 7).map((w) => w.name));
    // Busiest first: no hashrate yet (the core saw no shares), so by accepted shares, then name.
    expect(page.workers.map((w) => w.accepted)).toEqual([4, 4, 4, 4, 4, 4, 4]);
    expect(page.workers[0]?.name).toBe("farm.rig004");
    expect((await fetch(`${farm.base}/api/workers?limit=x`)).status).toBe(400);
  });

  test("GET /api/pool counts every worker and share without listing them", async () => {
    const p = (await (await fetch(`${farm.base}/api/pool`)).json()) as { workers: number; workersOnline: number; shares: { accepted: number } };
    expect(p.workers).toBe(300);
    expect(p.workersOnline).toBe(300);
    // 0+1+2+3+4 accepted shares per group of five workers, 60 groups.
    expect(p.shares.accepted).toBe(60 * 10);
  });
});
