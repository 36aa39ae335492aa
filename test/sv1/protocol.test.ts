// V1 wire conventions against recorded data: ckpool's notifies for regtest templates and p2poolv2's
// notify/submit pairs whose headers hash to known blocks.
import { describe, expect, test } from "bun:test";
import { bytesToHex, displayHexToInternal, hexToBytes, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { difficultyToTarget } from "../../src/bitcoin/target.ts";
import { coinbaseFor, depositBits, shareHeader } from "../../src/miner/sv1-work.ts";
import { Job } from "../../src/pool/jobs.ts";
import { parseGbtResult, templateFromGbt } from "../../src/pool/template.ts";
import {
  LineSplitter,
  NotifyLine,
  SV1_ERROR,
  announcedDifficulty,
  errorLine,
  idJson,
  parseNotify,
  parsePassword,
  parseRequest,
  parseU32Hex,
  prevHashFromSv1,
  prevHashToSv1,
  rejectToSv1,
  resultLine,
  rolledVersion,
  u32Hex,
} from "../../src/server/sv1/protocol.ts";
import { readSharedJson } from "../helpers/shared.ts";

interface NotifyFile {
  params: unknown[];
}

const CKPOOL_DIRS = ["one-txn", "two-txns", "three-txns", "four-txns"] as const;
const CKPOOL_BRANCHES: Record<(typeof CKPOOL_DIRS)[number], number> = { "one-txn": 1, "two-txns": 2, "three-txns": 2, "four-txns": 3 };

describe("ckpool regtest notifies", () => {
  for (const dir of CKPOOL_DIRS) {
    test(`${dir}: our notify has ckpool's prevhash, branches, version and nbits`, () => {
      const gbt = readSharedJson<Record<string, unknown>>("bitcoin/gbt/regtest-ckpool", dir, "gbt.json");
      const notify = readSharedJson<NotifyFile>("bitcoin/gbt/regtest-ckpool", dir, "notify.json");
      const [, ckPrev, , , ckBranches, ckVersion, ckBits] = notify.params as [string, string, string, string, string[], string, string];
      const template = templateFromGbt(parseGbtResult(gbt), 1);
      expect(prevHashToSv1(displayHexToInternal(gbt["previousblockhash"] as string))).toBe(ckPrev);
      expect(internalToDisplayHex(prevHashFromSv1(ckPrev))).toBe(gbt["previousblockhash"] as string);

      const job = new Job(77, template, { payouts: [{ script: Uint8Array.of(0x51), percent: 100, address: "anyone-can-spend" }], tag: new TextEncoder().encode("sv2pool") });
      job.activate(template.prevHash, template.curtime, template.bits, template.target);
      const line = new NotifyLine(job, 12, true);
      const ours = JSON.parse(new TextDecoder().decode(line.shared)) as { id: null; method: string; params: unknown[] };
      expect(ours.method).toBe("mining.notify");
      expect(ours.id).toBeNull();
      expect(ours.params[0]).toBe("4d");
      expect(ours.params[1]).toBe(ckPrev);
      expect(ours.params[4]).toEqual(ckBranches);
      expect((ours.params[4] as string[]).length).toBe(CKPOOL_BRANCHES[dir]);
      expect(ours.params[5]).toBe(ckVersion);
      expect(ours.params[6]).toBe(ckBits);
      expect(ours.params[7]).toBe(u32Hex(template.curtime));
      expect(ours.params[8]).toBe(true);
      // coinb1 ‖ extranonce (12 bytes) ‖ coinb2 is the job's coinbase (non-witness serialization).
      const parsed = parseNotify(ours.params);
      const parts = job.coinbase(12);
      expect(bytesToHex(parsed.coinb1)).toBe(bytesToHex(parts.prefix));
      expect(bytesToHex(parsed.coinb2)).toBe(bytesToHex(parts.suffix));
      const en = hexToBytes("000000010203040506070809");
      expect(bytesToHex(coinbaseFor(parsed, en.subarray(0, 4), en.subarray(4)))).toBe(bytesToHex(new Uint8Array([...parts.prefix, ...en, ...parts.suffix])));
      // The insert variant puts the hex at the end of coinb1 and nothing else changes.
      const inserted = JSON.parse(new TextDecoder().decode(line.withInsert(new TextEncoder().encode("0a0b0c0d")))) as { params: unknown[] };
      expect(inserted.params[2]).toBe(`${bytesToHex(parts.prefix)}0a0b0c0d`);
      expect(inserted.params.slice(3)).toEqual(ours.params.slice(3));
    });
  }
});

describe("p2poolv2 signet shares", () => {
  // Each directory: a notify, the miner's extranonce1 (subscribe answer) and a submit that is a block.
  const cases = [
    { dir: "a", hash: "00000000848122e3a6c318528787230e74dc9dc9624b0cb7957df018e941fec8", mask: undefined },
    { dir: "b", hash: "000000000822bbfaf34d53fc43d0c1382054d3aafe31893020c315db8b0a19f9", mask: undefined },
    { dir: "with_version_rolling", hash: "0000000000cdd305efb7cb9d86c7dc8eccf504a32fdf781ea053f87b6f5b3642", mask: 0x1fffe000 },
  ];
  for (const c of cases) {
    test(`${c.dir}: header rebuilt from notify + submit hashes to the recorded block`, () => {
      const base = "bitcoin/gbt/signet-p2poolv2/stratum";
      const notify = parseNotify(readSharedJson<NotifyFile>(base, c.dir, "notify.json").params);
      const sub = readSharedJson<{ result: [unknown, string, number] }>(base, c.dir, "authorize_response.json");
      const submit = readSharedJson<{ params: string[] }>(base, c.dir, "submit.json").params;
      expect(submit[1]).toBe(notify.jobId);
      const en2 = hexToBytes(submit[2] as string);
      expect(en2.length).toBe(sub.result[2]);
      const versionBits = submit[5] === undefined ? undefined : parseU32Hex(submit[5]);
      const r = shareHeader(notify, {
        extranonce1: hexToBytes(sub.result[1]),
        extranonce2: en2,
        ntime: parseU32Hex(submit[3]) as number,
        nonce: parseU32Hex(submit[4]) as number,
        ...(versionBits === undefined || versionBits === null ? {} : { versionBits, versionMask: c.mask }),
      });
      expect(internalToDisplayHex(r.hash)).toBe(c.hash);
      if (c.mask !== undefined) expect(u32Hex(r.version)).toBe("283ac000");
    });
  }

  test("mining.configure answer of the recording negotiates the pool's mask", () => {
    const vr = readSharedJson<{ request: { params: [string[], Record<string, string>] }; response: { result: Record<string, unknown> } }>(
      "bitcoin/gbt/signet-p2poolv2/stratum/with_version_rolling/version_rolling.json",
    );
    const miner = parseU32Hex(vr.request.params[1]["version-rolling.mask"]) as number;
    expect(u32Hex((miner & 0x1fffe000) >>> 0)).toBe(vr.response.result["version-rolling.mask"] as string);
  });
});

describe("wire helpers", () => {
  test("u32 hex is 8 digits big-endian; parsing takes 1..8 hex digits only", () => {
    expect(u32Hex(0)).toBe("00000000");
    expect(u32Hex(0x20000000)).toBe("20000000");
    expect(u32Hex(0xffffffff)).toBe("ffffffff");
    expect(parseU32Hex("58f90070")).toBe(0x58f90070);
    expect(parseU32Hex("ABCDEF01")).toBe(0xabcdef01);
    expect(parseU32Hex("1")).toBe(1);
    expect(parseU32Hex("123456789")).toBeNull();
    expect(parseU32Hex("")).toBeNull();
    expect(parseU32Hex("0x12")).toBeNull();
    expect(parseU32Hex(12)).toBeNull();
  });

  test("BIP310 rolled version keeps the job's bits outside the mask", () => {
    expect(rolledVersion(0x20000000, 0x1fffe000, 0x083ac000)).toBe(0x283ac000);
    expect(rolledVersion(0x20000004, 0x1fffe000, 0xffffffff)).toBe(0x3fffe004);
    expect(rolledVersion(0x20002000, 0x1fffe000, 0)).toBe(0x20000000);
    expect(depositBits(0b101, 0x1fffe000)).toBe(0x0000a000);
    expect(depositBits(0xffffffff, 0x1fffe000)).toBe(0x1fffe000);
  });

  test("ids of any JSON type are echoed verbatim", () => {
    expect(idJson(7)).toBe("7");
    expect(idJson("abc")).toBe('"abc"');
    expect(idJson(null)).toBe("null");
    expect(idJson(undefined)).toBe("null");
    expect(idJson({ a: [1, "x"] })).toBe('{"a":[1,"x"]}');
    expect(idJson(1.5)).toBe("1.5");
    expect(resultLine('"abc"', true)).toBe('{"id":"abc","result":true,"error":null}\n');
    expect(errorLine("3", { code: SV1_ERROR.DUPLICATE, message: "Duplicate share" })).toBe('{"id":3,"result":null,"error":[22,"Duplicate share",null]}\n');
    expect(parseRequest('{"id":{"k":1},"method":"mining.subscribe","params":["x"],"extra":true}')).toEqual({ id: '{"k":1}', method: "mining.subscribe", params: ["x"] });
    expect(parseRequest('{"id":1,"method":"mining.extranonce.subscribe"}')).toEqual({ id: "1", method: "mining.extranonce.subscribe", params: [] });
    expect(parseRequest("[1,2]")).toBeNull();
    expect(parseRequest('{"id":1}')).toBeNull();
    expect(() => parseRequest("not json")).toThrow(SyntaxError);
  });

  test("share rejections map to the codes V1 pools use", () => {
    expect(rejectToSv1("stale-share").code).toBe(21);
    expect(rejectToSv1("invalid-job-id").code).toBe(21);
    expect(rejectToSv1("duplicate-share").code).toBe(22);
    expect(rejectToSv1("difficulty-too-low").code).toBe(23);
    expect(rejectToSv1("invalid-channel-id").code).toBe(24);
    expect(rejectToSv1("invalid-share", "ntime-too-old")).toEqual({ code: 20, message: "Invalid share (ntime-too-old)" });
    expect(rejectToSv1("rate-limited")).toEqual({ code: 20, message: "Too many shares" });
  });

  test("password options: d= and its aliases; anything else ignored", () => {
    expect(parsePassword("d=0.5")).toEqual({ difficulty: 0.5 });
    expect(parsePassword("x")).toEqual({});
    expect(parsePassword("foo=bar,d=1000")).toEqual({ difficulty: 1000 });
    expect(parsePassword("sd=64")).toEqual({ difficulty: 64 });
    expect(parsePassword("d=0")).toEqual({});
    expect(parsePassword("d=-1")).toEqual({});
    expect(parsePassword(undefined)).toEqual({});
  });

  test("announced difficulty never gives the miner an easier target than the channel's", () => {
    for (const d of [1e-8, 1e-6, 0.001, 0.5, 1, 3.7, 1024, 65536.123, 1e12]) {
      const target = difficultyToTarget(d);
      const a = announcedDifficulty(target, Number((d * (1 - 1e-14)).toPrecision(17)));
      expect(difficultyToTarget(a) <= target).toBe(true);
    }
    expect(announcedDifficulty(difficultyToTarget(1e-6), 9.9999999999997e-7)).toBe(0.000001);
    expect(announcedDifficulty(difficultyToTarget(1024), 1023.9999999999998)).toBe(1024);
  });
});

describe("line splitter", () => {
  const collect = (s: LineSplitter, chunks: string[]): { lines: string[]; ok: boolean } => {
    const lines: string[] = [];
    let ok = true;
    for (const c of chunks) {
      ok = s.push(new TextEncoder().encode(c), (l) => {
        lines.push(l);
        return true;
      });
      if (!ok) break;
    }
    return { lines, ok };
  };

  test("LF and CRLF, several lines per chunk, lines split across chunks, empty lines skipped", () => {
    const r = collect(new LineSplitter(100), ['{"a":1}\r\n{"b"', ':2}\n\n\r\n{"c":3}', "\r", "\n"]);
    expect(r).toEqual({ lines: ['{"a":1}', '{"b":2}', '{"c":3}'], ok: true });
  });

  test("a line over the limit is refused, complete or still growing", () => {
    expect(collect(new LineSplitter(8), ["12345678\n"]).ok).toBe(true);
    expect(collect(new LineSplitter(8), ["123456789\n"]).ok).toBe(false);
    const s = new LineSplitter(8);
    expect(collect(s, ["12345", "6789"]).ok).toBe(false);
  });

  test("the callback can stop the processing of a chunk", () => {
    const s = new LineSplitter(100);
    const seen: string[] = [];
    s.push(new TextEncoder().encode("a\nb\nc\n"), (l) => {
      seen.push(l);
      return l !== "b";
    });
    expect(seen).toEqual(["a", "b"]);
  });
});
