/**
 * Key files: the pool's authority key pair and its Noise static key, written by `sv2pool keygen`
 * and read at start-up.
 *
 * Format (UTF-8 text, one `name: value` per line; `#` starts a comment; unknown names are refused
 * so a typo cannot silently drop a field):
 *
 *   # sv2pool authority key …
 *   sv2pool-key-file: 1
 *   kind: authority            (or: static)
 *   secret: <base58check of the 32-byte secret, the form SRI configs use>
 *   public: <base58check of 0x01 0x00 ‖ x-only key, the string miners put in the pool URL>
 *
 * `public` is only in authority files; when present it must match the secret. A public key file
 * (`*.pub`) holds just the public string and a comment, and is not secret.
 *
 * Secret files are created with mode 0600 inside a directory created with mode 0700; a secret
 * file that group or others can read is refused with the chmod that fixes it.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { StratumV2Error } from "../errors.ts";
import {
  authorityPublicKey,
  decodeAuthorityPublicKey,
  decodeSecretKey,
  encodeAuthorityPublicKey,
  encodeSecretKey,
} from "../noise/keys.ts";
import type { AuthorityKeyPair } from "../noise/keys.ts";

export const KEY_FILE_VERSION = "1";
export type KeyFileKind = "authority" | "static";

const FIELDS = new Set(["sv2pool-key-file", "kind", "secret", "public"]);

export interface WriteKeyFileOptions {
  /** Replace an existing file (default: refuse, so keygen never destroys a key by accident). */
  readonly overwrite?: boolean;
}

/** Text of an authority key file. */
export function formatAuthorityKeyFile(pair: AuthorityKeyPair): string {
  return [
    "# sv2pool authority key pair. The secret signs the pool's Noise certificates: keep this file private (mode 0600).",
    "# Miners need only the public key, e.g. stratum2+tcp://<host>:<port>/<public>",
    `sv2pool-key-file: ${KEY_FILE_VERSION}`,
    "kind: authority",
    `secret: ${encodeSecretKey(pair.secret)}`,
    `public: ${encodeAuthorityPublicKey(pair.xonly)}`,
    "",
  ].join("\n");
}

/** Text of a static (Noise) key file. */
export function formatStaticKeyFile(secret: Uint8Array): string {
  return [
    "# sv2pool Noise static key: the pool's long-lived handshake key, certified by the authority key.",
    "# Keep this file private (mode 0600).",
    `sv2pool-key-file: ${KEY_FILE_VERSION}`,
    "kind: static",
    `secret: ${encodeSecretKey(secret)}`,
    "",
  ].join("\n");
}

/** Text of a public key file (shareable). */
export function formatPublicKeyFile(xonly: Uint8Array): string {
  return `# sv2pool authority public key (give this to miners)\n${encodeAuthorityPublicKey(xonly)}\n`;
}

function configError(path: string, message: string, cause?: unknown): StratumV2Error {
  return new StratumV2Error("ConfigError", `${path}: ${message}`, cause === undefined ? undefined : { cause });
}

/** Parses key file text; `path` only labels errors. */
export function parseKeyFile(text: string, path: string, expected: KeyFileKind): { secret: Uint8Array; publicXonly: Uint8Array | null } {
  const fields = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    if (colon < 0) throw configError(path, `line ${i + 1}: expected "name: value"`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!FIELDS.has(name)) throw configError(path, `line ${i + 1}: unknown field "${name}"`);
    if (fields.has(name)) throw configError(path, `line ${i + 1}: "${name}" appears twice`);
    fields.set(name, value);
  });
  const version = fields.get("sv2pool-key-file");
  if (version !== KEY_FILE_VERSION) throw configError(path, `not an sv2pool key file (version ${version ?? "missing"}, expected ${KEY_FILE_VERSION})`);
  const kind = fields.get("kind");
  if (kind !== expected) throw configError(path, `holds a ${kind ?? "unknown"} key, expected ${expected}`);
  const secretText = fields.get("secret");
  if (secretText === undefined) throw configError(path, "no secret line");
  let secret: Uint8Array;
  try {
    secret = decodeSecretKey(secretText);
  } catch (e) {
    throw configError(path, `secret: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const publicText = fields.get("public");
  let publicXonly: Uint8Array | null = null;
  if (publicText !== undefined) {
    try {
      publicXonly = decodeAuthorityPublicKey(publicText);
    } catch (e) {
      throw configError(path, `public: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    const derived = authorityPublicKey(secret);
    if (!derived.every((b, i) => b === publicXonly?.[i])) throw configError(path, "public key does not match the secret key");
  }
  return { secret, publicXonly };
}

/** Creates the parent directory (mode 0700) when missing; an existing directory is left as it is. */
function ensureDirectory(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Writes through a temporary file and rename, so a crash never leaves a half-written key. */
function writeFileAtomically(path: string, text: string, mode: number, opts: WriteKeyFileOptions): void {
  ensureDirectory(path);
  if (!opts.overwrite && existsSync(path)) throw configError(path, "already exists; refusing to overwrite a key (remove it first or pass overwrite)");
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, "wx", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // The umask may have removed bits from `mode`; it can never have added any, but be explicit.
    chmodSync(temp, mode);
    renameSync(temp, path);
  } catch (e) {
    if (existsSync(temp)) unlinkSync(temp);
    throw e;
  }
}

/** Refuses a secret key file that group or others can access. */
export function assertPrivateFile(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw configError(
      path,
      `secret key file is accessible by group/others (mode ${mode.toString(8).padStart(4, "0")}); fix it with: chmod 600 ${path}`,
    );
  }
}

function readSecretFile(path: string): string {
  if (!existsSync(path)) throw configError(path, "key file not found (create one with `sv2pool keygen`)");
  assertPrivateFile(path);
  return readFileSync(path, "utf8");
}

export function writeAuthorityKeyFile(path: string, pair: AuthorityKeyPair, opts: WriteKeyFileOptions = {}): void {
  writeFileAtomically(path, formatAuthorityKeyFile(pair), 0o600, opts);
}

export function readAuthorityKeyFile(path: string): AuthorityKeyPair {
  const { secret, publicXonly } = parseKeyFile(readSecretFile(path), path, "authority");
  return { secret, xonly: publicXonly ?? authorityPublicKey(secret) };
}

export function writeStaticKeyFile(path: string, secret: Uint8Array, opts: WriteKeyFileOptions = {}): void {
  writeFileAtomically(path, formatStaticKeyFile(secret), 0o600, opts);
}

export function readStaticKeyFile(path: string): Uint8Array {
  return parseKeyFile(readSecretFile(path), path, "static").secret;
}

export function writePublicKeyFile(path: string, xonly: Uint8Array, opts: WriteKeyFileOptions = {}): void {
  writeFileAtomically(path, formatPublicKeyFile(xonly), 0o644, opts);
}

export function readPublicKeyFile(path: string): Uint8Array {
  const lines = readFileSync(path, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  if (lines.length !== 1) throw configError(path, `expected one public key line, found ${lines.length}`);
  try {
    return decodeAuthorityPublicKey(lines[0] as string);
  } catch (e) {
    throw configError(path, e instanceof Error ? e.message : String(e), e);
  }
}
