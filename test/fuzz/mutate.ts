// Mutators for the fuzz targets: bytes (bit flips, overwrites, truncation, insertion, deletion,
// duplication, splicing, length-field edits), text (characters, tokens, case, splicing, blow-ups)
// and JSON values (dropped fields, changed types, huge arrays, bad hex, odd numbers).
import { concatBytes } from "../../src/bitcoin/bytes.ts";
import type { Prng } from "../sv2/samples.ts";

export const INTERESTING_U8: readonly number[] = [0x00, 0x01, 0x02, 0x0a, 0x20, 0x7b, 0x7f, 0x80, 0xfd, 0xfe, 0xff];
export const INTERESTING_U32: readonly number[] = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xfffe, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

/** A little-endian unsigned length field inside a byte string. */
export interface LengthField {
  offset: number;
  size: 1 | 2 | 3 | 4;
}

export function readLe(b: Uint8Array, f: LengthField): number {
  let v = 0;
  for (let k = f.size - 1; k >= 0; k--) v = v * 256 + (b[f.offset + k] as number);
  return v;
}

export function writeLe(b: Uint8Array, f: LengthField, value: number): void {
  let v = value;
  for (let k = 0; k < f.size; k++) {
    b[f.offset + k] = v & 0xff;
    v = Math.floor(v / 256);
  }
}

export interface ByteMutationOptions {
  /** Other valid inputs to splice with. */
  corpus?: readonly Uint8Array[];
  /** Where the input's length fields are (edited by the length-field mutation). */
  lengthFields?: (bytes: Uint8Array) => LengthField[];
  /** Largest insertion (default 64; a rare "big" insertion goes up to 16x that). */
  maxInsert?: number;
}

export interface Mutated<T> {
  value: T;
  label: string;
}

/** One mutation step on bytes. */
export function mutateBytesOnce(rng: Prng, input: Uint8Array, opts: ByteMutationOptions = {}): Mutated<Uint8Array> {
  const b = input.slice();
  const maxInsert = opts.maxInsert ?? 64;
  switch (rng.int(10)) {
    case 0: {
      const n = 1 + rng.int(4);
      for (let k = 0; k < n && b.length > 0; k++) {
        const i = rng.int(b.length);
        b[i] = (b[i] as number) ^ (1 << rng.int(8));
      }
      return { value: b, label: "bitflip" };
    }
    case 1: {
      const n = 1 + rng.int(4);
      for (let k = 0; k < n && b.length > 0; k++) b[rng.int(b.length)] = rng.bool() ? rng.pick(INTERESTING_U8) : rng.int(256);
      return { value: b, label: "overwrite" };
    }
    case 2:
      return { value: b.slice(0, rng.int(b.length + 1)), label: "truncate" };
    case 3: {
      const at = rng.int(b.length + 1);
      const n = rng.int(16) === 0 ? 1 + rng.int(maxInsert * 16) : 1 + rng.int(maxInsert);
      const ins = rng.bool() ? rng.bytes(n) : new Uint8Array(n).fill(rng.pick(INTERESTING_U8));
      return { value: concatBytes(b.subarray(0, at), ins, b.subarray(at)), label: "insert" };
    }
    case 4: {
      if (b.length === 0) return { value: b, label: "delete(noop)" };
      const at = rng.int(b.length);
      const n = 1 + rng.int(Math.min(32, b.length - at));
      return { value: concatBytes(b.subarray(0, at), b.subarray(at + n)), label: "delete" };
    }
    case 5: {
      if (b.length === 0) return { value: b, label: "duplicate(noop)" };
      const at = rng.int(b.length);
      const piece = b.slice(at, at + 1 + rng.int(Math.min(64, b.length - at)));
      const times = 1 + (rng.int(8) === 0 ? rng.int(200) : rng.int(3));
      const parts: Uint8Array[] = [b.subarray(0, at)];
      for (let k = 0; k < times; k++) parts.push(piece);
      parts.push(b.subarray(at));
      return { value: concatBytes(...parts), label: "duplicate" };
    }
    case 6: {
      const other = opts.corpus !== undefined && opts.corpus.length > 0 ? rng.pick(opts.corpus) : rng.bytes(rng.int(64));
      const cutA = rng.int(b.length + 1);
      const cutB = rng.int(other.length + 1);
      return { value: concatBytes(b.subarray(0, cutA), other.subarray(cutB)), label: "splice" };
    }
    case 7:
    case 8: {
      const fields = opts.lengthFields?.(b) ?? [];
      let f: LengthField | undefined = fields.length > 0 ? rng.pick(fields) : undefined;
      if (f === undefined) {
        if (b.length < 4) return { value: b, label: "length(noop)" };
        f = { offset: rng.int(b.length - 3), size: rng.pick([1, 2, 4] as const) };
      }
      const max = f.size === 4 ? 0xffffffff : 2 ** (8 * f.size) - 1;
      const cur = readLe(b, f);
      const k = rng.int(5);
      const v = k === 0 ? rng.pick(INTERESTING_U32) : k === 1 ? max : k === 2 ? cur + rng.int(9) - 4 : k === 3 ? b.length - f.offset + rng.int(5) - 2 : rng.u32();
      writeLe(b, f, Math.min(max, Math.max(0, v)));
      return { value: b, label: "length" };
    }
    default: {
      if (b.length < 4) return { value: b, label: "u32(noop)" };
      writeLe(b, { offset: rng.int(b.length - 3), size: 4 }, rng.pick(INTERESTING_U32));
      return { value: b, label: "u32" };
    }
  }
}

