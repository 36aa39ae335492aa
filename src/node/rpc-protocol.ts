/**
 * JSON-RPC as Bitcoin Core speaks it, shared by the client (rpc.ts), the server (rpc-server.ts) and
 * the embedded node: error codes, the typed errors of the node layer, and the HTTP status Core gives
 * each error. Pure: no sockets, files or clock.
 */
import { StratumV2Error, type StratumV2ErrorKind } from "../errors.ts";

/** Bitcoin Core's RPC error codes (src/rpc/protocol.h) that the node layer meets or answers. */
export const RPC_ERROR = {
  MISC_ERROR: -1,
  TYPE_ERROR: -3,
  INVALID_ADDRESS_OR_KEY: -5,
  INVALID_PARAMETER: -8,
  CLIENT_NOT_CONNECTED: -9,
  CLIENT_IN_INITIAL_DOWNLOAD: -10,
  DESERIALIZATION_ERROR: -22,
  VERIFY_ERROR: -25,
  IN_WARMUP: -28,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  PARSE_ERROR: -32700,
} as const;

/**
 * Codes that describe a passing state of the node rather than a wrong request: warming up, in
 * initial block download, without peers (or shutting down). Callers retry these.
 */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  RPC_ERROR.IN_WARMUP,
  RPC_ERROR.CLIENT_IN_INITIAL_DOWNLOAD,
  RPC_ERROR.CLIENT_NOT_CONNECTED,
]);

/**
 * The node answered with a JSON-RPC error object. `code` and `rpcMessage` are kept verbatim so that
 * callers can branch on them (-10 in IBD, -9 not connected, -8 bad parameter, ...).
 */
export class RpcError extends StratumV2Error {
  readonly code: number;
  readonly rpcMessage: string;
  /** The method that failed, when known (empty on the server side). */
  readonly method: string;

  constructor(code: number, rpcMessage: string, method = "") {
    const kind: StratumV2ErrorKind = TRANSIENT_CODES.has(code) ? "PoolConnectionError" : "TemplateError";
    super(kind, `${method === "" ? "" : `${method}: `}node answered error ${code}: ${rpcMessage}`);
    this.name = "RpcError";
    this.code = code;
    this.rpcMessage = rpcMessage;
    this.method = method;
  }

  /** The node is temporarily unable to serve (warm-up, IBD, no peers): retry later. */
  get transient(): boolean {
    return TRANSIENT_CODES.has(this.code);
  }
}

/**
 * Why a request to the node produced no usable answer (other than an RPC error object):
 * - unreachable: no TCP/HTTP exchange (refused, reset, DNS, closed mid-answer)
 * - timeout: no complete answer within the call's timeout
 * - aborted: the caller aborted (shutdown)
 * - auth: HTTP 401/403 or an unreadable cookie file
 * - http: an HTTP error status without a JSON-RPC body (e.g. a proxy's HTML page)
 * - garbage: not JSON, or JSON of the wrong shape
 * - too-large: the answer exceeds the body size cap
 */
export type NodeRequestFailure = "unreachable" | "timeout" | "aborted" | "auth" | "http" | "garbage" | "too-large";

const FAILURE_KIND: Record<NodeRequestFailure, StratumV2ErrorKind> = {
  unreachable: "PoolConnectionError",
  timeout: "PoolConnectionError",
  aborted: "PoolConnectionError",
  auth: "ConfigError",
  http: "PoolConnectionError",
  garbage: "TemplateError",
  "too-large": "TemplateError",
};

export class NodeRequestError extends StratumV2Error {
  readonly failure: NodeRequestFailure;

  constructor(failure: NodeRequestFailure, message: string, cause?: unknown) {
    super(FAILURE_KIND[failure], message, cause === undefined ? undefined : { cause });
    this.name = "NodeRequestError";
    this.failure = failure;
  }
}

/** True when `e` means the caller aborted the request (not a node problem). */
export function isAbortFailure(e: unknown): boolean {
  return e instanceof NodeRequestError && e.failure === "aborted";
}

/**
 * The HTTP status Core gives a JSON-RPC 1.0 error answer (httprpc.cpp): 400 for an invalid request,
 * 404 for an unknown method, 500 for everything else. The body carries the error object either way.
 */
export function httpStatusForRpcError(code: number): number {
  if (code === RPC_ERROR.INVALID_REQUEST) return 400;
  if (code === RPC_ERROR.METHOD_NOT_FOUND) return 404;
  return 500;
}

export interface RpcRequestBody {
  method: string;
  params: unknown[];
  id: unknown;
}

export interface RpcResponseBody {
  result: unknown;
  error: { code: number; message: string } | null;
  id: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Narrows one parsed JSON-RPC request; throws RpcError(-32600) the way Core does for a bad one. */
export function parseRpcRequest(raw: unknown): RpcRequestBody {
  if (!isRecord(raw)) throw new RpcError(RPC_ERROR.INVALID_REQUEST, "Invalid Request object");
  const method = raw["method"];
  if (typeof method !== "string") throw new RpcError(RPC_ERROR.INVALID_REQUEST, "Method must be a string");
  const params = raw["params"];
  // Core accepts a missing/null params as no arguments; named (object) params are not served here.
  if (params !== undefined && params !== null && !Array.isArray(params)) {
    throw new RpcError(RPC_ERROR.INVALID_REQUEST, "Params must be an array");
  }
  return { method, params: Array.isArray(params) ? params : [], id: raw["id"] ?? null };
}

/**
 * Narrows an untrusted JSON-RPC answer to {result, error, id}. Returns a description of what is wrong
 * instead of throwing, so the client can word the error with the URL and method.
 */
export function parseRpcResponse(raw: unknown): RpcResponseBody | string {
  if (!isRecord(raw)) return "the answer is not a JSON object";
  if (!("result" in raw) && !("error" in raw)) return "the answer has neither 'result' nor 'error'";
  const err = raw["error"];
  if (err === null || err === undefined) return { result: raw["result"] ?? null, error: null, id: raw["id"] ?? null };
  if (!isRecord(err) || typeof err["code"] !== "number" || !Number.isInteger(err["code"])) {
    return `the answer's 'error' is not a {code, message} object: ${JSON.stringify(err)?.slice(0, 120)}`;
  }
  const message = typeof err["message"] === "string" ? err["message"] : "";
  return { result: null, error: { code: err["code"], message }, id: raw["id"] ?? null };
}

/** The body Core sends back for one call (JSON-RPC 1.0 shape: both keys always present). */
export function rpcResultBody(id: unknown, result: unknown): RpcResponseBody {
  return { result, error: null, id };
}

export function rpcErrorBody(id: unknown, code: number, message: string): RpcResponseBody {
  return { result: null, error: { code, message }, id };
}

/** A 64-hex-digit block or transaction hash in display order, as RPC uses it. */
export const HASH_HEX = /^[0-9a-f]{64}$/;
