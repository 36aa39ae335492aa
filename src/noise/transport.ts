/**
 * Encrypted SV2 framing (PROTOCOL.md §3): a frame is its 6-byte header sealed alone (22 bytes on
 * the wire), then its payload cut into plaintext chunks of at most 65 519 bytes, each sealed with
 * the next nonce (65 535 bytes on the wire for a full chunk). An empty payload adds nothing.
 * Associated data is empty throughout.
 */
import { CHANNEL_MSG_BIT, FRAME_HEADER_SIZE, MAX_PAYLOAD_SIZE } from "../sv2/frame.ts";
import { NoiseError } from "./errors.ts";
import { TAG_LENGTH } from "./aead.ts";
import type { CipherState } from "./cipher-state.ts";

// The plaintext frame layout is the codec's (src/sv2/frame.ts); the names here are the transport's.
export const FRAME_HEADER_LENGTH = FRAME_HEADER_SIZE;
export const ENCRYPTED_HEADER_LENGTH = FRAME_HEADER_LENGTH + TAG_LENGTH; // 22
export const MAX_CHUNK_PLAINTEXT = 65_519;
export const MAX_CHUNK_CIPHERTEXT = MAX_CHUNK_PLAINTEXT + TAG_LENGTH; // 65 535
/** msg_length is a U24. */
export const MAX_PAYLOAD_LENGTH = MAX_PAYLOAD_SIZE;
export { CHANNEL_MSG_BIT };

/** A plaintext frame: the header fields and the payload. */
export interface Sv2Frame {
  /** Raw U16 extension_type, including the channel_msg bit (0x8000). */
  readonly extensionType: number;
  readonly msgType: number;
  readonly payload: Uint8Array;
}

export function isChannelMessage(frame: Sv2Frame): boolean {
  return (frame.extensionType & CHANNEL_MSG_BIT) !== 0;
}

/** Bytes a payload of `length` plaintext bytes takes on the wire after the 22-byte header. */
export function encryptedPayloadLength(length: number): number {
  return length + TAG_LENGTH * Math.ceil(length / MAX_CHUNK_PLAINTEXT);
}

export function encryptedFrameLength(payloadLength: number): number {
  return ENCRYPTED_HEADER_LENGTH + encryptedPayloadLength(payloadLength);
}

function writeHeader(out: Uint8Array, extensionType: number, msgType: number, length: number): void {
  if (!Number.isInteger(extensionType) || extensionType < 0 || extensionType > 0xffff) {
    throw new NoiseError("invalid-input", `extension_type ${extensionType} is not a u16`);
  }
  if (!Number.isInteger(msgType) || msgType < 0 || msgType > 0xff) throw new NoiseError("invalid-input", `msg_type ${msgType} is not a u8`);
  if (length > MAX_PAYLOAD_LENGTH) throw new NoiseError("frame-too-large", `payload of ${length} bytes exceeds the U24 msg_length`);
  out[0] = extensionType & 0xff;
  out[1] = extensionType >>> 8;
  out[2] = msgType;
  out[3] = length & 0xff;
  out[4] = (length >>> 8) & 0xff;
  out[5] = length >>> 16;
}

/**
 * Seals one frame given as header fields and payload bytes (payload[off, off+len)).
 * Returns the wire bytes: 22 + L + 16·⌈L/65519⌉.
 */
export function encryptFrame(cipher: CipherState, frame: Sv2Frame): Uint8Array {
  const out = new Uint8Array(encryptedFrameLength(frame.payload.length));
  // The plaintext header is written where its ciphertext goes and sealed from there (no allocation).
  writeHeader(out, frame.extensionType, frame.msgType, frame.payload.length);
  sealFrameParts(cipher, out, 0, frame.payload, 0, frame.payload.length, out);
  return out;
}

/**
 * Seals a frame that is already serialised as 6-byte header ‖ payload (what the SV2 codec
 * produces). msg_length in the header must equal the payload length that follows it.
 */
export function encryptSerializedFrame(cipher: CipherState, frameBytes: Uint8Array): Uint8Array {
  if (frameBytes.length < FRAME_HEADER_LENGTH) throw new NoiseError("invalid-input", "a frame needs its 6-byte header");
  const length = (frameBytes[3] as number) | ((frameBytes[4] as number) << 8) | ((frameBytes[5] as number) << 16);
  const payloadLength = frameBytes.length - FRAME_HEADER_LENGTH;
  if (length !== payloadLength) {
    throw new NoiseError("invalid-input", `header msg_length ${length} does not match the ${payloadLength} payload bytes`);
  }
  const out = new Uint8Array(encryptedFrameLength(payloadLength));
  sealFrameParts(cipher, frameBytes, 0, frameBytes, FRAME_HEADER_LENGTH, payloadLength, out);
  return out;
}

/** Largest payload sealed together with its header (AeadCipher.sealPair's limit is well above). */
const MAX_PAIRED_PAYLOAD = 16_384;

function sealFrameParts(
  cipher: CipherState,
  header: Uint8Array,
  headerOff: number,
  payload: Uint8Array,
  payloadOff: number,
  payloadLength: number,
  out: Uint8Array,
): void {
  // Share-sized frames (the hot path) go in one AEAD call; for big ones a call's overhead is noise.
  if (payloadLength > 0 && payloadLength <= MAX_PAIRED_PAYLOAD) {
    cipher.sealPairInto(header, headerOff, FRAME_HEADER_LENGTH, payload, payloadOff, payloadLength, out, 0);
    return;
  }
  cipher.sealInto(null, header, headerOff, FRAME_HEADER_LENGTH, out, 0);
  let written = ENCRYPTED_HEADER_LENGTH;
  for (let pos = 0; pos < payloadLength; pos += MAX_CHUNK_PLAINTEXT) {
    const len = Math.min(MAX_CHUNK_PLAINTEXT, payloadLength - pos);
    cipher.sealInto(null, payload, payloadOff + pos, len, out, written);
    written += len + TAG_LENGTH;
  }
}

