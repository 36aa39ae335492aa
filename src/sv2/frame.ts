/**
 * The 6-byte SV2 frame header (spec 03 §3.2):
 *
 *   offset 0  U16 extension_type   bit 15 (0x8000) = channel_msg; bits 0-14 = extension id
 *   offset 2  U8  msg_type
 *   offset 3  U24 msg_length       payload length only, not counting these 6 bytes
 *
 * The spec's prose calls channel_msg "the least significant bit … bit 15"; every implementation
 * (SRI, sv2-tp) uses the MSB of the U16, 0x8000, and so do we.
 */
import { Sv2CodecError } from "./errors.ts";

export const FRAME_HEADER_SIZE = 6;
/** msg_length is a U24. */
export const MAX_PAYLOAD_SIZE = 0xffffff;
export const CHANNEL_MSG_BIT = 0x8000;
/** Bits 0-14 of extension_type: 0 for core (common, mining, JD, TDP) messages. */
export const EXTENSION_ID_MASK = 0x7fff;

export interface FrameHeader {
  /** Raw U16 as on the wire, channel_msg bit included. */
  readonly extensionType: number;
  /** extension_type without the channel_msg bit. */
  readonly extensionId: number;
  readonly channelMsg: boolean;
  readonly msgType: number;
  /** Payload length in bytes. */
  readonly msgLength: number;
}

/** Composes the wire extension_type from an extension id and the channel_msg flag. */
export function extensionTypeOf(extensionId: number, channelMsg: boolean): number {
  return (extensionId & EXTENSION_ID_MASK) | (channelMsg ? CHANNEL_MSG_BIT : 0);
}

/** Writes a header at `out[offset..offset+6)`. */
export function writeFrameHeader(out: Uint8Array, offset: number, extensionType: number, msgType: number, msgLength: number): void {
  if ((extensionType & 0xffff) !== extensionType) {
    throw new Sv2CodecError("invalid-value", "", "extension_type", offset, `${extensionType} is not a U16`);
  }
  if ((msgType & 0xff) !== msgType) throw new Sv2CodecError("invalid-value", "", "msg_type", offset + 2, `${msgType} is not a U8`);
  if ((msgLength & 0xffffff) !== msgLength) {
    throw new Sv2CodecError("too-long", "", "msg_length", offset + 3, `payload of ${msgLength} bytes does not fit a U24`);
  }
  out[offset] = extensionType;
  out[offset + 1] = extensionType >>> 8;
  out[offset + 2] = msgType;
  out[offset + 3] = msgLength;
  out[offset + 4] = msgLength >>> 8;
  out[offset + 5] = msgLength >>> 16;
}

/** The 6 header bytes on their own. */
export function encodeFrameHeader(extensionType: number, msgType: number, msgLength: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE);
  writeFrameHeader(out, 0, extensionType, msgType, msgLength);
  return out;
}

/** Parses the header at `bytes[offset..offset+6)`; only needs those 6 bytes to be present. */
export function decodeFrameHeader(bytes: Uint8Array, offset = 0): FrameHeader {
  if (offset < 0 || bytes.length - offset < FRAME_HEADER_SIZE) {
    throw new Sv2CodecError("short-read", "", "header", offset, `a frame header needs ${FRAME_HEADER_SIZE} bytes, ${Math.max(0, bytes.length - offset)} given`);
  }
  const extensionType = (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
  return {
    extensionType,
    extensionId: extensionType & EXTENSION_ID_MASK,
    channelMsg: (extensionType & CHANNEL_MSG_BIT) !== 0,
    msgType: bytes[offset + 2] as number,
    msgLength: (bytes[offset + 3] as number) | ((bytes[offset + 4] as number) << 8) | ((bytes[offset + 5] as number) << 16),
  };
}

/**
 * Total frame size (header + payload) of the frame starting at `offset`, or -1 if fewer than
 * 6 bytes are available — for splitting a plaintext byte stream into frames.
 */
export function frameSizeAt(bytes: Uint8Array, offset = 0): number {
  if (bytes.length - offset < FRAME_HEADER_SIZE) return -1;
  return FRAME_HEADER_SIZE + ((bytes[offset + 3] as number) | ((bytes[offset + 4] as number) << 8) | ((bytes[offset + 5] as number) << 16));
}

/** Header ‖ payload for an already-encoded payload (e.g. forwarding a frame, or a message we do not model). */
export function encodeRawFrame(extensionType: number, msgType: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  writeFrameHeader(out, 0, extensionType, msgType, payload.length);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}
