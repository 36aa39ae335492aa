/**
 * Stratum V1 wire conventions, pure and shared by the V1 listener and the V1 miner client.
 *
 * V1 is line-delimited JSON-RPC. Its byte-order conventions, as cgminer, ckpool and every ASIC
 * firmware use them:
 * - `prevhash` is the header's prev hash (internal order) with each of its eight 4-byte words
 *   byte-reversed (checked against recorded ckpool and p2poolv2 notifies in test/sv1);
 * - coinb1, coinb2 and the merkle branches are plain hex of the bytes (internal order);
 * - version, nbits, ntime (in notify and submit) and the submitted nonce are the u32 as 8 hex
 *   digits, big-endian: the header stores them little-endian;
 * - the 6th submit parameter carries the rolled version bits (BIP310).
 */
import { bytesToHex, hexToBytes } from "../../bitcoin/bytes.ts";
import { difficultyToTarget } from "../../bitcoin/target.ts";
import { StratumV2Error } from "../../errors.ts";
import type { Job } from "../../pool/jobs.ts";
import type { ShareRejectReason } from "../../pool/stats.ts";

/** JSON-RPC error codes as ckpool and most V1 pools send them. */
export const SV1_ERROR = {
  OTHER: 20,
  JOB_NOT_FOUND: 21,
  DUPLICATE: 22,
  LOW_DIFFICULTY: 23,
  UNAUTHORIZED: 24,
  NOT_SUBSCRIBED: 25,
} as const;

export type Sv1ErrorCode = (typeof SV1_ERROR)[keyof typeof SV1_ERROR];

export interface Sv1Error {
  code: Sv1ErrorCode;
  message: string;
}

/** The V1 answer to a share the pool core refused. */
export function rejectToSv1(reason: ShareRejectReason, detail?: string): Sv1Error {
  switch (reason) {
    case "stale-share":
      return { code: SV1_ERROR.JOB_NOT_FOUND, message: "Stale share (job not found)" };
    case "invalid-job-id":
      return { code: SV1_ERROR.JOB_NOT_FOUND, message: detail === "future-job" ? "Job not active yet" : "Job not found" };
    case "duplicate-share":
      return { code: SV1_ERROR.DUPLICATE, message: "Duplicate share" };
    case "difficulty-too-low":
      return { code: SV1_ERROR.LOW_DIFFICULTY, message: "Low difficulty share" };
    case "invalid-channel-id":
      return { code: SV1_ERROR.UNAUTHORIZED, message: "Unauthorized worker" };
    case "bad-extranonce-size":
      return { code: SV1_ERROR.OTHER, message: "Invalid extranonce2 size" };
    case "invalid-share":
      return { code: SV1_ERROR.OTHER, message: detail === undefined ? "Invalid share" : `Invalid share (${detail})` };
    case "version-rolling-not-allowed":
    case "invalid-non-rollable-version-bit":
      return { code: SV1_ERROR.OTHER, message: "Invalid version bits" };
    case "rate-limited":
      return { code: SV1_ERROR.OTHER, message: "Too many shares" };
  }
}

// ---- numbers and hashes ------------------------------------------------------------------------

const HEX_U32 = /^[0-9a-fA-F]{1,8}$/;
const HEX_EVEN = /^(?:[0-9a-fA-F]{2})*$/;

/** A u32 as V1 sends it: 8 hex digits, big-endian. */
export function u32Hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** Parses a V1 u32 (1..8 hex digits, big-endian); null when it is not one. */
export function parseU32Hex(v: unknown): number | null {
  if (typeof v !== "string" || !HEX_U32.test(v)) return null;
  return Number.parseInt(v, 16) >>> 0;
}

/** Parses hex of exactly `bytes` bytes; null otherwise. */
export function parseHexBytes(v: unknown, bytes: number): Uint8Array | null {
  if (typeof v !== "string" || v.length !== bytes * 2 || !HEX_EVEN.test(v)) return null;
  return hexToBytes(v);
}

