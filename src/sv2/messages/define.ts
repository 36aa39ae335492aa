/**
 * How a message type is described: where it lives (extension id, msg_type, channel_msg bit), its
 * exact payload size, and how to write and read its fields. `defineMessage` adds the byte-level
 * `encode`/`decode` used by the registry, so each message module only lists its fields once.
 */
import { Reader, Writer } from "../codec.ts";

export type Sv2ProtocolName = "common" | "mining" | "job-declaration" | "template-distribution" | "extensions-negotiation";

export interface MessageFields<M extends { readonly type: string }> {
  /** The discriminant used in code, e.g. "SubmitSharesSuccess". */
  readonly type: M["type"];
  /** The spec's name, e.g. "SubmitShares.Success". */
  readonly name: string;
  readonly protocol: Sv2ProtocolName;
  /** extension_type bits 0-14 (0 for common, mining, JD and TDP messages). */
  readonly extensionId: number;
  readonly msgType: number;
  /** Whether the channel_msg bit (0x8000) is set when sending (spec 08 table). */
  readonly channelMsg: boolean;
  /** Exact payload size in bytes. */
  size(m: M): number;
  /** Writes the payload fields (the writer's messageName is already set). */
  write(w: Writer, m: M): void;
  /** Reads the payload fields (the reader's messageName is already set; trailing bytes are the caller's business). */
  read(r: Reader): M;
}

export interface MessageCodec<M extends { readonly type: string }> extends MessageFields<M> {
  /** extension_type as sent: extension id with the channel_msg bit when it applies. */
  readonly extensionType: number;
  /** Payload bytes (no frame header). */
  encode(m: M): Uint8Array;
  /** Strict payload decode: the bytes must hold exactly one message. */
  decode(payload: Uint8Array): M;
}

export function defineMessage<M extends { readonly type: string }>(fields: MessageFields<M>): MessageCodec<M> {
  const extensionType = (fields.extensionId & 0x7fff) | (fields.channelMsg ? 0x8000 : 0);
  return {
    ...fields,
    extensionType,
    encode(m: M): Uint8Array {
      const w = new Writer(fields.size(m), 0, fields.name);
      fields.write(w, m);
      return w.finish();
    },
    decode(payload: Uint8Array): M {
      const r = new Reader(payload, 0, payload.length, fields.name);
      const m = fields.read(r);
      r.expectEnd();
      return m;
    },
  };
}
