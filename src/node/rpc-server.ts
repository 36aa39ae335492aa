/**
 * Serves any NodeAPI (normally the EmbeddedNode) as Bitcoin Core-compatible JSON-RPC over HTTP, so
 * the real RpcNode and TemplateWatcher run against a real socket in tests, and a demo can run the
 * embedded chain as its own process.
 *
 * Core's conventions are kept: POST only, basic auth (cookie file `__cookie__:<hex>` rewritten at
 * every start, or user/password), 401 without a body for bad credentials, JSON-RPC 1.0 answers that
 * always carry both `result` and `error`, and HTTP 500 (404 unknown method, 400 invalid request) for
 * error answers.
 */
import { timingSafeEqual } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Server } from "bun";
import { StratumV2Error } from "../errors.ts";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import type { BlockTemplateRequest, NodeAPI } from "./api.ts";
import type { RpcAuth } from "./rpc.ts";
import {
  HASH_HEX,
  httpStatusForRpcError,
  parseRpcRequest,
  RPC_ERROR,
  RpcError,
  rpcErrorBody,
  rpcResultBody,
  type RpcResponseBody,
} from "./rpc-protocol.ts";

/** An extra method (e.g. a demo's "mineblock"); throw RpcError for a Core-style error answer. */
export type RpcMethodHandler = (params: unknown[], signal: AbortSignal) => Promise<unknown>;

export interface RpcServerOptions {
  node: NodeAPI;
  /** Core binds 127.0.0.1 by default; so does this. */
  hostname?: string;
  /** 0 picks a free port. */
  port?: number;
  auth: RpcAuth;
  logger?: Logger;
  /** Request bodies above this are refused (Core's limit is 32 MiB). */
  maxBodyBytes?: number;
  extraMethods?: Record<string, RpcMethodHandler>;
}

const JSON_HEADERS = { "content-type": "application/json" };
const COOKIE_USER = "__cookie__";

