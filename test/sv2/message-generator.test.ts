// SRI message-generator definitions (../shared/sv2/vectors/sri_message_generator/*.json): every
// message they define must encode, decode back to the same fields and re-encode byte for byte; a
// few are checked against hand-assembled bytes; every frame builder resolves to a message we encode;
// every expected reply type in the actions is a message we know, on the right protocol.
import { describe, expect, test } from "bun:test";
import { bytesToHex } from "@noble/hashes/utils.js";
import { codecOf, decodeFrame, decodePayload, encodeFrame, encodePayload, lookupMessage } from "../../src/sv2/index.ts";
import type { Sv2Message, Sv2MessageType } from "../../src/sv2/index.ts";
import { readSharedJson } from "../helpers/shared.ts";
import { Gen, Prng, randomMessage } from "./samples.ts";

type MgValue = number | string | boolean | MgValue[] | { [k: string]: MgValue };
interface MgMessage {
  message: { type: string; [field: string]: MgValue };
  id: string;
}
interface MgFile {
  common_messages?: MgMessage[];
  mining_messages?: MgMessage[];
  template_distribution_messages?: MgMessage[];
  frame_builders?: { type: string; message_id: string }[];
  actions?: { results: { type: string; value?: MgValue }[] }[];
}

const DIR = ["sv2", "vectors", "sri_message_generator"] as const;
const FILES = [
  "common_messages.json",
  "mining_messages.json",
  "pool-sri-test-1-standard.json",
  "pool-sri-test-close-channel.json",
  "pool-sri-test-extended_0.json",
  "template-provider-mock0.json",
] as const;
const files = new Map<string, MgFile>(FILES.map((f) => [f, readSharedJson<MgFile>(...DIR, f)]));

const U64_FIELDS = new Set(["template_id", "coinbase_tx_value_remaining", "new_shares_sum"]);

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function isNumberArray(v: MgValue): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}

/** MG JSON (snake_case, byte arrays as decimal lists, Option as 0/1-element list) → our message. */
function toMessage(section: "common" | "mining" | "template_distribution", m: MgMessage["message"]): Sv2Message {
  const type = (section === "template_distribution" && m.type === "SetNewPrevHash" ? "SetNewPrevHashTdp" : m.type) as Sv2MessageType;
  const out: Record<string, unknown> = { type };
  for (const [key, value] of Object.entries(m)) {
    if (key === "type") continue;
    let v: unknown = value;
    if (U64_FIELDS.has(key)) v = BigInt(value as number);
    else if (key === "min_ntime" && Array.isArray(value)) v = value.length === 0 ? null : value[0];
    else if (key === "merkle_path") v = (value as number[][]).map((h) => Uint8Array.from(h));
    else if (key === "channel_ids") v = value;
    else if (isNumberArray(value)) v = Uint8Array.from(value);
    out[camel(key)] = v;
  }
  // The older MG format predates group_channel_id (spec 2025-10); 0 means "no group".
  if (type === "OpenExtendedMiningChannelSuccess" && !("groupChannelId" in out)) out.groupChannelId = 0;
  return out as unknown as Sv2Message;
}

interface Defined {
  file: string;
  id: string;
  message: Sv2Message;
}

const defined: Defined[] = [];
for (const [file, content] of files) {
  for (const m of content.common_messages ?? []) defined.push({ file, id: m.id, message: toMessage("common", m.message) });
  for (const m of content.mining_messages ?? []) defined.push({ file, id: m.id, message: toMessage("mining", m.message) });
  for (const m of content.template_distribution_messages ?? []) defined.push({ file, id: m.id, message: toMessage("template_distribution", m.message) });
}

