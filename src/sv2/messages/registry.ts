/**
 * The message registry and the top-level codec API: every message is found by
 * (extension id, msg_type) for decoding and by its `type` discriminant for encoding.
 *
 * Decoding is strict by default: unknown (extension, msg_type) and bytes left after the last field
 * are `Sv2CodecError`s. SRI ignores trailing bytes (that is how TLV extension fields ride after a
 * message); `decodePayloadWithTrailing` gives them back for callers that negotiated extensions.
 * The channel_msg bit is not checked on input (SRI ≤ v1.9.0 sends SetCustomMiningJob* without it)
 * and is set from the table of spec 08 on output.
 */
import { Reader, Writer } from "../codec.ts";
import { Sv2CodecError } from "../errors.ts";
import { EXTENSION_ID_MASK, FRAME_HEADER_SIZE, MAX_PAYLOAD_SIZE, decodeFrameHeader, writeFrameHeader } from "../frame.ts";
import type { FrameHeader } from "../frame.ts";
import type { MessageCodec } from "./define.ts";
import { COMMON_CODECS } from "./common.ts";
import type { CommonMessage } from "./common.ts";
import { MINING_CODECS } from "./mining.ts";
import type { MiningMessage } from "./mining.ts";
import { JOB_DECLARATION_CODECS } from "./job-declaration.ts";
import type { JobDeclarationMessage } from "./job-declaration.ts";
import { CoinbaseOutput0x70Codec, TEMPLATE_DISTRIBUTION_CODECS } from "./template-distribution.ts";
import type { TemplateDistributionMessage } from "./template-distribution.ts";
import { EXTENSIONS_NEGOTIATION_CODECS } from "./extensions.ts";
import type { ExtensionsNegotiationMessage } from "./extensions.ts";

/** Every message this codec knows, discriminated by `type`. */
export type Sv2Message = CommonMessage | MiningMessage | JobDeclarationMessage | TemplateDistributionMessage | ExtensionsNegotiationMessage;
export type Sv2MessageType = Sv2Message["type"];
export type MessageOf<T extends Sv2MessageType> = Extract<Sv2Message, { type: T }>;

/** One codec per message `type` (both shapes of 0x70 included), in spec order. */
export const ALL_CODECS: readonly MessageCodec<Sv2Message>[] = [
  ...COMMON_CODECS,
  ...MINING_CODECS,
  ...JOB_DECLARATION_CODECS,
  ...TEMPLATE_DISTRIBUTION_CODECS,
  ...EXTENSIONS_NEGOTIATION_CODECS,
];

/** Registry key of (extension id, msg_type); the channel_msg bit is not part of it. */
export function messageKey(extensionType: number, msgType: number): number {
  return (extensionType & EXTENSION_ID_MASK) * 256 + msgType;
}

function buildRegistry(): Map<number, MessageCodec<Sv2Message>> {
  const map = new Map<number, MessageCodec<Sv2Message>>();
  for (const c of ALL_CODECS) {
    if (c.type === "CoinbaseOutputDataSize") continue; // shares 0x70, decoded by the dispatcher below
    const key = messageKey(c.extensionId, c.msgType);
    if (map.has(key)) throw new Sv2CodecError("invalid-value", c.name, "", 0, `registry: duplicate key 0x${key.toString(16)}`);
    map.set(key, c.type === "CoinbaseOutputConstraints" ? (CoinbaseOutput0x70Codec as MessageCodec<Sv2Message>) : c);
  }
  return map;
}

/** Decoding registry keyed by `messageKey(extensionType, msgType)`: name, channel_msg bit, encode, decode. */
export const MESSAGES: ReadonlyMap<number, MessageCodec<Sv2Message>> = buildRegistry();

const BY_TYPE: ReadonlyMap<string, MessageCodec<Sv2Message>> = new Map(ALL_CODECS.map((c) => [c.type, c]));

/** The codec of a message type (for its msg_type, channel_msg bit, size, …). */
export function codecOf<T extends Sv2MessageType>(type: T): MessageCodec<MessageOf<T>> {
  const c = BY_TYPE.get(type);
  if (c === undefined) throw new Sv2CodecError("unknown-message", String(type), "", 0, "no such message type");
  return c as unknown as MessageCodec<MessageOf<T>>;
}

/** The decoding codec for (extension_type, msg_type), or undefined. */
export function lookupMessage(msgType: number, extensionType = 0): MessageCodec<Sv2Message> | undefined {
  return MESSAGES.get(messageKey(extensionType, msgType));
}

