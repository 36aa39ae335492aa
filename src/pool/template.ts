/**
 * Block templates: the pool's normalized view of a getblocktemplate answer.
 *
 * Bitcoin Core and the embedded node both answer getblocktemplate with the same JSON, and both go
 * through `templateFromGbt`, so the path real farms use is the path the tests exercise. The answer is
 * untrusted input (a node may answer garbage): every field is checked and a bad answer becomes a
 * TemplateError that names the field, never a crash deeper in the pool.
 */
import { displayHexToInternal, hexToBytes } from "../bitcoin/bytes.ts";
import { coinbaseMerklePath } from "../bitcoin/merkle.ts";
import { nbitsToTarget } from "../bitcoin/target.ts";
import { StratumV2Error } from "../errors.ts";

/** One transaction of a getblocktemplate answer, as Bitcoin Core sends it. */
export interface GbtTransaction {
  data: string;
  txid?: string;
  hash?: string;
  depends?: number[];
  fee?: number;
  sigops?: number;
  weight?: number;
}

/** The fields of a getblocktemplate answer that the pool uses (Core sends more; they are ignored). */
export interface GetBlockTemplateResult {
  version: number;
  rules?: string[];
  previousblockhash: string;
  transactions: GbtTransaction[];
  coinbaseaux?: Record<string, string>;
  coinbasevalue: number;
  longpollid?: string;
  target?: string;
  mintime?: number;
  curtime: number;
  bits: string;
  height: number;
  default_witness_commitment?: string;
}

export interface TemplateTransaction {
  /** Raw serialization as the node gave it (with witness when it has one). */
  data: Uint8Array;
  /** Internal byte order. */
  txid: Uint8Array;
  fee: number;
  weight: number;
}