describe("SRI message-generator messages", () => {
  test("all of them are read (6 files, 22 messages)", () => {
    expect(files.size).toBe(6);
    expect(defined.length).toBe(22);
  });

  for (const d of defined) {
    test(`${d.file} :: ${d.id} (${d.message.type}) round-trips byte-exact`, () => {
      const codec = codecOf(d.message.type);
      const payload = encodePayload(d.message);
      expect(decodePayload(codec.msgType, payload, codec.extensionType)).toEqual(d.message);
      const frame = encodeFrame(d.message);
      const { message } = decodeFrame(frame);
      expect(message).toEqual(d.message);
      expect(encodeFrame(message)).toEqual(frame);
    });
  }

  test("hand-assembled bytes", () => {
    const byId = (file: string, id: string): Sv2Message => {
      const d = defined.find((x) => x.file === file && x.id === id);
      if (d === undefined) throw new Error(`${file}::${id} missing`);
      return d.message;
    };
    // protocol 0 | min 2 | max 2 | flags 1 | "" | port 0 | "" "" "" ""
    expect(bytesToHex(encodePayload(byId("common_messages.json", "setup_connection_mining_hom")))).toBe(
      "00" + "0200" + "0200" + "01000000" + "00" + "0000" + "00000000",
    );
    expect(bytesToHex(encodeFrame(byId("pool-sri-test-1-standard.json", "submit_shares")))).toBe(
      "00801a180000" + "01000000" + "00000000" + "00000000" + "b81c85f0" + "b2c94365" + "00000020",
    );
    expect(bytesToHex(encodeFrame(byId("pool-sri-test-close-channel.json", "close_channel")))).toBe(
      "0080181a0000" + "01000000" + "15" + bytesToHex(new TextEncoder().encode("You are a bad friend!")),
    );
    expect(bytesToHex(encodePayload(byId("template-provider-mock0.json", "new_template")))).toBe(
      "1d00000000000000" + "01" + "00000020" + "02000000" + "05034ca32600" + "ffffffff" + "40be402500000000" + "00000000" + "0000" + "00000000" + "00",
    );
    // F32 10.0, 32 × 0x01 max_target, U16 min_extranonce_size 16.
    expect(bytesToHex(encodePayload(byId("pool-sri-test-extended_0.json", "open_extended_mining_channel")))).toBe(
      "5a000000" + "00" + "00002041" + "01".repeat(32) + "1000",
    );
  });

  test("every frame builder names a message we encode", () => {
    let n = 0;
    for (const [file, content] of files) {
      for (const fb of content.frame_builders ?? []) {
        const [refFile, id] = fb.message_id.includes("::")
          ? [fb.message_id.split("::")[0]!.split("/").pop()!, fb.message_id.split("::")[1]!]
          : [file, fb.message_id];
        const d = defined.find((x) => x.file === refFile && x.id === id);
        expect(d).toBeDefined();
        expect(encodeFrame(d!.message).length).toBeGreaterThan(6);
        n++;
      }
    }
    expect(n).toBe(13);
  });

  test("expected reply types and fields are messages we can produce", () => {
    const seen = new Set<string>();
    for (const content of files.values()) {
      for (const action of content.actions ?? []) {
        for (const r of action.results) {
          if (r.type === "match_message_type") {
            const codec = lookupMessage(parseInt(r.value as string, 16), 0);
            expect(codec).toBeDefined();
            seen.add(codec!.name);
          } else if (r.type === "match_message_field") {
            const [, typeName, fields] = r.value as [string, string, [string, Record<string, number>][]];
            const type = typeName as Sv2MessageType;
            const codec = codecOf(type);
            const msg = randomMessage(type, new Gen(new Prng(7))) as unknown as Record<string, unknown>;
            for (const [field, typed] of fields) {
              const [wireType, value] = Object.entries(typed)[0]!;
              expect(camel(field) in msg).toBe(true);
              msg[camel(field)] = value;
              const back = decodePayload(codec.msgType, encodePayload(msg as unknown as Sv2Message)) as unknown as Record<string, unknown>;
              expect(back[camel(field)]).toBe(value);
              expect(["U16", "U32"]).toContain(wireType);
            }
            seen.add(codec.name);
          }
        }
      }
    }
    expect([...seen].sort()).toEqual(
      [
        "CoinbaseOutputConstraints",
        "NewExtendedMiningJob",
        "NewMiningJob",
        "OpenExtendedMiningChannel",
        "OpenExtendedMiningChannel.Success",
        "OpenStandardMiningChannel.Success",
        "SetNewPrevHash",
        "SetupConnection",
        "SetupConnection.Success",
        "SubmitShares.Success",
        "SubmitSolution",
      ].sort(),
    );
  });
});