/** Writes a Core-style cookie file (atomically, owner-only) and returns its password. */
export async function writeCookieFile(path: string): Promise<string> {
  const password = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${COOKIE_USER}:${password}`, { mode: 0o600 });
  await rename(tmp, path);
  return password;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v === "object" ? "object" : typeof v;
}

/** Core's wording for a positional argument of the wrong JSON type. */
function expectString(v: unknown): string {
  if (typeof v !== "string") throw new RpcError(RPC_ERROR.TYPE_ERROR, `JSON value of type ${typeName(v)} is not of expected type string`);
  return v;
}

function expectBlockHash(v: unknown, name: string): string {
  const s = expectString(v);
  if (s.length !== 64) throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `${name} must be of length 64 (not ${s.length}, for '${s}')`);
  const lower = s.toLowerCase();
  if (!HASH_HEX.test(lower)) throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `${name} must be hexadecimal string (not '${s}')`);
  return lower;
}

export class RpcServer {
  private server: Server<undefined> | null = null;
  private password = "";
  private readonly user: string;
  private readonly logger: Logger;
  private readonly maxBodyBytes: number;
  /** Aborts pending long-polls at stop(). */
  private readonly stopping = new AbortController();
  /** Calls served, by method (tests and the bench read it). */
  readonly calls = new Map<string, number>();

  private constructor(private readonly options: RpcServerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.user = options.auth.kind === "cookie" ? COOKIE_USER : options.auth.user;
    if (options.auth.kind === "userpass") this.password = options.auth.password;
  }

  static async start(options: RpcServerOptions): Promise<RpcServer> {
    const s = new RpcServer(options);
    if (options.auth.kind === "cookie") s.password = await writeCookieFile(options.auth.cookieFile);
    s.server = Bun.serve({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      fetch: (req, server) => s.handle(req, server),
    });
    s.logger.info("JSON-RPC server listening", { url: s.url, auth: options.auth.kind });
    return s;
  }

  get port(): number {
    if (this.server === null) throw StratumV2Error.server("RpcServer is not running");
    return this.server.port ?? 0;
  }

  get url(): string {
    return `http://${this.options.hostname ?? "127.0.0.1"}:${this.port}`;
  }

  /** Writes a new cookie, as Core does when it restarts: clients holding the old one get 401. */
  async rotateCookie(): Promise<void> {
    if (this.options.auth.kind !== "cookie") throw StratumV2Error.config("RpcServer.rotateCookie needs cookie auth");
    this.password = await writeCookieFile(this.options.auth.cookieFile);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.server?.stop(true);
    this.server = null;
    // Core removes its cookie at shutdown so that stale credentials are not picked up.
    if (this.options.auth.kind === "cookie") await rm(this.options.auth.cookieFile, { force: true });
  }

  private authorized(req: Request): boolean {
    const header = req.headers.get("authorization") ?? "";
    if (!header.startsWith("Basic ")) return false;
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return false;
    return sameSecret(decoded.slice(0, colon), this.user) && sameSecret(decoded.slice(colon + 1), this.password);
  }

  private async handle(req: Request, server: Server<undefined>): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path !== "/" && !path.startsWith("/wallet/")) return new Response(null, { status: 404 });
    if (req.method !== "POST") return new Response("JSONRPC server handles only POST requests", { status: 405 });
    if (!this.authorized(req)) {
      this.logger.warn("JSON-RPC request with wrong credentials", { from: server.requestIP(req)?.address ?? "?" });
      return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="jsonrpc"' } });
    }
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > this.maxBodyBytes) return new Response(null, { status: 413 });
    const text = await req.text();
    if (text.length > this.maxBodyBytes) return new Response(null, { status: 413 });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.reply(rpcErrorBody(null, RPC_ERROR.PARSE_ERROR, "Parse error"));
    }
    // A long-poll may wait minutes: lift the idle timeout for this request only.
    server.timeout(req, 0);
    const signal = AbortSignal.any([req.signal, this.stopping.signal]);
    if (Array.isArray(parsed)) {
      const answers = await Promise.all(parsed.map((one) => this.dispatch(one, signal)));
      return new Response(`${JSON.stringify(answers)}\n`, { status: 200, headers: JSON_HEADERS });
    }
    return this.reply(await this.dispatch(parsed, signal));
  }

  private reply(body: RpcResponseBody): Response {
    const status = body.error === null ? 200 : httpStatusForRpcError(body.error.code);
    return new Response(`${JSON.stringify(body)}\n`, { status, headers: JSON_HEADERS });
  }

  private async dispatch(raw: unknown, signal: AbortSignal): Promise<RpcResponseBody> {
    let id: unknown = null;
    try {
      const request = parseRpcRequest(raw);
      id = request.id;
      this.calls.set(request.method, (this.calls.get(request.method) ?? 0) + 1);
      return rpcResultBody(id, await this.invoke(request.method, request.params, signal));
    } catch (e) {
      if (e instanceof RpcError) return rpcErrorBody(id, e.code, e.rpcMessage);
      const message = e instanceof Error ? e.message : String(e);
      this.logger.warn("JSON-RPC method failed", { error: message });
      return rpcErrorBody(id, RPC_ERROR.MISC_ERROR, message);
    }
  }

  private async invoke(method: string, params: unknown[], signal: AbortSignal): Promise<unknown> {
    const node = this.options.node;
    switch (method) {
      case "getblocktemplate":
        return node.getBlockTemplate(this.templateRequest(params[0], signal));
      case "submitblock":
        return (await node.submitBlock(expectString(params[0]))).result;
      case "getbestblockhash":
        return node.getBestBlockHash();
      case "getblockchaininfo":
        return node.getBlockchainInfo();
      case "getblockheader": {
        const hash = expectBlockHash(params[0], "blockhash");
        if (params[1] === false) throw new RpcError(RPC_ERROR.INVALID_PARAMETER, "verbose=false is not served by this node");
        return node.getBlockHeader(hash);
      }
      default: {
        const extra = this.options.extraMethods?.[method];
        if (extra === undefined) throw new RpcError(RPC_ERROR.METHOD_NOT_FOUND, "Method not found");
        return extra(params, signal);
      }
    }
  }

  /** Core's getblocktemplate argument checks, then the NodeAPI request. */
  private templateRequest(arg: unknown, signal: AbortSignal): BlockTemplateRequest {
    const request: BlockTemplateRequest = { signal };
    const obj = arg === undefined || arg === null ? {} : arg;
    if (!isRecord(obj)) throw new RpcError(RPC_ERROR.TYPE_ERROR, `JSON value of type ${typeName(obj)} is not of expected type object`);
    const mode = obj["mode"];
    if (mode !== undefined && mode !== null && mode !== "template") {
      throw new RpcError(RPC_ERROR.INVALID_PARAMETER, mode === "proposal" ? "proposal mode is not served by this node" : "Invalid mode");
    }
    const rules = Array.isArray(obj["rules"]) ? obj["rules"] : [];
    if (!rules.includes("segwit")) {
      throw new RpcError(
        RPC_ERROR.INVALID_PARAMETER,
        'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})',
      );
    }
    const lp = obj["longpollid"];
    if (typeof lp === "string") request.longpollId = lp;
    return request;
  }
}
