/**
 * The operator's HTTP endpoint (Bun.serve, 127.0.0.1 by default): the JSON API, /metrics in the
 * Prometheus text format, /healthz for supervisors and load balancers, and the dashboard page.
 *
 * With a token configured, /api/* and /metrics need `Authorization: Bearer <token>`; /healthz and the
 * dashboard page stay open (the page asks for the token and sends it with its API calls). Nothing a
 * client sends can take the process down: every request runs inside a catch-all that answers 500.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { StratumV2Error } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PoolService } from "../server/pool-service.ts";
import { blocksView, blockView, hashrateSeries, healthView, poolView, workerByName, workersPage, type PoolInfo } from "./api.ts";
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from "./dashboard.ts";
import { HttpMetrics } from "./metrics.ts";

export type { PoolInfo } from "./api.ts";

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port (see the address `start` returns). */
  port: number;
  /** When non-empty, the API and /metrics require this bearer token. */
  token?: string;
  /** Called per request, so addresses bound after the HTTP server are current. */
  info: () => PoolInfo;
}

export interface HttpAddress {
  host: string;
  port: number;
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Defaults and bounds of the query parameters. */
const DEFAULT_BLOCKS = 100;
const MAX_BLOCKS = 10_000;
/** Largest `limit` of /api/workers (without one, every worker is listed). */
const MAX_WORKERS_PAGE = 100_000;
const DEFAULT_MINUTES = 60;
const MAX_MINUTES = 30 * 24 * 60;

const COMMON_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function cspHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

/** The page may run exactly its own inline script and style, and talk only to this server. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${cspHash(DASHBOARD_JS)}`,
  `style-src ${cspHash(DASHBOARD_CSS)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** A client mistake answered as JSON with its status. */
class HttpError extends StratumV2Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super("ServerError", message);
    this.name = "HttpError";
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...COMMON_HEADERS, "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** An integer query parameter within [min, max]; absent = `fallback`; anything else is a 400. */
function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new HttpError(400, `${name} must be a whole number between ${min} and ${max}`);
  return Math.min(max, Math.max(min, Number(raw)));
}

function decodeSegment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `bad percent-encoding in the ${what}`);
  }
}

export class HttpServer {
  private server: ReturnType<typeof Bun.serve> | null = null;
  private readonly metrics: HttpMetrics;
  private readonly tokenDigest: Buffer | null;
  private readonly logger: Logger;

  constructor(
    private readonly service: PoolService,
    private readonly options: HttpServerOptions,
  ) {
    this.logger = service.logger.child({ component: "http" });
    this.tokenDigest = options.token === undefined || options.token === "" ? null : digest(options.token);
    this.metrics = new HttpMetrics(service, () => {
      const i = options.info();
      return { version: i.version, network: i.network, startedAtMs: i.startedAtMs };
    });
  }

  /** The bound address, or null when not listening. */
  get address(): HttpAddress | null {
    const s = this.server;
    if (s === null || s.port === undefined) return null;
    return { host: s.hostname ?? this.options.host, port: s.port };
  }

