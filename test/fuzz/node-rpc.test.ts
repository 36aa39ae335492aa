// Fuzzing what the pool reads from Bitcoin Core: getblocktemplate answers (the recorded templates in
// ../shared/bitcoin/gbt with fields dropped, types changed, huge arrays, bad hex, negative numbers,
// bits overflow) through parseGbtResult + templateFromGbt; JSON-RPC envelopes through
// parseRpcResponse / parseRpcRequest; and a real RpcNode talking to a real HTTP server (Bun.serve)
// that answers garbage bodies and statuses, and to a raw TCP server that answers garbage HTTP.
// Only typed errors: TemplateError, NodeRequestError, RpcError (all StratumV2Error).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { NodeRequestError, parseRpcRequest, parseRpcResponse, RpcError } from "../../src/node/rpc-protocol.ts";
import { RpcNode } from "../../src/node/rpc-node.ts";
import { parseGbtResult, templateFromGbt } from "../../src/pool/template.ts";
import { sharedPath, readSharedText } from "../helpers/shared.ts";
import { countOutcomes, fuzzCount, REPLAYING, runFuzz, stratumError, type ErrorClassifier, type Prng } from "./lib.ts";
import { mutateJson, mutateText, randomJson, showJson } from "./mutate.ts";

const FILE = "test/fuzz/node-rpc.test.ts";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every recorded getblocktemplate result (bare or wrapped in {"result": …}). */
function loadTemplates(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".json")) {
        const v: unknown = JSON.parse(readSharedText(p.slice(sharedPath().length + 1)));
        const gbt = isRecord(v) && isRecord(v["result"]) ? v["result"] : v;
        if (isRecord(gbt) && typeof gbt["previousblockhash"] === "string" && Array.isArray(gbt["transactions"])) out.push(gbt);
      }
    }
  };
  walk(sharedPath("bitcoin", "gbt"));
  return out;
}

const TEMPLATES = loadTemplates();

/** Targeted edits of a template field (the brief's list), else a generic structure mutation. */
function mutateTemplate(rng: Prng, gbt: Record<string, unknown>): { value: unknown; label: string } {
  if (rng.int(3) !== 0) return mutateJson(rng, gbt);
  const g: Record<string, unknown> = { ...gbt };
  const txs = Array.isArray(g["transactions"]) ? (g["transactions"] as unknown[]) : [];
  switch (rng.int(8)) {
    case 0:
      g["bits"] = rng.pick(["ffffffff", "00000000", "01ffffff", "22ffffff", "1d00ffff", "207fffff", "00800000", "ff7fffff", "1e", "zzzzzzzz"]);
      return { value: g, label: "bits" };
    case 1:
      g["target"] = rng.pick(["f".repeat(64), "0".repeat(64), "1".repeat(63), "x".repeat(64), "0".repeat(66)]);
      return { value: g, label: "target" };
    case 2:
      g[rng.pick(["height", "version", "curtime", "mintime", "coinbasevalue"])] = rng.pick([-1, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 1e21, 0.5, Number.NaN, "1", null]);
      return { value: g, label: "number" };
    case 3:
      delete g[rng.pick(["height", "version", "curtime", "bits", "previousblockhash", "transactions", "coinbasevalue", "default_witness_commitment"])];
      return { value: g, label: "drop-field" };
    case 4: {
      const n = rng.int(32) === 0 ? 50_000 : 200 + rng.int(2000);
      const first = txs[0] ?? { data: "00", txid: "00".repeat(32) };
      g["transactions"] = Array.from({ length: n }, () => first);
      return { value: g, label: "huge-transactions" };
    }
    case 5:
      g["coinbaseaux"] = rng.pick([{ flags: "0" }, { flags: "zz" }, { flags: 1 }, { a: "00", b: "0" }, [], "00"]);
      return { value: g, label: "coinbaseaux" };
    case 6:
      g["default_witness_commitment"] = rng.pick(["", "6a", "0", "6a24aa21a9ed", "zz", "6a24aa21a9ed".repeat(1000)]);
      return { value: g, label: "witness-commitment" };
    default:
      g["transactions"] = txs.map((t) => (isRecord(t) && rng.bool() ? { ...t, data: rng.pick(["", "0", "zz", "00", "ff".repeat(3)]), txid: rng.pick([undefined, "00", "g".repeat(64), t["txid"]]) } : t));
      return { value: g, label: "tx-fields" };
  }
}

