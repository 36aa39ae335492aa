/**
 * Bitcoin Core JSON-RPC client over HTTP (fetch).
 *
 * Speaks JSON-RPC 1.0 as Core does (errors come back as HTTP 500/404/400 with a JSON body), with
 * basic auth from rpcuser/rpcpassword or from Core's cookie file. The cookie is re-read when Core
 * answers 401, because Core writes a new one at every start. Every failure is typed:
 * `RpcError` when the node answered an error object, `NodeRequestError` (with `failure`) otherwise.
 */
import { readFile } from "node:fs/promises";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import { StratumV2Error } from "../errors.ts";
import { NodeRequestError, parseRpcResponse, RpcError } from "./rpc-protocol.ts";

export type RpcAuth = { kind: "cookie"; cookieFile: string } | { kind: "userpass"; user: string; password: string };

export interface RpcClientOptions {
  /** http://host:port (Core's default mainnet port is 8332). Credentials in the URL are not used. */
  url: string;
  auth: RpcAuth;
  /** Default per-call timeout. */
  timeoutMs?: number;
  /** Largest answer accepted; a full mainnet template is a few MB of hex. */
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface RpcCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_RPC_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The URL without credentials, for messages and logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

function basicHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

function describeCause(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

export class RpcClient {
  readonly url: string;
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly logger: Logger;
  private nextId = 1;
  /** Cached Authorization header; for cookie auth, null until the cookie has been read. */
  private authHeader: string | null = null;

  constructor(private readonly options: RpcClientOptions) {
    this.url = redactUrl(options.url);
    const u = new URL(options.url);
    u.username = "";
    u.password = "";
    this.endpoint = u.toString();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.logger = options.logger ?? silentLogger;
    if (options.auth.kind === "userpass") this.authHeader = basicHeader(options.auth.user, options.auth.password);
  }

  /** Which credentials are in use, for messages (never the secret). */
  describeAuth(): string {
    const auth = this.options.auth;
    return auth.kind === "cookie" ? `the cookie file ${auth.cookieFile}` : `rpcuser "${auth.user}"`;
  }

  private async readCookie(method: string): Promise<string> {
    const auth = this.options.auth;
    if (auth.kind !== "cookie") throw StratumV2Error.config("RpcClient: cookie read without cookie auth");
    let text: string;
    try {
      text = await readFile(auth.cookieFile, "utf8");
    } catch (e) {
      throw new NodeRequestError(
        "auth",
        `${method}: cannot read the RPC cookie file ${auth.cookieFile}: ${describeCause(e)} ` +
          "(bitcoind writes it at startup in its datadir, e.g. ~/.bitcoin/.cookie or ~/.bitcoin/testnet3/.cookie; " +
          "is the node running, and can the pool's user read it?)",
        e,
      );
    }
    const line = text.trim();
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new NodeRequestError("auth", `${method}: the RPC cookie file ${auth.cookieFile} is not "user:password" (is it Core's .cookie?)`);
    }
    return basicHeader(line.slice(0, colon), line.slice(colon + 1));
  }

  /**
   * Calls `method` and returns its `result`. Throws RpcError for an error answer, NodeRequestError
   * for everything else.
   */
  async call(method: string, params: unknown[] = [], options: RpcCallOptions = {}): Promise<unknown> {
    if (this.authHeader === null) this.authHeader = await this.readCookie(method);
    const first = await this.exchange(method, params, options, this.authHeader);
    if (first.status !== 401 || this.options.auth.kind !== "cookie") return this.interpret(method, first);
    // Core rewrites the cookie at every start: a 401 with an old cookie means "read it again".
    const fresh = await this.readCookie(method);
    if (fresh === this.authHeader) return this.interpret(method, first);
    this.authHeader = fresh;
    this.logger.info("RPC cookie changed (node restarted?); using the new one", { url: this.url });
    return this.interpret(method, await this.exchange(method, params, options, fresh));
  }

  private async exchange(
    method: string,
    params: unknown[],
    options: RpcCallOptions,
    authHeader: string,
  ): Promise<{ status: number; contentType: string; body: string }> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const callerSignal = options.signal;
    const onCallerAbort = (): void => controller.abort();
    if (callerSignal !== undefined) {
      if (callerSignal.aborted) controller.abort();
      else callerSignal.addEventListener("abort", onCallerAbort, { once: true });
    }
    const id = this.nextId++;
    const fail = (e: unknown, during: string): NodeRequestError => {
      if (timedOut) {
        return new NodeRequestError("timeout", `${method}: no answer from ${this.url} within ${timeoutMs} ms`, e);
      }
      if (callerSignal?.aborted === true) return new NodeRequestError("aborted", `${method}: request to ${this.url} aborted`, e);
      if (e instanceof NodeRequestError) return e;
      return new NodeRequestError(
        "unreachable",
        `${method}: cannot reach Bitcoin Core at ${this.url} (${during}): ${describeCause(e)}`,
        e,
      );
    };
    try {
      let response: Response;
      try {
        response = await fetch(this.endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: authHeader },
          body: JSON.stringify({ jsonrpc: "1.0", id, method, params }),
          signal: controller.signal,
        });
      } catch (e) {
        throw fail(e, "connect");
      }
      let body: string;
      try {
        body = await this.readBody(method, response);
      } catch (e) {
        throw fail(e, "reading the answer");
      }
      return { status: response.status, contentType: response.headers.get("content-type") ?? "", body };
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
    }
  }

  private async readBody(method: string, response: Response): Promise<string> {
    const declared = Number(response.headers.get("content-length") ?? "NaN");
    const tooLarge = (): NodeRequestError =>
      new NodeRequestError("too-large", `${method}: the answer from ${this.url} is larger than ${this.maxBodyBytes} bytes`);
    if (declared > this.maxBodyBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    if (response.body === null) return "";
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > this.maxBodyBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
    return new TextDecoder().decode(all);
  }

  private interpret(method: string, answer: { status: number; contentType: string; body: string }): unknown {
    const { status, body } = answer;
    if (status === 401) {
      const how =
        this.options.auth.kind === "cookie"
          ? "point node.rpc_cookie_file at the .cookie in this node's datadir (network subdirectory included)"
          : "check node.rpc_user / node.rpc_password against rpcuser/rpcpassword or rpcauth in bitcoin.conf";
      throw new NodeRequestError("auth", `${method}: ${this.url} rejected ${this.describeAuth()} (HTTP 401): ${how}`);
    }
    if (status === 403) {
      throw new NodeRequestError(
        "auth",
        `${method}: ${this.url} refused the pool's address (HTTP 403): allow it with rpcallowip (and rpcbind) in bitcoin.conf`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      const snippet = JSON.stringify(body.slice(0, 80));
      if (status !== 200) {
        throw new NodeRequestError(
          "http",
          `${method}: ${this.url} answered HTTP ${status} without a JSON-RPC body (${answer.contentType || "no content-type"}): ${snippet}`,
        );
      }
      throw new NodeRequestError("garbage", `${method}: ${this.url} answered something that is not JSON (${body.length} bytes): ${snippet}`);
    }
    const shaped = parseRpcResponse(parsed);
    if (typeof shaped === "string") {
      throw new NodeRequestError("garbage", `${method}: ${this.url} answered malformed JSON-RPC (HTTP ${status}): ${shaped}`);
    }
    if (shaped.error !== null) throw new RpcError(shaped.error.code, shaped.error.message, method);
    if (status !== 200) {
      throw new NodeRequestError("http", `${method}: ${this.url} answered HTTP ${status} with a result and no error`);
    }
    return shaped.result;
  }
}