/** V1 job ids are the pool's numeric job id in lowercase hex. */
export function jobIdToSv1(id: number): string {
  return (id >>> 0).toString(16);
}

export function parseSv1JobId(v: unknown): number | null {
  return parseU32Hex(v);
}

/** Swaps the bytes inside each 4-byte word (the V1 prevhash convention; its own inverse). */
export function swapWords(bytes: Uint8Array): Uint8Array {
  if (bytes.length % 4 !== 0) throw StratumV2Error.protocol(`word swap needs a multiple of 4 bytes, got ${bytes.length}`);
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3] as number;
    out[i + 1] = bytes[i + 2] as number;
    out[i + 2] = bytes[i + 1] as number;
    out[i + 3] = bytes[i] as number;
  }
  return out;
}

/** Header prev hash (internal order) → V1 notify prevhash hex. */
export function prevHashToSv1(prevHash: Uint8Array): string {
  return bytesToHex(swapWords(prevHash));
}

/** V1 notify prevhash hex → header prev hash (internal order). */
export function prevHashFromSv1(hex: string): Uint8Array {
  const b = parseHexBytes(hex, 32);
  if (b === null) throw StratumV2Error.protocol(`notify prevhash must be 64 hex digits, got ${JSON.stringify(hex).slice(0, 80)}`);
  return swapWords(b);
}

/**
 * The difficulty to announce with mining.set_difficulty for a channel target: the smallest double
 * whose target is not above the channel's, so a share meeting the miner's target always meets the
 * pool's (difficulty ↔ target conversions round; the miner must never get the easier side).
 */
export function announcedDifficulty(target: bigint, difficulty: number): number {
  // A short decimal first (the channel usually got a round difficulty that the conversion blurred).
  for (const digits of [6, 12, 15]) {
    const d = Number(difficulty.toPrecision(digits));
    if (d >= difficulty * (1 - 1e-9) && d > 0 && difficultyToTarget(d) <= target) return d;
  }
  let d = difficulty;
  for (let step = Number.EPSILON; difficultyToTarget(d) > target; step *= 2) d = difficulty * (1 + step);
  return d;
}

// ---- version rolling (BIP310) ---------------------------------------------------------------------

/** Header version for submitted rolled bits: the job's bits outside the mask, the miner's inside. */
export function rolledVersion(jobVersion: number, mask: number, bits: number): number {
  return ((jobVersion & ~mask) | (bits & mask)) >>> 0;
}

/** Population count of a u32 (BIP310 min-bit-count). */
export function bitCount(n: number): number {
  let v = n >>> 0;
  let c = 0;
  while (v !== 0) {
    v &= v - 1;
    c++;
  }
  return c;
}

// ---- JSON-RPC lines -------------------------------------------------------------------------------

/** The request id as JSON text, echoed verbatim (firmware sends numbers, strings, even objects). */
export function idJson(id: unknown): string {
  if (id === undefined) return "null";
  const s = JSON.stringify(id);
  return s === undefined ? "null" : s;
}

export function resultLine(id: string, result: unknown): string {
  return `{"id":${id},"result":${JSON.stringify(result)},"error":null}\n`;
}

export function errorLine(id: string, e: Sv1Error): string {
  return `{"id":${id},"result":null,"error":[${e.code},${JSON.stringify(e.message)},null]}\n`;
}

export function notificationLine(method: string, params: readonly unknown[]): string {
  return `{"id":null,"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}\n`;
}

/** A parsed request line: method and params (ids of any JSON type, extra fields ignored). */
export interface Sv1Request {
  id: string;
  method: string;
  params: unknown[];
}

/** A parsed line from the pool: a response (id + result/error) or a notification (method). */
export type Sv1Incoming =
  | { kind: "response"; id: unknown; result: unknown; error: unknown }
  | { kind: "notification"; method: string; params: unknown[] };