const templateErrors: ErrorClassifier = stratumError("TemplateError");

const N_GBT = fuzzCount(4_000);
test(`fuzz parseGbtResult + templateFromGbt: ${N_GBT} mutated recorded templates throw only TemplateError`, async () => {
  expect(TEMPLATES.length).toBeGreaterThanOrEqual(8);
  const stats = await runFuzz<unknown>({
    name: "gbt-parse",
    file: FILE,
    count: N_GBT,
    generate: (rng) => {
      const base = rng.pick(TEMPLATES);
      if (rng.int(20) === 0) return { input: base, label: "valid" };
      if (rng.int(30) === 0) return { input: randomJson(rng, 4), label: "random" };
      const m = mutateTemplate(rng, base);
      return { input: m.value, label: m.label };
    },
    run: (raw) => {
      const gbt = parseGbtResult(raw);
      const t = templateFromGbt(gbt, 1);
      if (t.transactions.length !== gbt.transactions.length) throw new Error("template lost transactions");
      return "template";
    },
    classify: templateErrors,
    show: (v) => showJson(v),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_GBT);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "template")).toBeGreaterThan(N_GBT / 30);
    expect(countOutcomes(stats, "error:")).toBeGreaterThan(N_GBT / 3);
  }
});

const N_ENVELOPE = fuzzCount(30_000);
test(`fuzz parseRpcResponse / parseRpcRequest: ${N_ENVELOPE} random JSON values (never throw / only RpcError)`, async () => {
  const stats = await runFuzz<unknown>({
    name: "rpc-envelope",
    file: FILE,
    count: N_ENVELOPE,
    generate: (rng) => {
      const base = rng.pick<unknown>([
        { result: null, error: null, id: 1 },
        { result: { height: 1, bits: "207fffff", transactions: [] }, error: null, id: "x" },
        { result: null, error: { code: -8, message: "Invalid parameter" }, id: null },
        { jsonrpc: "1.0", id: 1, method: "getblocktemplate", params: [{ rules: ["segwit"] }] },
        { method: "submitblock", params: ["00"] },
      ]);
      if (rng.int(5) === 0) return { input: randomJson(rng, 4), label: "random" };
      // Blow-ups (huge arrays, deep nesting) now and then: they cost the generator more than the target.
      const m = mutateJson(rng, base, rng.int(10) === 0);
      return { input: m.value, label: m.label };
    },
    run: (raw) => {
      const r = parseRpcResponse(raw);
      let req = "request";
      try {
        parseRpcRequest(raw);
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        req = "bad-request";
      }
      return `${typeof r === "string" ? "bad-response" : r.error === null ? "result" : "error"}/${req}`;
    },
    classify: () => null,
    show: (v) => showJson(v),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_ENVELOPE);
});

// ---- a real RpcNode against hostile HTTP servers --------------------------------------------------

interface Answer {
  status: number;
  contentType: string;
  body: Uint8Array | string;
}

let answer: Answer = { status: 200, contentType: "application/json", body: "{}" };
let httpServer: ReturnType<typeof Bun.serve>;
let rawServer: import("bun").TCPSocketListener<undefined>;
let rawAnswer: Uint8Array = new Uint8Array(0);
const MAX_BODY = 64 * 1024;

beforeAll(() => {
  httpServer = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      const nullBody = answer.status === 204 || answer.status === 205 || answer.status === 304;
      const body = typeof answer.body === "string" ? answer.body : new Blob([Uint8Array.from(answer.body)]);
      return new Response(nullBody ? null : body, { status: answer.status, headers: { "content-type": answer.contentType } });
    },
  });
  // Writes the raw answer as soon as a request arrives, then closes.
  rawServer = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data: (s) => {
        s.write(rawAnswer);
        s.end();
      },
    },
  });
});