/** One to four stacked mutations. */
export function mutateBytes(rng: Prng, input: Uint8Array, opts: ByteMutationOptions = {}): Mutated<Uint8Array> {
  let cur = mutateBytesOnce(rng, input, opts);
  const labels = [cur.label];
  const extra = rng.int(4) === 0 ? 1 + rng.int(3) : 0;
  for (let k = 0; k < extra; k++) {
    cur = mutateBytesOnce(rng, cur.value, opts);
    labels.push(cur.label);
  }
  return { value: cur.value, label: labels.join("+") };
}

// ---- text ----------------------------------------------------------------------------------------

/** Characters that tend to break parsers: quotes, brackets, escapes, controls, odd Unicode. */
export const WEIRD_CHARS: readonly string[] = [
  "\u0000", "\u0001", "\t", "\n", "\r", "\r\n", " ", '"', "'", "\\", "[", "]", "{", "}", ",", ":", "=", "#", ".", "-", "+", "0",
  "\u007f", "\u00a0", "\u00e9", "\u200b", "\u202e", "\ufeff", "\ufffd", "\ud800", "\udc00", "\u{1f642}", "€", "ß", "İ",
];

export interface TextMutationOptions {
  /** Characters of the input's own alphabet (replacing with these keeps the input plausible). */
  alphabet?: string;
  /** Tokens of the input's syntax to insert. */
  tokens?: readonly string[];
  corpus?: readonly string[];
}

function randomUnicode(rng: Prng): string {
  const k = rng.int(4);
  if (k === 0) return String.fromCharCode(rng.int(0x80));
  if (k === 1) return String.fromCharCode(0x80 + rng.int(0x780));
  if (k === 2) return String.fromCharCode(rng.int(0x10000));
  return String.fromCodePoint(0x10000 + rng.int(0xfffff));
}

function flipCase(c: string): string {
  const u = c.toUpperCase();
  return u === c ? c.toLowerCase() : u;
}

export function mutateTextOnce(rng: Prng, s: string, opts: TextMutationOptions = {}): Mutated<string> {
  const at = rng.int(s.length + 1);
  const alpha = opts.alphabet ?? "";
  const pickChar = (): string => (alpha.length > 0 && rng.int(3) !== 0 ? (alpha[rng.int(alpha.length)] as string) : rng.bool() ? rng.pick(WEIRD_CHARS) : randomUnicode(rng));
  switch (rng.int(10)) {
    case 0: {
      if (s.length === 0) return { value: pickChar(), label: "replace" };
      const i = rng.int(s.length);
      return { value: s.slice(0, i) + pickChar() + s.slice(i + 1), label: "replace" };
    }
    case 1: {
      const tok = opts.tokens !== undefined && opts.tokens.length > 0 && rng.bool() ? rng.pick(opts.tokens) : pickChar();
      return { value: s.slice(0, at) + tok + s.slice(at), label: "insert" };
    }
    case 2: {
      const n = 1 + rng.int(Math.max(1, Math.min(16, s.length - at)));
      return { value: s.slice(0, at) + s.slice(at + n), label: "delete" };
    }
    case 3:
      return { value: s.slice(0, at), label: "truncate" };
    case 4: {
      if (s.length < 2) return { value: s, label: "swap(noop)" };
      const i = rng.int(s.length - 1);
      return { value: s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2), label: "swap" };
    }
    case 5: {
      if (s.length === 0) return { value: s, label: "case(noop)" };
      const i = rng.int(s.length);
      const n = rng.bool() ? 1 : s.length - i;
      return { value: s.slice(0, i) + [...s.slice(i, i + n)].map(flipCase).join("") + s.slice(i + n), label: "case" };
    }
    case 6: {
      const piece = s.slice(at, at + 1 + rng.int(24));
      const times = rng.int(8) === 0 ? 100 + rng.int(5000) : 2 + rng.int(3);
      return { value: s.slice(0, at) + piece.repeat(times) + s.slice(at), label: "repeat" };
    }
    case 7: {
      const other = opts.corpus !== undefined && opts.corpus.length > 0 ? rng.pick(opts.corpus) : "";
      return { value: s.slice(0, at) + other.slice(rng.int(other.length + 1)), label: "splice" };
    }
    case 8: {
      // Digits and numbers: overflow, signs, exponents.
      const num = rng.pick(["-1", "0", "-0", "1e309", "-1e309", "1e-400", "9007199254740993", "4294967296", "0x1f", "1_000", "NaN", "inf", "+inf", "-nan", "1.5", "00012", "99999999999999999999999999"]);
      return { value: s.slice(0, at) + num + s.slice(at), label: "number" };
    }
    default: {
      const ctl = rng.pick(["\u0000", "\r", "\n", "\n\n", "\u001b[31m", "\ud800", "\ufeff", " ".repeat(1 + rng.int(64))]);
      return { value: s.slice(0, at) + ctl + s.slice(at), label: "control" };
    }
  }
}

