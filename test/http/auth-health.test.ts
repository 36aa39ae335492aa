// Bearer-token protection of /api/* and /metrics, and /healthz following the node's state.
import { afterEach, expect, test } from "bun:test";
import { resolveConfig } from "../../src/config.ts";
import { HttpServer } from "../../src/http/server.ts";
import { createMemoryLogger } from "../../src/log.ts";
import { EmbeddedNode } from "../../src/node/embedded.ts";
import { createPoolService } from "../../src/server/assemble.ts";
import { startHttpPool, waitFor, type HttpTestPool } from "./helpers.ts";

let t: HttpTestPool | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

const TOKEN = "s3cret-token_for.tests";

test("with a token, /api/* and /metrics need it; /healthz and the page stay open", async () => {
  t = await startHttpPool({ token: TOKEN });
  const base = t.base;
  for (const path of ["/api/pool", "/api/workers", "/api/workers/x", "/api/blocks", "/api/hashrate", "/metrics", "/api/nope"]) {
    const none = await fetch(base + path);
    expect([path, none.status]).toEqual([path, 401]);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="sv2pool"');
    expect(await none.json()).toEqual({ error: "a bearer token is required (Authorization: Bearer <token>)" });
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `Basic ${btoa(`u:${TOKEN}`)}`, "Bearer ", `Bearer ${TOKEN} extra`]) {
      const wrong = await fetch(base + path, { headers: { authorization: header } });
      expect([path, header, wrong.status]).toEqual([path, header, 401]);
      await wrong.arrayBuffer();
    }
  }
  const ok = await fetch(`${base}/api/pool`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(ok.status).toBe(200);
  expect(((await ok.json()) as { tipHeight: number }).tipHeight).toBe(0);
  // The scheme is case-insensitive (RFC 7235).
  expect((await fetch(`${base}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
  expect((await fetch(`${base}/api/nope`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  const page = await fetch(`${base}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('id="token-form"');
  // Paths outside the API are not hidden behind the token.
  expect((await fetch(`${base}/favicon.ico`)).status).toBe(404);
  // Refusals are counted like any other answer.
  const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  expect(metrics).toContain('sv2pool_http_requests_total{route="/api/pool",code="401"} 7\n');
  expect(metrics).toContain('sv2pool_http_requests_total{route="other",code="401"} 7\n');
});

test("/healthz: 200 while the node serves templates, 503 with the reason when it does not", async () => {
  t = await startHttpPool();
  const up = await fetch(`${t.base}/healthz`);
  expect(up.status).toBe(200);
  expect(await up.json()).toEqual({ ok: true, node: "ok", tipHeight: 0, templateAgeSec: expect.any(Number) });

  // The node falls back into initial block download: a new block arrives, its template is refused.
  t.node.setInitialBlockDownload(true);
  await t.node.mineBlock();
  const svc = t.service;
  await waitFor("the watcher to see the node in IBD", () => svc.nodeState === "initial-block-download");
  const down = await fetch(`${t.base}/healthz`);
  expect(down.status).toBe(503);
  expect(await down.json()).toEqual({
    ok: false,
    node: "initial-block-download",
    tipHeight: expect.any(Number),
    templateAgeSec: expect.any(Number),
    reason: "node state is initial-block-download",
  });
  // /api/pool and /metrics report it too; the failed RPC is counted.
  const pool = (await (await fetch(`${t.base}/api/pool`)).json()) as { node: { state: string; ok: boolean } };
  expect(pool.node).toMatchObject({ state: "initial-block-download", ok: false });
  const metrics = await (await fetch(`${t.base}/metrics`)).text();
  expect(metrics).toContain('sv2pool_node_state{state="initial-block-download"} 1\n');
  expect(metrics).toContain("sv2pool_node_up 0\n");
  expect(metrics).toMatch(/sv2pool_node_rpc_errors_total\{method="getblocktemplate",kind="rpc"\} [1-9]/);

  // The node recovers: the next template brings the pool back.
  t.node.setInitialBlockDownload(false);
  await t.node.mineBlock();
  await waitFor("the watcher to see the node ok", () => svc.nodeState === "ok");
  await waitFor("the pool to mine on height 3", () => svc.pool.currentTip?.height === 3);
  const back = await fetch(`${t.base}/healthz`);
  expect(back.status).toBe(200);
  expect(((await back.json()) as { tipHeight: number }).tipHeight).toBe(2);
});

test("/healthz answers 503 before the first template", async () => {
  // A server in front of a service whose pool has no job yet: a fresh service that was never started.
  const idle = createPoolService(resolveConfig({ "": { data_dir: ":memory:" } }), { logger: createMemoryLogger(), node: new EmbeddedNode() });
  const http = new HttpServer(idle, { host: "127.0.0.1", port: 0, info: () => ({ version: "0", network: "regtest", authorityPublicKey: null, sv2Listen: null, sv1Listen: null, startedAtMs: 0 }) });
  const addr = await http.start();
  try {
    const res = await fetch(`http://127.0.0.1:${addr.port}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, node: "starting", tipHeight: null, templateAgeSec: null, reason: "node state is starting" });
    const pool = (await (await fetch(`http://127.0.0.1:${addr.port}/api/pool`)).json()) as Record<string, unknown>;
    expect([pool.tipHeight, pool.tipHash, pool.hashrate, pool.miners, pool.authorityPublicKey, pool.sv2Listen]).toEqual([null, null, 0, 0, null, null]);
    expect(await (await fetch(`http://127.0.0.1:${addr.port}/api/blocks`)).json()).toEqual({ blocks: [] });
    expect(await (await fetch(`http://127.0.0.1:${addr.port}/api/workers`)).json()).toEqual({ nowMs: expect.any(Number), total: 0, silent: 0, workers: [] });
  } finally {
    await http.stop();
  }
});

test("a port already in use is a clear error, and stop() frees the port", async () => {
  t = await startHttpPool();
  const port = Number(new URL(t.base).port);
  const second = new HttpServer(t.service, { host: "127.0.0.1", port, info: () => t!.info });
  await expect(second.start()).rejects.toThrow(`cannot listen for HTTP on 127.0.0.1:${port}`);
  expect(second.address).toBeNull();
  await t.http.stop();
  expect(t.http.address).toBeNull();
  const again = await second.start();
  expect(again).toEqual({ host: "127.0.0.1", port });
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  await second.stop();
});