/** Parses a request; null when the line is JSON but not a request object. Throws SyntaxError on non-JSON. */
export function parseRequest(line: string): Sv1Request | null {
  const msg: unknown = JSON.parse(line);
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return null;
  const o = msg as Record<string, unknown>;
  const method = o["method"];
  if (typeof method !== "string") return null;
  const params = o["params"];
  return { id: idJson(o["id"]), method, params: Array.isArray(params) ? params : params === undefined || params === null ? [] : [params] };
}

/** Parses a line from the pool (client side). Throws SyntaxError on non-JSON; null on other shapes. */
export function parseIncoming(line: string): Sv1Incoming | null {
  const msg: unknown = JSON.parse(line);
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return null;
  const o = msg as Record<string, unknown>;
  const method = o["method"];
  if (typeof method === "string") {
    const params = o["params"];
    return { kind: "notification", method, params: Array.isArray(params) ? params : [] };
  }
  if ("result" in o || "error" in o) return { kind: "response", id: o["id"], result: o["result"], error: o["error"] ?? null };
  return null;
}

/** Splits a byte stream into lines (LF or CRLF), refusing any line longer than `maxLineBytes`. */
export class LineSplitter {
  private pending: Uint8Array | null = null;
  private readonly decoder = new TextDecoder();

  constructor(readonly maxLineBytes: number) {}

  /**
   * Feeds a chunk; calls `onLine` for every complete non-empty line until it returns false.
   * Returns false when a line (complete or still growing) exceeds the limit: the caller closes.
   */
  push(chunk: Uint8Array, onLine: (line: string) => boolean): boolean {
    let buf = chunk;
    if (this.pending !== null) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending, 0);
      joined.set(chunk, this.pending.length);
      buf = joined;
      this.pending = null;
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      let end = nl;
      if (end > start && buf[end - 1] === 13) end--;
      if (end - start > this.maxLineBytes) return false;
      const lineStart = start;
      start = nl + 1;
      if (end > lineStart && !onLine(this.decoder.decode(buf.subarray(lineStart, end)))) return true;
    }
    if (buf.length - start > this.maxLineBytes) return false;
    // Copy: the runtime may reuse the chunk's memory for the next read.
    if (start < buf.length) this.pending = buf.slice(start);
    return true;
  }

  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }
}

// ---- mining.notify --------------------------------------------------------------------------------

const encoder = new TextEncoder();

/**
 * The mining.notify line for one job, built once and written to every session. The coinbase parts
 * are the same for all V1 sessions (every session's extranonce region has the same length), so the
 * line is identical for sessions whose extranonce1 covers the whole pool-assigned part; sessions that
 * carry part of it in coinb1 get the same bytes with that part's hex inserted at the end of coinb1.
 */
export class NotifyLine {
  /** Up to the end of coinb1. */
  readonly head: Uint8Array;
  /** From the end of coinb1 to the newline. */
  readonly tail: Uint8Array;
  /** head ‖ tail: the line for sessions with nothing to insert. */
  readonly shared: Uint8Array;

  constructor(job: Job, extranonceLength: number, readonly clean: boolean) {
    if (job.prevHash === null) throw StratumV2Error.pool(`job ${job.id} is not active: V1 has no future jobs`);
    const parts = job.coinbase(extranonceLength);
    const branches = job.merklePath.map((b) => `"${bytesToHex(b)}"`).join(",");
    const ntime = job.minNtime ?? job.template.curtime;
    this.head = encoder.encode(
      `{"id":null,"method":"mining.notify","params":["${jobIdToSv1(job.id)}","${prevHashToSv1(job.prevHash)}","${bytesToHex(parts.prefix)}`,
    );
    this.tail = encoder.encode(`","${bytesToHex(parts.suffix)}",[${branches}],"${u32Hex(job.version)}","${u32Hex(job.bits)}","${u32Hex(ntime)}",${clean}]}\n`);
    this.shared = new Uint8Array(this.head.length + this.tail.length);
    this.shared.set(this.head, 0);
    this.shared.set(this.tail, this.head.length);
  }

