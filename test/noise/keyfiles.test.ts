// Key files on disk: modes, round trips, refusals (world-readable secret, wrong kind, tampering).
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  formatAuthorityKeyFile,
  readAuthorityKeyFile,
  readPublicKeyFile,
  readStaticKeyFile,
  writeAuthorityKeyFile,
  writePublicKeyFile,
  writeStaticKeyFile,
} from "../../src/server/keyfiles.ts";
import { StratumV2Error } from "../../src/errors.ts";
import { generateAuthorityKeyPair } from "../../src/noise/keys.ts";
import { randomSecretKey } from "../../src/noise/ellswift.ts";
import { seededRandom } from "./helpers.ts";

const root = mkdtempSync(join(tmpdir(), "sv2pool-keyfiles-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string): number => statSync(path).mode & 0o777;

function errorOf(fn: () => unknown): StratumV2Error | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof StratumV2Error) return e;
    throw e;
  }
}

describe("key files", () => {
  const rng = seededRandom(2024);
  const pair = generateAuthorityKeyPair(rng);

  test("authority key: file 0600 in a new 0700 directory, read back identical", () => {
    const dir = join(root, "keys-a");
    const path = join(dir, "authority.key");
    writeAuthorityKeyFile(path, pair);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    const back = readAuthorityKeyFile(path);
    expect(bytesToHex(back.secret)).toBe(bytesToHex(pair.secret));
    expect(bytesToHex(back.xonly)).toBe(bytesToHex(pair.xonly));
    expect(readFileSync(path, "utf8")).toBe(formatAuthorityKeyFile(pair));
  });

  test("the SRI default key pair has the documented text form", () => {
    // authority_keys.json, sri_default_pool_authority
    const secret = hexToBytes("65995eb19631f478a46ffa5cf1e545091efe950eaeac7482ffdc06eb6a89f697");
    const xonly = hexToBytes("24ee3c3804a1aaa4c03b80ea19f7a5863c916e8994b7db94a3bad7ee092b6ce7");
    const text = formatAuthorityKeyFile({ secret, xonly });
    expect(text).toContain("secret: mkDLTBBRxdBv998612qipDYoTK3YUrqLe8uWw7gu3iXbSrn2n\n");
    expect(text).toContain("public: 9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72\n");
    expect(text).toContain("kind: authority\n");
  });

  test("a group- or world-readable secret file is refused with the chmod that fixes it", () => {
    const path = join(root, "keys-b", "authority.key");
    writeAuthorityKeyFile(path, pair);
    for (const loose of [0o644, 0o640, 0o604, 0o660]) {
      chmodSync(path, loose);
      const err = errorOf(() => readAuthorityKeyFile(path));
      expect(err?.kind).toBe("ConfigError");
      expect(err?.message).toContain(`chmod 600 ${path}`);
      expect(err?.message).toContain(`mode 0${loose.toString(8)}`);
    }
    chmodSync(path, 0o400);
    expect(bytesToHex(readAuthorityKeyFile(path).secret)).toBe(bytesToHex(pair.secret));
  });

  test("static key round trip; kinds are not interchangeable", () => {
    const staticSecret = randomSecretKey(rng);
    const path = join(root, "keys-c", "static.key");
    writeStaticKeyFile(path, staticSecret);
    expect(mode(path)).toBe(0o600);
    expect(bytesToHex(readStaticKeyFile(path))).toBe(bytesToHex(staticSecret));
    expect(errorOf(() => readAuthorityKeyFile(path))?.message).toContain("holds a static key, expected authority");
  });

  test("existing keys are not overwritten unless asked", () => {
    const path = join(root, "keys-d", "authority.key");
    writeAuthorityKeyFile(path, pair);
    const other = generateAuthorityKeyPair(rng);
    expect(errorOf(() => writeAuthorityKeyFile(path, other))?.message).toContain("refusing to overwrite");
    writeAuthorityKeyFile(path, other, { overwrite: true });
    expect(bytesToHex(readAuthorityKeyFile(path).xonly)).toBe(bytesToHex(other.xonly));
    expect(mode(path)).toBe(0o600);
  });

  test("malformed files: public key not matching, unknown field, bad checksum, missing file", () => {
    const dir = join(root, "keys-e");
    writeAuthorityKeyFile(join(dir, "a.key"), pair);
    const text = readFileSync(join(dir, "a.key"), "utf8");
    const other = generateAuthorityKeyPair(rng);
    const swapped = formatAuthorityKeyFile(other).split("\n").find((l) => l.startsWith("public:")) as string;
    const cases: [string, string, string][] = [
      ["mismatch.key", text.replace(/^public: .*$/m, swapped), "does not match"],
      ["unknown.key", `${text}colour: blue\n`, 'unknown field "colour"'],
      ["checksum.key", text.replace(/^secret: (.*)(.)$/m, (_m, a: string, b: string) => `secret: ${a}${b === "1" ? "2" : "1"}`), "checksum"],
    ];
    for (const [name, body, expected] of cases) {
      const path = join(dir, name);
      writeFileSync(path, body, { mode: 0o600 });
      expect(errorOf(() => readAuthorityKeyFile(path))?.message).toContain(expected);
    }
    expect(errorOf(() => readAuthorityKeyFile(join(dir, "absent.key")))?.message).toContain("sv2pool keygen");
  });

  test("public key file is shareable (0644) and reads back", () => {
    const path = join(root, "keys-f", "authority.pub");
    writePublicKeyFile(path, pair.xonly);
    expect(mode(path)).toBe(0o644);
    expect(bytesToHex(readPublicKeyFile(path))).toBe(bytesToHex(pair.xonly));
  });
});