export function mutateText(rng: Prng, s: string, opts: TextMutationOptions = {}): Mutated<string> {
  let cur = mutateTextOnce(rng, s, opts);
  const labels = [cur.label];
  const extra = rng.int(3) === 0 ? 1 + rng.int(3) : 0;
  for (let k = 0; k < extra; k++) {
    cur = mutateTextOnce(rng, cur.value, opts);
    labels.push(cur.label);
  }
  return { value: cur.value, label: labels.join("+") };
}

// ---- JSON values --------------------------------------------------------------------------------

/** Numbers a JSON answer may carry that code assuming small non-negative integers may trip on. */
export const ODD_NUMBERS: readonly number[] = [
  -1, -0, 0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e21, 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE,
  Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
];

export function randomScalar(rng: Prng): unknown {
  switch (rng.int(9)) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
      return rng.pick(ODD_NUMBERS);
    case 3:
      return rng.int(1000);
    case 4:
      return rng.u32() * (rng.bool() ? 1 : -1);
    case 5:
      return "";
    case 6: {
      let s = "";
      const n = rng.int(70);
      for (let k = 0; k < n; k++) s += "0123456789abcdefABCDEFxyz "[rng.int(26)];
      return s;
    }
    case 7:
      return undefined;
    default:
      return rng.pick(WEIRD_CHARS).repeat(1 + rng.int(4));
  }
}

export function randomJson(rng: Prng, depth = 3): unknown {
  if (depth <= 0 || rng.int(3) === 0) return randomScalar(rng);
  if (rng.bool()) return Array.from({ length: rng.int(5) }, () => randomJson(rng, depth - 1));
  const o: Record<string, unknown> = {};
  const n = rng.int(5);
  for (let k = 0; k < n; k++) o[rng.pick(["result", "error", "id", "code", "message", "data", "x", ""])] = randomJson(rng, depth - 1);
  return o;
}

type Container = Record<string, unknown> | unknown[];

interface Slot {
  parent: Container;
  key: string | number;
}

function isContainer(v: unknown): v is Container {
  return typeof v === "object" && v !== null;
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isContainer(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = clone(x);
    return o;
  }
  return v;
}

function slots(root: Container, limit = 5000): Slot[] {
  const out: Slot[] = [];
  const stack: Container[] = [root];
  while (stack.length > 0 && out.length < limit) {
    const c = stack.pop() as Container;
    const keys: (string | number)[] = Array.isArray(c) ? c.map((_, i) => i) : Object.keys(c);
    for (const k of keys) {
      out.push({ parent: c, key: k });
      const v = (c as Record<string | number, unknown>)[k];
      if (isContainer(v)) stack.push(v);
    }
  }
  return out;
}

function getSlot(s: Slot): unknown {
  return (s.parent as Record<string | number, unknown>)[s.key];
}

function setSlot(s: Slot, v: unknown): void {
  (s.parent as Record<string | number, unknown>)[s.key] = v;
}

const HEX_DIGITS = "0123456789abcdef";

/** Hex-aware string mutation: odd length, non-hex digits, upper case, empty, huge. */
function mutateHexish(rng: Prng, s: string): string {
  switch (rng.int(8)) {
    case 0:
      return s.slice(0, Math.max(0, s.length - 1));
    case 1:
      return `${s}0`;
    case 2: {
      const i = rng.int(Math.max(1, s.length));
      return s.slice(0, i) + rng.pick(["g", "G", "x", " ", "-", "\u00e9", "0x"]) + s.slice(i + 1);
    }
    case 3:
      return s.toUpperCase();
    case 4:
      return "";
    case 5:
      return s.repeat(2 + rng.int(50));
    case 6: {
      const i = rng.int(Math.max(1, s.length));
      return s.slice(0, i) + HEX_DIGITS[rng.int(16)] + s.slice(i + 1);
    }
    default:
      return `ff${s.slice(2)}`;
  }
}

