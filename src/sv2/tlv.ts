/**
 * The seed design's TLV envelope (blvm-stratum-v2 `protocol.rs`: `TlvEncoder` / `TlvDecoder`).
 *
 * This is the seed's own container for handing a message to its module host — it is NOT part of the
 * SV2 wire protocol (SV2 frames are in frame.ts; SV2's extension TLV fields are in extension-tlv.ts).
 * Layout, all lengths unsigned little-endian (as in the seed's `to_le_bytes` / `from_le_bytes`):
 *
 *   [u32 outer length][u16 tag][u32 payload length][payload]
 *
 * The outer length covers everything after itself: the tag, the inner length and the payload,
 * i.e. `payload.length + 6`. The seed's decoder reads and ignores it; ours checks that it agrees with
 * the inner length and throws otherwise. `decodeRaw` takes the form without the outer length
 * (`[tag][payload length][payload]`) and, like the seed, ignores bytes after the payload.
 */
import { Reader, Writer } from "./codec.ts";
import { Sv2CodecError } from "./errors.ts";

/** Bytes of tag + inner length. */
export const TLV_HEADER_SIZE = 6;
/** Bytes of the outer length prefix. */
export const TLV_LENGTH_PREFIX_SIZE = 4;
const MAX_TLV_PAYLOAD = 0xffffffff - TLV_HEADER_SIZE;
const NAME = "TLV";

/** `(tag, payload)`, as the seed's decoder returns. */
export type TlvMessage = readonly [tag: number, payload: Uint8Array];

export class TlvEncoder {
  /** `[4-byte length][2-byte tag][4-byte length][payload]`. */
  encode(tag: number, payload: Uint8Array): Uint8Array {
    if (!(payload instanceof Uint8Array)) throw new Sv2CodecError("invalid-value", NAME, "payload", 0, "not a Uint8Array");
    if (payload.length > MAX_TLV_PAYLOAD) throw new Sv2CodecError("too-long", NAME, "payload", 0, `${payload.length} bytes do not fit a u32 length`);
    const w = new Writer(TLV_LENGTH_PREFIX_SIZE + TLV_HEADER_SIZE + payload.length, 0, NAME);
    w.u32(TLV_HEADER_SIZE + payload.length, "length");
    w.u16(tag, "tag");
    w.u32(payload.length, "payloadLength");
    w.fixedBytes(payload, "payload");
    return w.finish();
  }
}

function readTlvBody(r: Reader): TlvMessage {
  const tag = r.u16("tag");
  const len = r.u32("payloadLength");
  return [tag, r.fixedBytes(len, "payload")];
}

/** Reads consecutive length-prefixed envelopes from one buffer, like the seed's cursor-based decoder. */
export class TlvDecoder {
  private readonly reader: Reader;

  constructor(data: Uint8Array) {
    this.reader = new Reader(data, 0, data.length, NAME);
  }

  /** Bytes not consumed yet. */
  get remaining(): number {
    return this.reader.remaining;
  }

  /** The next `[length][tag][length][payload]` envelope → `[tag, payload]` (payload copied). */
  decode(): TlvMessage {
    const r = this.reader;
    const at = r.offset;
    const outer = r.u32("length");
    const start = r.offset;
    const msg = readTlvBody(r);
    if (outer !== r.offset - start) {
      r.offset = at;
      throw new Sv2CodecError("invalid-value", NAME, "length", at, `outer length ${outer} disagrees with tag + length + ${msg[1].length}-byte payload`);
    }
    return msg;
  }

  /** `[tag][length][payload]` without the outer length; bytes after the payload are ignored (as in the seed). */
  static decodeRaw(data: Uint8Array): TlvMessage {
    return readTlvBody(new Reader(data, 0, data.length, NAME));
  }
}
