/**
 * The codec's error. Every failure to encode or decode SV2 bytes is one of these, so the connection
 * layer can tell a peer's garbage (close or answer with an error) from a bug of ours (anything else).
 */
import { StratumV2Error } from "../errors.ts";

/**
 * Why a codec call failed:
 * - `short-read`: a field runs past the end of the bytes;
 * - `trailing-bytes`: bytes are left after the last field (strict decoding only);
 * - `invalid-value`: a length/count over its type's limit, bad UTF-8, a malformed option, or a value
 *   that does not fit its wire type when encoding;
 * - `unknown-message`: no message is registered for (extension, msg_type) — the connection layer
 *   should drop such frames rather than close (spec §3.4: unknown extensions are ignored);
 * - `too-long`: a payload that does not fit the U24 msg_length.
 */
export type Sv2CodecErrorReason = "short-read" | "trailing-bytes" | "invalid-value" | "unknown-message" | "too-long";

export class Sv2CodecError extends StratumV2Error {
  /** Message being coded ("" when not inside a message, e.g. a frame header). */
  readonly messageName: string;
  /** Field being coded ("" when not about one field). */
  readonly field: string;
  /** Byte offset in the buffer being read or written where the problem was found. */
  readonly offset: number;
  readonly reason: Sv2CodecErrorReason;

  constructor(reason: Sv2CodecErrorReason, messageName: string, field: string, offset: number, detail: string) {
    const where = messageName === "" ? field : field === "" ? messageName : `${messageName}.${field}`;
    super("ProtocolError", `${where === "" ? "" : `${where}: `}${detail} (offset ${offset})`);
    this.name = "Sv2CodecError";
    this.messageName = messageName;
    this.field = field;
    this.offset = offset;
    this.reason = reason;
  }
}