afterAll(() => {
  httpServer.stop(true);
  rawServer.stop(true);
});

const nodeErrors: ErrorClassifier = (e) => {
  if (e instanceof NodeRequestError) return `error:NodeRequestError:${e.failure}`;
  if (e instanceof RpcError) return "error:RpcError";
  return templateErrors(e);
};

const encoder = new TextEncoder();

function rpcBody(rng: Prng): { body: Uint8Array | string; label: string } {
  const gbt = rng.pick(TEMPLATES);
  switch (rng.int(9)) {
    case 0:
      return { body: JSON.stringify({ result: gbt, error: null, id: 1 }), label: "valid" };
    case 1: {
      const m = mutateTemplate(rng, gbt);
      return { body: JSON.stringify({ result: m.value, error: null, id: 1 }), label: `gbt-${m.label}` };
    }
    case 2: {
      const m = mutateText(rng, JSON.stringify({ result: gbt, error: null, id: 1 }));
      return { body: m.value, label: `text-${m.label}` };
    }
    case 3: {
      const m = mutateJson(rng, { result: null, error: { code: -8, message: "Invalid parameter, signet rule" }, id: 1 });
      return { body: JSON.stringify(m.value) ?? "", label: `error-${m.label}` };
    }
    case 4:
      return { body: JSON.stringify(randomJson(rng, 4)) ?? "null", label: "random-json" };
    case 5:
      return { body: rng.bytes(rng.int(300)), label: "binary" };
    case 6:
      return { body: "x".repeat(MAX_BODY + rng.int(4096)), label: "too-large" };
    case 7:
      return { body: rng.pick(["", "\ufeff{}", "null", "[]", '{"result":', "{\"result\":1}".repeat(3), "<html>502 Bad Gateway</html>"]), label: "short" };
    default: {
      const result = rng.pick<unknown>([
        "00".repeat(32),
        "g".repeat(64),
        null,
        "duplicate",
        { chain: "main", blocks: -1, headers: 2 ** 60, bestblockhash: "00".repeat(32), initialblockdownload: false },
        { hash: "00".repeat(32), height: 1, bits: "1d00ffff", time: 1, previousblockhash: 7 },
      ]);
      return { body: JSON.stringify({ result: mutateJson(rng, result).value, error: null, id: 1 }) ?? "", label: "other-method" };
    }
  }
}

type Method = "getBlockTemplate" | "getBlockchainInfo" | "getBlockHeader" | "getBestBlockHash" | "submitBlock";
const METHODS: readonly Method[] = ["getBlockTemplate", "getBlockTemplate", "getBlockTemplate", "getBlockchainInfo", "getBlockHeader", "getBestBlockHash", "submitBlock"];

async function callNode(node: RpcNode, method: Method): Promise<string> {
  switch (method) {
    case "getBlockTemplate":
      await node.getBlockTemplate();
      return "ok:gbt";
    case "getBlockchainInfo":
      await node.getBlockchainInfo();
      return "ok:info";
    case "getBlockHeader":
      await node.getBlockHeader("00".repeat(32));
      return "ok:header";
    case "getBestBlockHash":
      await node.getBestBlockHash();
      return "ok:best";
    case "submitBlock":
      return `ok:submit:${(await node.submitBlock("00")).accepted}`;
  }
}