/** One structure-aware mutation of a JSON-like value (the input is not modified). */
export function mutateJsonOnce(rng: Prng, input: unknown, allowBig = true): Mutated<unknown> {
  const root: Container = { v: clone(input) };
  const all = slots(root);
  const slot = rng.pick(all);
  const cur = getSlot(slot);
  let op = rng.int(9);
  // One blow-up per chain: a huge array inside a huge array would be a generator problem, not an input.
  if (!allowBig && (op === 4 || op === 6)) op = 8;
  switch (op) {
    case 0:
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
      return { value: (root as Record<string, unknown>)["v"], label: "drop" };
    case 1:
      setSlot(slot, randomScalar(rng));
      return { value: (root as Record<string, unknown>)["v"], label: "retype" };
    case 2:
      if (typeof cur === "string") setSlot(slot, mutateHexish(rng, cur));
      else if (typeof cur === "number") setSlot(slot, rng.bool() ? String(cur) : rng.pick(ODD_NUMBERS));
      else setSlot(slot, randomJson(rng, 2));
      return { value: (root as Record<string, unknown>)["v"], label: "value" };
    case 3:
      if (typeof cur === "number") setSlot(slot, rng.pick([-cur, cur + 1, cur - 1, cur * 2 ** 32, cur + 0.5, -1, 2 ** 53 + 2]));
      else setSlot(slot, rng.pick(ODD_NUMBERS));
      return { value: (root as Record<string, unknown>)["v"], label: "number" };
    case 4: {
      // Huge arrays: many copies of an element (or of the whole value).
      const n = rng.int(16) === 0 ? 20_000 + rng.int(30_000) : 100 + rng.int(1000);
      const item = Array.isArray(cur) && cur.length > 0 ? cur[0] : cur;
      setSlot(slot, Array.from({ length: n }, () => item));
      return { value: (root as Record<string, unknown>)["v"], label: "huge-array" };
    }
    case 5:
      setSlot(slot, rng.bool() ? [cur] : { value: cur });
      return { value: (root as Record<string, unknown>)["v"], label: "wrap" };
    case 6: {
      let deep: unknown = cur;
      const n = 10 + rng.int(1000);
      for (let k = 0; k < n; k++) deep = rng.bool() ? [deep] : { a: deep };
      setSlot(slot, deep);
      return { value: (root as Record<string, unknown>)["v"], label: "deep" };
    }
    case 7:
      if (isContainer(cur) && !Array.isArray(cur)) {
        // Own properties, as JSON.parse makes them (a plain assignment to __proto__ would set the prototype).
        Object.defineProperty(cur, rng.pick(["__proto__", "constructor", "toString", "valueOf", "toJSON", "hasOwnProperty", "", "extra"]), {
          value: randomJson(rng, 2),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else setSlot(slot, typeof cur === "string" ? mutateText(rng, cur).value : isContainer(cur) ? "[object]" : String(cur));
      return { value: (root as Record<string, unknown>)["v"], label: "key" };
    default:
      setSlot(slot, randomJson(rng, 3));
      return { value: (root as Record<string, unknown>)["v"], label: "random" };
  }
}

/** `allowBig` false: no huge arrays or deep nesting (for inputs with a small size limit, e.g. one V1 line). */
export function mutateJson(rng: Prng, input: unknown, allowBig = true): Mutated<unknown> {
  let cur = mutateJsonOnce(rng, input, allowBig);
  const labels = [cur.label];
  let big = !allowBig || cur.label === "huge-array" || cur.label === "deep";
  const extra = rng.int(3) === 0 ? 1 + rng.int(3) : 0;
  for (let k = 0; k < extra; k++) {
    cur = mutateJsonOnce(rng, cur.value, !big);
    big ||= cur.label === "huge-array" || cur.label === "deep";
    labels.push(cur.label);
  }
  return { value: cur.value, label: labels.join("+") };
}

/** JSON text for reports (undefined, NaN and cycles shown, long output trimmed). */
export function showJson(v: unknown, max = 1500): string {
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => (typeof x === "number" && !Number.isFinite(x) ? `<${x}>` : x === undefined ? "<undefined>" : x)) ?? String(v);
  } catch (e) {
    s = `<unprintable: ${e instanceof Error ? e.message : String(e)}>`;
  }
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}
