// A small Bitcoin Core look-alike for the RPC client tests: serves recorded getblocktemplate answers
// (from ../shared/bitcoin/gbt) in Core's JSON-RPC 1.0 framing and misbehaves on demand (garbage,
// HTML error pages, truncated bodies, hangs, huge answers, RPC errors, wrong credentials).
import type { Server, TCPSocketListener } from "bun";
import { readSharedJson } from "../helpers/shared.ts";

export type Fault =
  | { kind: "none" }
  | { kind: "rpc-error"; code: number; message: string }
  | { kind: "not-json" }
  | { kind: "html-500" }
  | { kind: "no-result-key" }
  | { kind: "result"; value: unknown }
  | { kind: "truncated-stream" }
  | { kind: "hang" }
  | { kind: "huge"; bytes: number }
  | { kind: "status"; status: number };

export interface RecordedCall {
  method: string;
  params: unknown[];
  authorization: string | null;
}

/** A recorded template file's result object (some files keep Core's {"result": ...} wrapper). */
export function loadRecordedGbt(...parts: string[]): Record<string, unknown> {
  const raw = readSharedJson<Record<string, unknown>>("bitcoin", "gbt", ...parts);
  const inner = raw["result"];
  return typeof inner === "object" && inner !== null ? (inner as Record<string, unknown>) : raw;
}

export class FakeCore {
  fault: Fault = { kind: "none" };
  /** Faults that apply to one method only (the others answer normally). */
  readonly faultFor = new Map<string, Fault>();
  template: Record<string, unknown> = {};
  bestBlockHash = "00".repeat(32);
  /** Like a signet node: refuse getblocktemplate without the "signet" rule. */
  requireSignetRule = false;
  readonly calls: RecordedCall[] = [];
  private server: Server<undefined> | null = null;
  private readonly hung: (() => void)[] = [];

  private constructor(private readonly credentials: string) {}

  static start(user = "alice", password = "s3cret"): FakeCore {
    const core = new FakeCore(`Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`);
    core.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => core.handle(req, srv) });
    return core;
  }

  get url(): string {
    return `http://127.0.0.1:${this.server?.port ?? 0}`;
  }

  stop(): void {
    for (const release of this.hung) release();
    this.server?.stop(true);
    this.server = null;
  }

  private reply(id: unknown, result: unknown): Response {
    return Response.json({ result, error: null, id });
  }

  private async handle(req: Request, srv: Server<undefined>): Promise<Response> {
    const body = (await req.json()) as { method: string; params?: unknown[]; id: unknown };
    const params = body.params ?? [];
    this.calls.push({ method: body.method, params, authorization: req.headers.get("authorization") });
    if (req.headers.get("authorization") !== this.credentials) {
      return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="jsonrpc"' } });
    }
    const fault = this.faultFor.get(body.method) ?? this.fault;
    switch (fault.kind) {
      case "rpc-error":
        return Response.json({ result: null, error: { code: fault.code, message: fault.message }, id: body.id }, { status: 500 });
      case "not-json":
        return new Response("this is not json {", { headers: { "content-type": "application/json" } });
      case "html-500":
        return new Response("<html><body><h1>500 Internal Server Error</h1></body></html>", {
          status: 500,
          headers: { "content-type": "text/html" },
        });
      case "no-result-key":
        return Response.json({ id: body.id, answer: 42 });
      case "result":
        return this.reply(body.id, fault.value);
      case "truncated-stream": {
        const full = JSON.stringify({ result: this.template, error: null, id: body.id });
        const cut = new TextEncoder().encode(full.slice(0, Math.floor(full.length / 2)));
        // Ends cleanly after half the JSON: a well-framed HTTP answer whose JSON is cut short.
        return new Response(cut, { headers: { "content-type": "application/json" } });
      }
      case "hang":
        srv.timeout(req, 0);
        return new Promise((resolve) => this.hung.push(() => resolve(new Response(null, { status: 503 }))));
      case "huge":
        return new Response(`{"result":"${"a".repeat(fault.bytes)}","error":null,"id":1}`, {
          headers: { "content-type": "application/json" },
        });
      case "status":
        return new Response(null, { status: fault.status });
      case "none":
        break;
    }
    switch (body.method) {
      case "getblocktemplate": {
        const rules = (params[0] as { rules?: string[] } | undefined)?.rules ?? [];
        if (this.requireSignetRule && !rules.includes("signet")) {
          return Response.json(
            {
              result: null,
              error: { code: -8, message: 'getblocktemplate must be called with the signet rule set (call with {"rules": ["segwit", "signet"]})' },
              id: body.id,
            },
            { status: 500 },
          );
        }
        return this.reply(body.id, this.template);
      }
      case "getbestblockhash":
        return this.reply(body.id, this.bestBlockHash);
      case "submitblock":
        return this.reply(body.id, "high-hash");
      default:
        return Response.json({ result: null, error: { code: -32601, message: "Method not found" }, id: body.id }, { status: 404 });
    }
  }
}

/**
 * A raw TCP server that sends an HTTP head announcing more body than it sends, then closes: the
 * connection dies mid-answer.
 */
export function startCuttingServer(): { url: string; stop: () => void } {
  const listener: TCPSocketListener<undefined> = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        const body = '{"result":{"version":536870912,"previousblock';
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n${body}`);
        socket.end();
      },
    },
  });
  return { url: `http://127.0.0.1:${listener.port}`, stop: () => listener.stop(true) };
}