  /** The line with `insert` (ASCII hex) appended to coinb1. */
  withInsert(insert: Uint8Array): Uint8Array {
    if (insert.length === 0) return this.shared;
    const out = new Uint8Array(this.head.length + insert.length + this.tail.length);
    out.set(this.head, 0);
    out.set(insert, this.head.length);
    out.set(this.tail, this.head.length + insert.length);
    return out;
  }
}

/** mining.notify params, decoded (client side and tests). */
export interface Sv1Notify {
  jobId: string;
  /** Internal byte order (un-swapped). */
  prevHash: Uint8Array;
  coinb1: Uint8Array;
  coinb2: Uint8Array;
  merkleBranches: Uint8Array[];
  version: number;
  nbits: number;
  ntime: number;
  cleanJobs: boolean;
}

export function parseNotify(params: readonly unknown[]): Sv1Notify {
  const [jobId, prev, coinb1, coinb2, branches, version, nbits, ntime, clean] = params;
  const bad = (what: string): StratumV2Error => StratumV2Error.protocol(`mining.notify: bad ${what}`);
  if (typeof jobId !== "string" || jobId.length === 0) throw bad("job_id");
  if (typeof prev !== "string") throw bad("prevhash");
  if (typeof coinb1 !== "string" || !HEX_EVEN.test(coinb1)) throw bad("coinb1");
  if (typeof coinb2 !== "string" || !HEX_EVEN.test(coinb2)) throw bad("coinb2");
  if (!Array.isArray(branches)) throw bad("merkle_branch");
  const merkleBranches = branches.map((b: unknown) => {
    const bytes = parseHexBytes(b, 32);
    if (bytes === null) throw bad("merkle_branch entry");
    return bytes;
  });
  const v = parseU32Hex(version);
  const n = parseU32Hex(nbits);
  const t = parseU32Hex(ntime);
  if (v === null) throw bad("version");
  if (n === null) throw bad("nbits");
  if (t === null) throw bad("ntime");
  return {
    jobId,
    prevHash: prevHashFromSv1(prev),
    coinb1: hexToBytes(coinb1),
    coinb2: hexToBytes(coinb2),
    merkleBranches,
    version: v,
    nbits: n,
    ntime: t,
    cleanJobs: clean === true,
  };
}

// ---- authorize password, configure ---------------------------------------------------------------

/**
 * Options miners put in the password field: `d=0.5`, `x`, `d=1000,foo=bar`, `sd=64`. Only the
 * difficulty matters to the pool; anything else is ignored.
 */
export function parsePassword(password: unknown): { difficulty?: number } {
  if (typeof password !== "string") return {};
  for (const part of password.split(/[,;\s]+/)) {
    const m = /^(?:d|diff|sd|difficulty)=([0-9.eE+-]+)$/.exec(part);
    if (m !== null) {
      const d = Number(m[1]);
      if (Number.isFinite(d) && d > 0) return { difficulty: d };
    }
  }
  return {};
}

/** A positive finite difficulty from JSON (number or numeric string), else null. */
export function parseDifficulty(v: unknown): number | null {
  const d = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(d) && d > 0 ? d : null;
}

export interface ConfigureRequest {
  extensions: string[];
  options: Record<string, unknown>;
}

/** mining.configure params: [[extension names], {"ext.param": value}]. */
export function parseConfigure(params: readonly unknown[]): ConfigureRequest | null {
  const [names, opts] = params;
  if (!Array.isArray(names)) return null;
  const extensions = names.filter((n: unknown): n is string => typeof n === "string");
  const options = typeof opts === "object" && opts !== null && !Array.isArray(opts) ? (opts as Record<string, unknown>) : {};
  return { extensions, options };
}