const N_HTTP = fuzzCount(1_500);
test(`fuzz RpcNode over HTTP: ${N_HTTP} garbage answers (bodies, statuses, content types) give only typed errors`, async () => {
  const node = new RpcNode({ url: `http://127.0.0.1:${httpServer.port}`, auth: { kind: "userpass", user: "u", password: "p" }, timeoutMs: 3000, maxBodyBytes: MAX_BODY });
  const stats = await runFuzz<{ answer: Answer; method: Method }>({
    name: "rpc-http",
    file: FILE,
    count: N_HTTP,
    generate: (rng) => {
      const { body, label } = rpcBody(rng);
      const status = rng.int(3) === 0 ? rng.pick([200, 200, 401, 403, 404, 500, 502, 503, 204, 302, 400, 418, 599]) : 200;
      const contentType = rng.pick(["application/json", "text/html", "", "application/octet-stream", "application/json; charset=latin1"]);
      return { input: { answer: { status, contentType, body }, method: rng.pick(METHODS) }, label };
    },
    run: async ({ answer: a, method }) => {
      answer = a;
      return callNode(node, method);
    },
    classify: nodeErrors,
    show: ({ answer: a, method }) => `${method} → HTTP ${a.status} ${a.contentType} ${typeof a.body === "string" ? JSON.stringify(a.body.slice(0, 600)) : `<${a.body.length} bytes>`}`,
    maxMsPerInput: 5000,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_HTTP);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "ok:gbt")).toBeGreaterThan(0);
    expect(countOutcomes(stats, "error:NodeRequestError:garbage")).toBeGreaterThan(0);
    expect(countOutcomes(stats, "error:NodeRequestError:too-large")).toBeGreaterThan(0);
  }
});

function rawHttp(rng: Prng): { bytes: Uint8Array; label: string } {
  const body = JSON.stringify({ result: rng.pick(TEMPLATES), error: null, id: 1 });
  const valid = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${encoder.encode(body).length}\r\nConnection: close\r\n\r\n${body}`;
  switch (rng.int(6)) {
    case 0:
      return { bytes: encoder.encode(valid), label: "valid" };
    case 1: {
      const m = mutateText(rng, valid.slice(0, 200), { tokens: ["\r\n", "\r\n\r\n", ":", "Content-Length: ", "Transfer-Encoding: chunked\r\n", "HTTP/1.1 ", "-1", "99999999999"] });
      return { bytes: encoder.encode(m.value + valid.slice(200)), label: `head-${m.label}` };
    }
    case 2:
      return { bytes: encoder.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${rng.pick([0, 10, 1_000_000, -5])}\r\n\r\n${body.slice(0, rng.int(body.length))}`), label: "wrong-length" };
    case 3:
      return { bytes: encoder.encode(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${rng.pick(["zz", "ffffffffffffffff", "5", "0", "-1"])}\r\n${body.slice(0, 40)}\r\n`), label: "bad-chunked" };
    case 4:
      return { bytes: rng.bytes(rng.int(200)), label: "binary" };
    default:
      return { bytes: encoder.encode(valid.slice(0, rng.int(valid.length))), label: "truncated" };
  }
}

const N_RAW = fuzzCount(300);
test(`fuzz RpcNode over raw TCP: ${N_RAW} garbage HTTP responses give only typed errors`, async () => {
  const node = new RpcNode({ url: `http://127.0.0.1:${rawServer.port}`, auth: { kind: "userpass", user: "u", password: "p" }, timeoutMs: 3000, maxBodyBytes: MAX_BODY });
  const stats = await runFuzz<{ bytes: Uint8Array }>({
    name: "rpc-raw-http",
    file: FILE,
    count: N_RAW,
    generate: (rng) => {
      const r = rawHttp(rng);
      return { input: { bytes: r.bytes }, label: r.label };
    },
    run: async ({ bytes }) => {
      rawAnswer = bytes;
      await node.getBlockTemplate();
      return "ok:gbt";
    },
    classify: nodeErrors,
    show: ({ bytes }) => JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 600))),
    maxMsPerInput: 5000,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_RAW);
  if (!REPLAYING) expect(countOutcomes(stats, "ok:gbt")).toBeGreaterThan(0);
});