/** A template ready for job building. Hashes are in internal byte order (see docs/DESIGN.md). */
export interface BlockTemplate {
  /** Pool-local sequence number, increasing. */
  id: number;
  height: number;
  version: number;
  prevHash: Uint8Array;
  bits: number;
  /** Network target from `bits`. */
  target: bigint;
  curtime: number;
  mintime: number;
  /** Total the coinbase may pay (subsidy + fees), in satoshi. */
  coinbaseValue: bigint;
  transactions: TemplateTransaction[];
  /** Coinbase merkle branch (siblings, deepest first). */
  merklePath: Uint8Array[];
  /** The OP_RETURN script of the witness commitment, when the block needs one. */
  witnessCommitmentScript: Uint8Array | null;
  /** coinbaseaux flags the node asks to put in the scriptSig (usually empty). */
  coinbaseAux: Uint8Array;
  longpollId: string | null;
  /**
   * True for the empty "next block" template the pool prepares ahead of a tip change, so that a new
   * block costs only a SetNewPrevHash (the full template follows as a normal job).
   */
  speculative: boolean;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function bad(field: string, why: string): StratumV2Error {
  return StratumV2Error.template(`getblocktemplate answer: ${field} ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function uint(obj: Record<string, unknown>, field: string, max: number): number {
  const v = obj[field];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw bad(field, `must be an integer in 0..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function hexField(obj: Record<string, unknown>, field: string, bytes?: number): string {
  const v = obj[field];
  if (typeof v !== "string" || !HEX.test(v) || (bytes !== undefined && v.length !== bytes * 2)) {
    const size = bytes === undefined ? "" : ` of ${bytes} bytes`;
    throw bad(field, `must be a hex string${size}, got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v;
}

/** Checks an untrusted getblocktemplate answer and narrows it to the fields the pool relies on. */
export function parseGbtResult(raw: unknown): GetBlockTemplateResult {
  if (!isRecord(raw)) throw bad("result", "is not a JSON object");
  const version = uint(raw, "version", 0xffffffff);
  const height = uint(raw, "height", 0x7fffffff);
  const curtime = uint(raw, "curtime", 0xffffffff);
  const coinbasevalue = uint(raw, "coinbasevalue", 21_000_000 * 100_000_000);
  const previousblockhash = hexField(raw, "previousblockhash", 32);
  const bits = hexField(raw, "bits", 4);
  const txs = raw["transactions"];
  if (!Array.isArray(txs)) throw bad("transactions", "must be an array");
  const transactions: GbtTransaction[] = txs.map((t: unknown, i: number) => {
    if (!isRecord(t)) throw bad(`transactions[${i}]`, "is not an object");
    const data = hexField(t, "data");
    if (data.length === 0) throw bad(`transactions[${i}].data`, "is empty");
    const tx: GbtTransaction = { data };
    // Core ≥ 0.13 sends txid (and hash = wtxid); 0.12-era templates only send hash (= txid).
    if (t["txid"] !== undefined) tx.txid = hexField(t, "txid", 32);
    if (t["hash"] !== undefined) tx.hash = hexField(t, "hash", 32);
    if (tx.txid === undefined && tx.hash === undefined) throw bad(`transactions[${i}]`, "has neither txid nor hash");
    if (t["fee"] !== undefined) tx.fee = uint(t, "fee", 21_000_000 * 100_000_000);
    if (t["weight"] !== undefined) tx.weight = uint(t, "weight", 4_000_000);
    if (t["sigops"] !== undefined) tx.sigops = uint(t, "sigops", 80_000);
    return tx;
  });
  const result: GetBlockTemplateResult = { version, previousblockhash, transactions, coinbasevalue, curtime, bits, height };
  if (raw["mintime"] !== undefined) result.mintime = uint(raw, "mintime", 0xffffffff);
  if (raw["longpollid"] !== undefined) {
    if (typeof raw["longpollid"] !== "string") throw bad("longpollid", "must be a string");
    result.longpollid = raw["longpollid"];
  }
  if (raw["default_witness_commitment"] !== undefined) {
    result.default_witness_commitment = hexField(raw, "default_witness_commitment");
  }
  if (raw["target"] !== undefined) result.target = hexField(raw, "target", 32);
  if (Array.isArray(raw["rules"])) result.rules = raw["rules"].filter((r: unknown): r is string => typeof r === "string");
  const aux = raw["coinbaseaux"];
  if (isRecord(aux)) {
    const flags: Record<string, string> = {};
    for (const [k, v] of Object.entries(aux)) {
      if (typeof v !== "string" || !HEX.test(v)) throw bad(`coinbaseaux.${k}`, "must be a hex string");
      flags[k] = v;
    }
    result.coinbaseaux = flags;
  }
  return result;
}

/**
 * Builds the pool's template from a (checked) getblocktemplate answer.
 * `id` is the pool's own sequence number for templates.
 */
export function templateFromGbt(gbt: GetBlockTemplateResult, id: number): BlockTemplate {
  const bits = Number.parseInt(gbt.bits, 16);
  let target: bigint;
  try {
    target = nbitsToTarget(bits);
  } catch (e) {
    throw bad("bits", `is not a valid compact target: ${(e as Error).message}`);
  }
  if (gbt.target !== undefined && BigInt(`0x${gbt.target}`) !== target) {
    throw bad("target", `disagrees with bits ${gbt.bits}`);
  }
  const transactions: TemplateTransaction[] = gbt.transactions.map((t) => ({
    data: hexToBytes(t.data),
    txid: displayHexToInternal((t.txid ?? t.hash) as string),
    fee: t.fee ?? 0,
    weight: t.weight ?? (t.data.length / 2) * 4,
  }));
  const commitment = gbt.default_witness_commitment;
  const auxHex = Object.values(gbt.coinbaseaux ?? {}).join("");
  return {
    id,
    height: gbt.height,
    version: gbt.version,
    prevHash: displayHexToInternal(gbt.previousblockhash),
    bits,
    target,
    curtime: gbt.curtime,
    mintime: gbt.mintime ?? gbt.curtime,
    coinbaseValue: BigInt(gbt.coinbasevalue),
    transactions,
    merklePath: coinbaseMerklePath(transactions.map((t) => t.txid)),
    witnessCommitmentScript: commitment !== undefined && commitment.length > 0 ? hexToBytes(commitment) : null,
    coinbaseAux: hexToBytes(auxHex),
    longpollId: gbt.longpollid ?? null,
    speculative: false,
  };
}
