/**
 * Recognising a client that is not speaking Noise on the SV2 port, from its first bytes.
 *
 * Act 1 is 64 bytes that look uniformly random, and every 64-byte string is a valid act 1, so a
 * responder can only refuse input that is very unlikely to be random: long runs of printable
 * text shaped like SV1 JSON-RPC or an HTTP request line, or a TLS ClientHello record header.
 * The thresholds keep the chance of refusing a genuine act 1 negligible:
 * - 64 printable ASCII bytes: (95/256)^64 ≈ 2^-91 for random input;
 * - a shorter printable line ending in '\n', at least 8 bytes, starting with '{' or an HTTP
 *   method: under 2^-8 · (95/256)^7 · 2^-8 ≈ 2^-26 per connection even in the worst case, and
 *   only reachable when a genuine act 1 arrives split across reads;
 * - TLS: 0x16 0x03 0x0X, a record length, handshake type 1 and a matching length (≈ 2^-40).
 * Anything else is taken as act 1; garbage then fails at the peer's act 2 check or at the first
 * frame's MAC, which is as early as Noise allows.
 */
import type { ForeignProtocol } from "./errors.ts";

const HTTP_METHODS = ["GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "TRACE ", "PRI "];
const MIN_LINE = 8;
const ACT1 = 64;

function isText(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d;
}

function startsWithAscii(bytes: Uint8Array, text: string): boolean {
  if (bytes.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** What printable text starting this way would be, or null. */
function textKind(bytes: Uint8Array): ForeignProtocol | null {
  if (bytes[0] === 0x7b) return "sv1-json"; // '{'
  for (const method of HTTP_METHODS) if (startsWithAscii(bytes, method)) return "http";
  return null;
}

function looksLikeTlsClientHello(bytes: Uint8Array): boolean {
  if (bytes.length < 9) return false;
  if (bytes[0] !== 0x16 || bytes[1] !== 0x03 || (bytes[2] as number) > 0x04) return false;
  const recordLength = ((bytes[3] as number) << 8) | (bytes[4] as number);
  const handshakeLength = ((bytes[6] as number) << 16) | ((bytes[7] as number) << 8) | (bytes[8] as number);
  return bytes[5] === 0x01 && handshakeLength + 4 === recordLength;
}

/**
 * Classifies the first bytes received by a responder: a recognised foreign protocol, "act1"
 * (treat the first 64 bytes as the handshake), or "need-more" (fewer than 64 bytes and nothing
 * recognised yet).
 */
export function classifyFirstBytes(bytes: Uint8Array): ForeignProtocol | "act1" | "need-more" {
  if (bytes.length === 0) return "need-more";
  if (bytes.length >= ACT1) {
    const head = bytes.subarray(0, ACT1);
    if (head.every(isText)) {
      const kind = textKind(head);
      if (kind !== null) return kind;
    }
    return looksLikeTlsClientHello(head) ? "tls" : "act1";
  }
  const newline = bytes.indexOf(0x0a);
  if (newline + 1 >= MIN_LINE) {
    const line = bytes.subarray(0, newline + 1);
    if (line.every(isText)) {
      const kind = textKind(line);
      if (kind !== null) return kind;
    }
  }
  return "need-more";
}