function codecForEncode(msg: Sv2Message): MessageCodec<Sv2Message> {
  const c = BY_TYPE.get(msg.type);
  if (c === undefined) throw new Sv2CodecError("unknown-message", String(msg.type), "", 0, "no such message type");
  return c;
}

function codecForDecode(msgType: number, extensionType: number): MessageCodec<Sv2Message> {
  const c = MESSAGES.get(messageKey(extensionType, msgType));
  if (c === undefined) {
    throw new Sv2CodecError(
      "unknown-message",
      "",
      "msg_type",
      0,
      `no message 0x${msgType.toString(16).padStart(2, "0")} in extension 0x${(extensionType & EXTENSION_ID_MASK).toString(16).padStart(4, "0")}`,
    );
  }
  return c;
}

/** Payload bytes of a message (no header). */
export function encodePayload(msg: Sv2Message): Uint8Array {
  const c = codecForEncode(msg);
  const w = new Writer(c.size(msg), 0, c.name);
  c.write(w, msg);
  return w.finish();
}

/** Exact payload size of a message. */
export function payloadSize(msg: Sv2Message): number {
  return codecForEncode(msg).size(msg);
}

/** A whole plaintext frame: 6-byte header (channel_msg bit per spec) ‖ payload, in one allocation. */
export function encodeFrame(msg: Sv2Message): Uint8Array {
  const c = codecForEncode(msg);
  const size = c.size(msg);
  if (size > MAX_PAYLOAD_SIZE) throw new Sv2CodecError("too-long", c.name, "", 0, `payload of ${size} bytes does not fit a U24 msg_length`);
  const out = new Uint8Array(FRAME_HEADER_SIZE + size);
  const w = new Writer(out, FRAME_HEADER_SIZE, c.name);
  c.write(w, msg);
  const bytes = w.finish();
  // `size` is exact for every message (tested), so this is `out` itself; the header uses what was written.
  writeFrameHeader(bytes, 0, c.extensionType, c.msgType, bytes.length - FRAME_HEADER_SIZE);
  return bytes;
}

function readMessage(c: MessageCodec<Sv2Message>, bytes: Uint8Array, start: number, end: number, strict: boolean): { message: Sv2Message; end: number } {
  const r = new Reader(bytes, start, end, c.name);
  const message = c.read(r);
  if (strict) r.expectEnd();
  return { message, end: r.offset };
}

/** Strictly decodes one payload. `extensionType` may include the channel_msg bit (it is ignored). */
export function decodePayload(msgType: number, payload: Uint8Array, extensionType = 0): Sv2Message {
  const c = codecForDecode(msgType, extensionType);
  return readMessage(c, payload, 0, payload.length, true).message;
}

/**
 * Decodes one payload, ignoring whatever follows the last field (TLV extension fields nobody asked
 * for): the connection's hot path, one message per share, with nothing copied.
 */
export function decodeMessage(msgType: number, payload: Uint8Array, extensionType = 0): Sv2Message {
  const c = codecForDecode(msgType, extensionType);
  return c.read(new Reader(payload, 0, payload.length, c.name));
}

/** Decodes one payload and returns whatever follows the last field (TLV extension fields), copied. */
export function decodePayloadWithTrailing(msgType: number, payload: Uint8Array, extensionType = 0): { message: Sv2Message; trailing: Uint8Array } {
  const c = codecForDecode(msgType, extensionType);
  const { message, end } = readMessage(c, payload, 0, payload.length, false);
  return { message, trailing: payload.slice(end) };
}

/** Decodes exactly one plaintext frame: `bytes` must be the header plus exactly msg_length bytes. */
export function decodeFrame(bytes: Uint8Array): { header: FrameHeader; message: Sv2Message } {
  const header = decodeFrameHeader(bytes, 0);
  const end = FRAME_HEADER_SIZE + header.msgLength;
  if (bytes.length < end) {
    throw new Sv2CodecError("short-read", "", "payload", bytes.length, `frame declares ${header.msgLength} payload bytes, ${bytes.length - FRAME_HEADER_SIZE} present`);
  }
  if (bytes.length > end) throw new Sv2CodecError("trailing-bytes", "", "", end, `${bytes.length - end} bytes after the frame`);
  const c = codecForDecode(header.msgType, header.extensionType);
  return { header, message: readMessage(c, bytes, FRAME_HEADER_SIZE, end, true).message };
}