export interface FrameDecoderOptions {
  /** Largest plaintext payload accepted; a bigger msg_length is refused before reading it. */
  readonly maxPayloadLength?: number;
}

/** Decrypted header of the frame being read; every decoder's use ends before the next begins. */
const HEADER = new Uint8Array(FRAME_HEADER_LENGTH);

/**
 * Turns arbitrary TCP chunks into whole decrypted frames. Frames are decrypted straight from the
 * chunk; only the bytes of a frame not complete yet are copied and kept for the next push, so a
 * connection between reads (the usual state of thousands of idle miners) holds no buffer at all.
 * Any tag failure throws NoiseError `mac-mismatch`; the decoder is then unusable (close the connection).
 */
export class FrameDecoder {
  /** Received bytes of an incomplete frame, at [start, end); null when there are none. */
  private buffer: Uint8Array | null = null;
  private start = 0;
  private end = 0;
  /** Payload length of the frame whose header is already read (its nonce consumed), or -1. */
  private pendingLength = -1;
  /** That frame's extension_type << 8 | msg_type (one field: a decoder per miner, 8 fields fit 80 bytes). */
  private pendingTypes = 0;
  private failed: NoiseError | null = null;
  private readonly maxPayloadLength: number;

  constructor(
    private readonly cipher: CipherState,
    opts: FrameDecoderOptions = {},
  ) {
    const max = opts.maxPayloadLength ?? MAX_PAYLOAD_LENGTH;
    if (!Number.isInteger(max) || max < 0 || max > MAX_PAYLOAD_LENGTH) throw new NoiseError("invalid-input", `maxPayloadLength ${max} out of range`);
    this.maxPayloadLength = max;
  }

  /** Bytes received but not yet part of a returned frame. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  /** Adds received bytes and returns every frame they complete, in order. */
  push(chunk: Uint8Array): Sv2Frame[] {
    if (this.failed !== null) throw this.failed;
    let src: Uint8Array;
    if (this.buffer === null) {
      src = chunk;
      this.start = 0;
      this.end = chunk.length;
    } else {
      this.append(this.buffer, chunk);
      src = this.buffer as Uint8Array;
    }
    const frames: Sv2Frame[] = [];
    try {
      for (;;) {
        const frame = this.next(src);
        if (frame === null) break;
        frames.push(frame);
      }
    } catch (e) {
      if (e instanceof NoiseError) this.failed = e;
      throw e;
    }
    if (this.start === this.end) {
      this.buffer = null;
      this.start = 0;
      this.end = 0;
    } else if (src === chunk) {
      // The caller may reuse its chunk: keep a copy of the incomplete frame's bytes.
      this.buffer = chunk.slice(this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    return frames;
  }

  /** The next whole frame in src[start, end), or null when it is not complete yet. */
  private next(src: Uint8Array): Sv2Frame | null {
    if (this.pendingLength < 0) {
      if (this.end - this.start < ENCRYPTED_HEADER_LENGTH) return null;
      const h = HEADER;
      // Header and payload in one AEAD call where the provider can (share-sized frames).
      const opened = this.cipher.openFrame(src, this.start, this.end - this.start, this.maxPayloadLength, h);
      if (opened === undefined) this.cipher.openInto(null, src, this.start, ENCRYPTED_HEADER_LENGTH, h, 0);
      this.start += ENCRYPTED_HEADER_LENGTH;
      const length = (h[3] as number) | ((h[4] as number) << 8) | ((h[5] as number) << 16);
      const types = (((h[0] as number) | ((h[1] as number) << 8)) << 8) | (h[2] as number);
      if (opened) {
        this.start += length + TAG_LENGTH;
        return { extensionType: types >>> 8, msgType: types & 0xff, payload: opened };
      }
      if (length > this.maxPayloadLength) {
        throw new NoiseError("frame-too-large", `frame of type 0x${(h[2] as number).toString(16)} announces ${length} payload bytes, limit is ${this.maxPayloadLength}`);
      }
      this.pendingLength = length;
      this.pendingTypes = types;
    }
    const length = this.pendingLength;
    const wireLength = encryptedPayloadLength(length);
    if (this.end - this.start < wireLength) return null;
    const payload = new Uint8Array(length);
    let read = this.start;
    for (let pos = 0; pos < length; pos += MAX_CHUNK_PLAINTEXT) {
      const len = Math.min(MAX_CHUNK_PLAINTEXT, length - pos);
      this.cipher.openInto(null, src, read, len + TAG_LENGTH, payload, pos);
      read += len + TAG_LENGTH;
    }
    this.start = read;
    this.pendingLength = -1;
    const types = this.pendingTypes;
    return { extensionType: types >>> 8, msgType: types & 0xff, payload };
  }

  /** Appends a chunk after the kept bytes, moving or growing the buffer as needed. */
  private append(buffer: Uint8Array, chunk: Uint8Array): void {
    const live = this.end - this.start;
    if (this.end + chunk.length > buffer.length) {
      if (live + chunk.length <= buffer.length) {
        buffer.copyWithin(0, this.start, this.end);
      } else {
        // Doubling: a large frame arriving in many reads is copied O(log n) times, not per read.
        let size = Math.max(256, buffer.length * 2);
        while (size < live + chunk.length) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(buffer.subarray(this.start, this.end));
        this.buffer = grown;
      }
      this.start = 0;
      this.end = live;
    }
    (this.buffer as Uint8Array).set(chunk, this.end);
    this.end += chunk.length;
  }
}