  async start(): Promise<HttpAddress> {
    if (this.server !== null) throw StratumV2Error.server("HTTP server already started");
    try {
      this.server = Bun.serve({
        hostname: this.options.host,
        port: this.options.port,
        fetch: (req) => this.handle(req),
        // Bun calls this when `fetch` throws; `handle` already catches, so this is the last guard.
        error: (e) => {
          this.logger.error("request failed", { error: e.message });
          return json(500, { error: "internal error" });
        },
      });
    } catch (e) {
      throw new StratumV2Error("ServerError", `cannot listen for HTTP on ${this.options.host}:${this.options.port}: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    const addr = this.address as HttpAddress;
    this.logger.info("HTTP API and dashboard listening", {
      url: `http://${addr.host.includes(":") ? `[${addr.host}]` : addr.host}:${addr.port}/`,
      auth: this.tokenDigest === null ? "none" : "bearer token",
    });
    return addr;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s !== null) await s.stop(true);
  }

  /** One request to one response; never throws. */
  handle(req: Request): Response {
    let route = "other";
    let res: Response;
    try {
      const url = new URL(req.url);
      const path = url.pathname.length > 1 && url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
      route = routeName(path);
      if (req.method !== "GET" && req.method !== "HEAD") {
        throw new HttpError(405, `method ${req.method.slice(0, 16)} not allowed; use GET`, { allow: "GET, HEAD" });
      }
      if (path === "/metrics" || path === "/api" || path.startsWith("/api/")) this.authorize(req);
      res = this.route(route, path, url);
    } catch (e) {
      if (e instanceof HttpError) {
        res = json(e.status, { error: e.message }, e.headers);
      } else {
        this.logger.error("request failed", { route, error: e instanceof Error ? e.message : String(e) });
        res = json(500, { error: "internal error" });
      }
    }
    this.metrics.requests.inc(1, { route, code: String(res.status) });
    // Bun drops the body of a HEAD response itself and keeps the headers.
    return res;
  }

  private authorize(req: Request): void {
    if (this.tokenDigest === null) return;
    const header = req.headers.get("authorization") ?? "";
    const m = /^Bearer +(\S+) *$/i.exec(header);
    // Comparing digests keeps the comparison constant-time whatever length the client sends.
    if (m === null || !timingSafeEqual(digest(m[1] as string), this.tokenDigest)) {
      throw new HttpError(401, "a bearer token is required (Authorization: Bearer <token>)", { "www-authenticate": 'Bearer realm="sv2pool"' });
    }
  }

  private route(route: string, path: string, url: URL): Response {
    const s = this.service;
    switch (route) {
      case "/":
        return new Response(DASHBOARD_HTML, {
          headers: { ...COMMON_HEADERS, "content-type": "text/html; charset=utf-8", "content-security-policy": DASHBOARD_CSP, "x-frame-options": "DENY" },
        });
      case "/healthz": {
        const h = healthView(s);
        return json(h.ok ? 200 : 503, h);
      }
      case "/metrics":
        this.metrics.refresh();
        return new Response(s.metrics.render(), { headers: { ...COMMON_HEADERS, "content-type": PROMETHEUS_CONTENT_TYPE } });
      case "/api/pool":
        return json(200, poolView(s, this.options.info(), this.listenText()));
      case "/api/workers": {
        // All of them by default (as since the start); `limit` for the busiest N (the dashboard's table).
        const page = workersPage(s, url.searchParams.has("limit") ? intParam(url, "limit", MAX_WORKERS_PAGE, 1, MAX_WORKERS_PAGE) : Number.POSITIVE_INFINITY);
        return json(200, { nowMs: s.clock.nowMs(), total: page.total, silent: page.silent, workers: page.workers });
      }
      case "/api/workers/:name": {
        const name = decodeSegment(path.slice("/api/workers/".length), "worker name");
        const worker = workerByName(s, name);
        if (worker === null) throw new HttpError(404, `unknown worker ${JSON.stringify(name.slice(0, 200))}`);
        const minutes = intParam(url, "minutes", DEFAULT_MINUTES, 1, MAX_MINUTES);
        return json(200, { nowMs: s.clock.nowMs(), worker, history: hashrateSeries(s, minutes, name) });
      }
      case "/api/blocks":
        return json(200, { blocks: blocksView(s, intParam(url, "limit", DEFAULT_BLOCKS, 1, MAX_BLOCKS)) });
      case "/api/blocks/:hash": {
        const hash = decodeSegment(path.slice("/api/blocks/".length), "block hash").toLowerCase();
        const rec = /^[0-9a-f]{64}$/.test(hash) ? s.ledger.getBlock(hash) : undefined;
        if (rec === undefined) throw new HttpError(404, "unknown block");
        return json(200, { block: { ...blockView(rec), blockHex: rec.blockHex } });
      }
      case "/api/hashrate":
        return json(200, hashrateSeries(s, intParam(url, "minutes", DEFAULT_MINUTES, 1, MAX_MINUTES)));
      default:
        throw new HttpError(404, "not found");
    }
  }

  private listenText(): string | null {
    const a = this.address;
    if (a === null) return null;
    return `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
  }
}

/** The route a path belongs to: the metric label and the switch key (never the raw path). */
function routeName(path: string): string {
  switch (path) {
    case "/":
    case "/healthz":
    case "/metrics":
    case "/api/pool":
    case "/api/workers":
    case "/api/blocks":
    case "/api/hashrate":
      return path;
  }
  if (path.startsWith("/api/workers/") && path.length > "/api/workers/".length) return "/api/workers/:name";
  if (path.startsWith("/api/blocks/") && path.length > "/api/blocks/".length) return "/api/blocks/:hash";
  return "other";
}
