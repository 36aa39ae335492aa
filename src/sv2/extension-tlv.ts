/**
 * SV2 extension TLV fields (spec 03 §3.4.3), appended after the last field of a core message once
 * the extension is negotiated: `U16 extension_type | U8 field_type | U16 length | value`.
 *
 * All little-endian, as SRI (`parsers-sv2/src/tlv/codec.rs`) encodes them; the spec's worked example
 * prints the U16s big-endian (`00 02 01 00 0A`), which no implementation follows.
 */
import { Reader, Writer, utf8Length } from "./codec.ts";
import { Sv2CodecError } from "./errors.ts";
import { Extension, WORKER_HASHRATE_TRACKING_USER_IDENTITY_FIELD, WORKER_HASHRATE_TRACKING_USER_IDENTITY_MAX } from "./constants.ts";

export interface Sv2TlvField {
  extensionType: number;
  fieldType: number;
  value: Uint8Array;
}

const NAME = "TlvField";
export const TLV_FIELD_HEADER_SIZE = 5;

export function encodeTlvFields(fields: readonly Sv2TlvField[]): Uint8Array {
  let size = 0;
  for (const f of fields) size += TLV_FIELD_HEADER_SIZE + f.value.length;
  const w = new Writer(size, 0, NAME);
  for (const f of fields) {
    w.u16(f.extensionType, "extensionType");
    w.u8(f.fieldType, "fieldType");
    w.b0_64k(f.value, "value");
  }
  return w.finish();
}

/** Parses back-to-back TLV fields (e.g. `decodePayloadWithTrailing(...).trailing`); values are copied. */
export function decodeTlvFields(bytes: Uint8Array): Sv2TlvField[] {
  const r = new Reader(bytes, 0, bytes.length, NAME);
  const out: Sv2TlvField[] = [];
  while (r.remaining > 0) {
    out.push({ extensionType: r.u16("extensionType"), fieldType: r.u8("fieldType"), value: r.b0_64k("value") });
  }
  return out;
}

/** Extension 0x0002's field on SubmitSharesExtended: the worker name, UTF-8, at most 32 bytes. */
export function workerIdentityField(workerName: string): Sv2TlvField {
  const n = utf8Length(workerName);
  if (n < 0 || n > WORKER_HASHRATE_TRACKING_USER_IDENTITY_MAX) {
    throw new Sv2CodecError("invalid-value", NAME, "user_identity", 0, `worker name must be valid UTF-8 of at most ${WORKER_HASHRATE_TRACKING_USER_IDENTITY_MAX} bytes`);
  }
  return {
    extensionType: Extension.WorkerSpecificHashrateTracking,
    fieldType: WORKER_HASHRATE_TRACKING_USER_IDENTITY_FIELD,
    value: new TextEncoder().encode(workerName),
  };
}

/** The worker name carried by extension 0x0002 among `fields`, or null. Over-long or non-UTF-8 values are errors. */
export function findWorkerIdentity(fields: readonly Sv2TlvField[]): string | null {
  for (const f of fields) {
    if (f.extensionType !== Extension.WorkerSpecificHashrateTracking || f.fieldType !== WORKER_HASHRATE_TRACKING_USER_IDENTITY_FIELD) continue;
    if (f.value.length > WORKER_HASHRATE_TRACKING_USER_IDENTITY_MAX) {
      throw new Sv2CodecError("invalid-value", NAME, "user_identity", 0, `${f.value.length} bytes exceed ${WORKER_HASHRATE_TRACKING_USER_IDENTITY_MAX}`);
    }
    // Reuse the STR0_255 validation by reading the value as a length-prefixed string.
    const buf = new Uint8Array(1 + f.value.length);
    buf[0] = f.value.length;
    buf.set(f.value, 1);
    return new Reader(buf, 0, buf.length, NAME).str0_255("user_identity");
  }
  return null;
}
