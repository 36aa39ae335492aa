/**
 * Bitcoin addresses <-> output scripts (scriptPubKey), for the payout addresses of the config file
 * and for showing output scripts in logs and the API.
 *
 * Base58Check P2PKH/P2SH, and segwit addresses per BIP173 (witness v0, bech32) and BIP350
 * (witness v1+, bech32m). Every rejection is an AddressError whose message quotes the address and
 * says what is wrong in words an operator can act on: the pool pays every block it finds to these
 * addresses, so a vague "invalid address" is not good enough.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { base58, bech32, bech32m, createBase58check } from "@scure/base";
import { StratumV2Error } from "../errors.ts";
import { NETWORKS, networkParams, type Network, type NetworkParams } from "./network.ts";

export type AddressType = "p2pkh" | "p2sh" | "p2wpkh" | "p2wsh" | "p2tr" | "witness-unknown";

export interface DecodedAddress {
  type: AddressType;
  /** The scriptPubKey an output paying this address carries. */
  script: Uint8Array;
  /** Segwit addresses only. */
  witnessVersion?: number;
  /** Segwit addresses only: the witness program (2..40 bytes). */
  program?: Uint8Array;
}

/** Why an address was refused, for callers that branch (tests, the API) rather than read. */
export type AddressErrorReason =
  | "empty"
  | "invalid-character"
  | "mixed-case"
  | "too-short"
  | "too-long"
  | "bad-checksum"
  | "checksum-variant"
  | "missing-data"
  | "invalid-witness-version"
  | "invalid-padding"
  | "invalid-program-length"
  | "unknown-prefix"
  | "unknown-format"
  | "not-an-address"
  | "wrong-network"
  | "unspendable-witness-version";

export class AddressError extends StratumV2Error {
  readonly reason: AddressErrorReason;
  /** The address exactly as given. */
  readonly address: string;

  constructor(reason: AddressErrorReason, address: string, message: string) {
    super("ConfigError", message);
    this.name = "AddressError";
    this.reason = reason;
    this.address = address;
  }
}

/** BIP173: the whole address is at most 90 characters. */
const BECH32_MAX_LENGTH = 90;
const BECH32_CHECKSUM_LENGTH = 6;
const BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/** Longer than any Base58Check string a Bitcoin user handles (an xpub is 111 characters). */
const BASE58_MAX_LENGTH = 120;
/** A 25-byte Base58Check string is 26 to 35 characters long (fewer with leading zero bytes). */
const BASE58_ADDRESS_MIN_LENGTH = 26;
const BASE58_ADDRESS_MAX_LENGTH = 35;
const HASH160_LENGTH = 20;
const BASE58_CHECKSUM_LENGTH = 4;
const MAX_WITNESS_VERSION = 16;
const MIN_PROGRAM_LENGTH = 2;
const MAX_PROGRAM_LENGTH = 40;
const P2WPKH_PROGRAM_LENGTH = 20;
const P2WSH_PROGRAM_LENGTH = 32;
const P2TR_PROGRAM_LENGTH = 32;

const OP_0 = 0x00;
const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_DUP = 0x76;
const OP_HASH160 = 0xa9;
const OP_EQUAL = 0x87;
const OP_EQUALVERIFY = 0x88;
const OP_CHECKSIG = 0xac;

/** Base58Check version bytes of things people paste by mistake instead of an address. */
const WIF_VERSIONS: ReadonlySet<number> = new Set([0x80, 0xef]);
/** A WIF key is version + 32 bytes (+ 0x01 when the public key is compressed). */
const WIF_PAYLOAD_LENGTHS: ReadonlySet<number> = new Set([33, 34]);
/** BIP32 serialized extended keys (xpub/xprv/tpub/zpub/…) are 78 bytes. */
const EXTENDED_KEY_PAYLOAD_LENGTH = 78;

const base58check = createBase58check(sha256);

const NETWORK_NAMES: readonly Network[] = Object.keys(NETWORKS) as Network[];
const KNOWN_HRPS: ReadonlySet<string> = new Set(NETWORK_NAMES.map((n) => NETWORKS[n].bech32Hrp));

/**
 * Decodes `address` for a pool running on `network`. Throws AddressError when the address is
 * malformed or belongs to another network.
 */
export function decodeAddress(address: string, network: Network): DecodedAddress {
  const params = networkParams(network);
  if (address.trim().length === 0) {
    throw new AddressError("empty", address, "the address is empty: give the Bitcoin address the pool pays found blocks to");
  }
  rejectUnprintable(address);

  const separator = address.lastIndexOf("1");
  const hrp = separator > 0 ? address.slice(0, separator).toLowerCase() : "";
  if (KNOWN_HRPS.has(hrp)) return decodeSegwit(address, hrp, params);

  const base58Result = isBase58(address) ? tryBase58check(address) : undefined;
  if (base58Result !== undefined) return interpretBase58(address, base58Result, params);
  // A mistyped base58 address often contains a "1" followed by bech32-looking characters, so the
  // base58 shape is checked before the bech32 one.
  if (isBase58(address) && address.length <= BASE58_MAX_LENGTH && base58.decode(address).length === 1 + HASH160_LENGTH + BASE58_CHECKSUM_LENGTH) {
    throw new AddressError(
      "bad-checksum",
      address,
      `${quote(address)} has the shape of a base58 address but its checksum is wrong: a character is mistyped, swapped or missing; copy it again from the wallet`,
    );
  }
  if (hrp.length > 0 && looksLikeBech32(address, separator)) {
    throw new AddressError(
      "unknown-prefix",
      address,
      `${quote(address)} starts with ${quote(`${hrp}1`)}, which is not a Bitcoin address prefix: ${expectedPrefixes(params)}`,
    );
  }
  const typo = base58Typo(address);
  if (typo >= 0) {
    throw new AddressError(
      "invalid-character",
      address,
      `${quote(address)} contains ${quote(address[typo]!)} at position ${typo + 1}, a character base58 addresses never use (they leave out 0, O, I and l): it is mistyped`,
    );
  }
  throw new AddressError("unknown-format", address, `${quote(address)} is not a Bitcoin address: ${expectedPrefixes(params)}`);
}

/** The scriptPubKey paying `address` on `network`. */
export function addressToScript(address: string, network: Network): Uint8Array {
  return decodeAddress(address, network).script;
}

/**
 * What config validation uses: the scriptPubKey of a payout address, refusing the addresses a
 * pool must never pay: witness versions no soft fork has defined yet (and version 1 programs that
 * are not 32-byte Taproot keys). Consensus leaves such outputs unencumbered, but no wallet can sign
 * for them and relaying their spends is non-standard, so a block reward sent there is lost to the farm.
 */
export function payoutScript(address: string, network: Network): Uint8Array {
  const decoded = decodeAddress(address, network);
  if (decoded.type === "witness-unknown") {
    const hrp = networkParams(network).bech32Hrp;
    const version = decoded.witnessVersion ?? 0;
    const length = decoded.program?.length ?? 0;
    const what =
      version === 1
        ? `a witness version 1 program of ${length} bytes, which is not Taproot (Taproot programs are ${P2TR_PROGRAM_LENGTH} bytes)`
        : `a segwit version ${version} address, a version no soft fork has defined yet`;
    throw new AddressError(
      "unspendable-witness-version",
      address,
      `${quote(address)} is ${what}: no wallet can spend from it today, so a block reward paid there would be lost; use a P2WPKH (${hrp}1q…), P2TR (${hrp}1p…), P2WSH, P2SH or P2PKH address`,
    );
  }
  return decoded.script;
}

/**
 * The address an output script pays on `network`, or null when the script has no address form
 * (OP_RETURN, bare multisig, P2PK, malformed witness programs, …). Segwit addresses are lowercase.
 */
export function scriptToAddress(script: Uint8Array, network: Network): string | null {
  const params = networkParams(network);
  if (isP2pkhScript(script)) return base58check.encode(withVersion(params.p2pkhVersion, script.subarray(3, 23)));
  if (isP2shScript(script)) return base58check.encode(withVersion(params.p2shVersion, script.subarray(2, 22)));
  const witness = parseWitnessScript(script);
  if (witness === null) return null;
  if (witness.version === 0 && witness.program.length !== P2WPKH_PROGRAM_LENGTH && witness.program.length !== P2WSH_PROGRAM_LENGTH) return null;
  const coder = witness.version === 0 ? bech32 : bech32m;
  return coder.encode(params.bech32Hrp, [witness.version, ...coder.toWords(witness.program)], BECH32_MAX_LENGTH);
}

// ---------------------------------------------------------------------------------------------
// Segwit (BIP173 / BIP350)

function decodeSegwit(address: string, hrp: string, params: NetworkParams): DecodedAddress {
  const lower = address.toLowerCase();
  if (address !== lower && address !== address.toUpperCase()) {
    throw new AddressError(
      "mixed-case",
      address,
      `${quote(address)} mixes upper and lower case letters, which bech32 forbids (BIP173): write it all in lower case (or all in upper case), exactly as the wallet shows it`,
    );
  }
  if (address.length > BECH32_MAX_LENGTH) {
    throw new AddressError("too-long", address, `${quote(address)} is ${address.length} characters long; a segwit address has at most ${BECH32_MAX_LENGTH}`);
  }
  const data = lower.slice(hrp.length + 1);
  for (let i = 0; i < data.length; i++) {
    if (!BECH32_CHARSET.includes(data[i]!)) {
      const position = hrp.length + 1 + i + 1;
      throw new AddressError(
        "invalid-character",
        address,
        `${quote(address)} contains ${quote(address[position - 1]!)} at position ${position}, a character segwit addresses never use after "${hrp}1" (they never contain 1, b, i or o there)`,
      );
    }
  }
  if (data.length < BECH32_CHECKSUM_LENGTH) {
    throw new AddressError("too-short", address, `${quote(address)} is too short: a segwit address ends with a ${BECH32_CHECKSUM_LENGTH}-character checksum`);
  }

  const asBech32 = bech32.decodeUnsafe(lower, BECH32_MAX_LENGTH);
  const asBech32m = asBech32 === undefined ? bech32m.decodeUnsafe(lower, BECH32_MAX_LENGTH) : undefined;
  const decoded = asBech32 ?? asBech32m;
  if (decoded === undefined) {
    throw new AddressError(
      "bad-checksum",
      address,
      `${quote(address)} has an invalid checksum: a character is mistyped, swapped or missing; copy it again from the wallet`,
    );
  }
  const usesBech32m = asBech32 === undefined;

  const words = decoded.words;
  if (words.length === 0) {
    throw new AddressError("missing-data", address, `${quote(address)} has a valid checksum but no witness version or program after "${hrp}1"`);
  }
  const version = words[0]!;
  if (version > MAX_WITNESS_VERSION) {
    throw new AddressError(
      "invalid-witness-version",
      address,
      `${quote(address)} has witness version ${version}; segwit versions go from 0 to ${MAX_WITNESS_VERSION} (the character after "${hrp}1" is wrong)`,
    );
  }
  const program = wordsToProgram(address, words.slice(1));
  if (program.length < MIN_PROGRAM_LENGTH || program.length > MAX_PROGRAM_LENGTH) {
    throw new AddressError(
      "invalid-program-length",
      address,
      `${quote(address)} has a witness program of ${program.length} bytes; segwit programs are ${MIN_PROGRAM_LENGTH} to ${MAX_PROGRAM_LENGTH} bytes (characters are missing or extra)`,
    );
  }
  if (version === 0 && program.length !== P2WPKH_PROGRAM_LENGTH && program.length !== P2WSH_PROGRAM_LENGTH) {
    throw new AddressError(
      "invalid-program-length",
      address,
      `${quote(address)} has a witness version 0 program of ${program.length} bytes; version 0 programs are ${P2WPKH_PROGRAM_LENGTH} bytes (P2WPKH) or ${P2WSH_PROGRAM_LENGTH} bytes (P2WSH) (BIP141)`,
    );
  }
  if (usesBech32m !== (version !== 0)) {
    const [expected, found] = version === 0 ? ["bech32 (BIP173)", "bech32m"] : ["bech32m (BIP350)", "bech32"];
    throw new AddressError(
      "checksum-variant",
      address,
      `${quote(address)} is a witness version ${version} address with a ${found} checksum, but version ${version} addresses must use ${expected}: the address is corrupted or was made by software that predates BIP350`,
    );
  }
  if (hrp !== params.bech32Hrp) throw wrongNetwork(address, networksWithHrp(hrp), `the prefix "${hrp}1"`, params);

  return {
    type: witnessType(version, program.length),
    script: witnessScript(version, program),
    witnessVersion: version,
    program,
  };
}

/** 5-bit groups to bytes, with the padding rules of BIP173 (at most 4 bits, all zero). */
function wordsToProgram(address: string, words: readonly number[]): Uint8Array {
  const paddingBits = (words.length * 5) % 8;
  if (paddingBits > 4) {
    throw new AddressError("invalid-padding", address, `${quote(address)} has a leftover character at the end of its witness program (more than 4 bits of padding): a character is extra or missing`);
  }
  const lastWord = words.length > 0 ? words[words.length - 1]! : 0;
  if ((lastWord & ((1 << paddingBits) - 1)) !== 0) {
    throw new AddressError("invalid-padding", address, `${quote(address)} has non-zero padding bits at the end of its witness program: the character before the checksum is wrong`);
  }
  return bech32.fromWords([...words]);
}

function witnessType(version: number, programLength: number): AddressType {
  if (version === 0) return programLength === P2WPKH_PROGRAM_LENGTH ? "p2wpkh" : "p2wsh";
  if (version === 1 && programLength === P2TR_PROGRAM_LENGTH) return "p2tr";
  return "witness-unknown";
}

function witnessScript(version: number, program: Uint8Array): Uint8Array {
  const script = new Uint8Array(2 + program.length);
  script[0] = version === 0 ? OP_0 : OP_1 + version - 1;
  script[1] = program.length;
  script.set(program, 2);
  return script;
}

/** `OP_n <2..40-byte push>`: the shape of every witness output (BIP141), defined version or not. */
function parseWitnessScript(script: Uint8Array): { version: number; program: Uint8Array } | null {
  if (script.length < 2 + MIN_PROGRAM_LENGTH || script.length > 2 + MAX_PROGRAM_LENGTH) return null;
  const opcode = script[0]!;
  const version = opcode === OP_0 ? 0 : opcode >= OP_1 && opcode <= OP_16 ? opcode - OP_1 + 1 : -1;
  if (version < 0 || script[1] !== script.length - 2) return null;
  return { version, program: script.subarray(2) };
}

function looksLikeBech32(address: string, separator: number): boolean {
  const data = address.slice(separator + 1).toLowerCase();
  return data.length >= BECH32_CHECKSUM_LENGTH && [...data].every((c) => BECH32_CHARSET.includes(c));
}

// ---------------------------------------------------------------------------------------------
// Base58Check (P2PKH / P2SH)

function isBase58(address: string): boolean {
  return [...address].every((c) => BASE58_ALPHABET.includes(c));
}

/**
 * The index of the only non-base58 character(s) of a string that otherwise has the length of a
 * base58 address (26 to 35 characters), or -1: a likely typo such as 0 for o, worth pointing at.
 */
function base58Typo(address: string): number {
  if (address.length < BASE58_ADDRESS_MIN_LENGTH || address.length > BASE58_ADDRESS_MAX_LENGTH) return -1;
  const bad = [...address].flatMap((c, i) => (BASE58_ALPHABET.includes(c) ? [] : [i]));
  return bad.length > 0 && bad.length <= 2 ? bad[0]! : -1;
}

function tryBase58check(address: string): Uint8Array | undefined {
  if (address.length > BASE58_MAX_LENGTH) return undefined;
  try {
    return base58check.decode(address);
  } catch {
    return undefined;
  }
}

function interpretBase58(address: string, payload: Uint8Array, params: NetworkParams): DecodedAddress {
  const version = payload.length > 0 ? payload[0]! : -1;
  const body = payload.subarray(1);
  if (version < 0 || body.length !== HASH160_LENGTH) {
    if (WIF_VERSIONS.has(version) && WIF_PAYLOAD_LENGTHS.has(payload.length)) {
      throw new AddressError(
        "not-an-address",
        address,
        "this is a private key (WIF), not an address: never put a private key in the pool's config; give the address it belongs to instead (the key may now be exposed: move its funds)",
      );
    }
    if (payload.length === EXTENDED_KEY_PAYLOAD_LENGTH) {
      throw new AddressError("not-an-address", address, `${quote(address)} is an extended key (xpub/xprv), not an address: give one address derived from it`);
    }
    throw new AddressError("unknown-format", address, `${quote(address)} is valid Base58Check but holds ${payload.length} bytes, not the ${1 + HASH160_LENGTH} of an address: ${expectedPrefixes(params)}`);
  }
  if (version === params.p2pkhVersion) return { type: "p2pkh", script: p2pkhScript(body) };
  if (version === params.p2shVersion) return { type: "p2sh", script: p2shScript(body) };
  const owners = NETWORK_NAMES.filter((n) => NETWORKS[n].p2pkhVersion === version || NETWORKS[n].p2shVersion === version);
  if (owners.length > 0) throw wrongNetwork(address, owners, `the base58 version byte 0x${hexByte(version)}`, params);
  throw new AddressError(
    "unknown-prefix",
    address,
    `${quote(address)} has base58 version byte 0x${hexByte(version)}, which no Bitcoin address uses (is it another coin's address?): ${expectedPrefixes(params)}`,
  );
}

function p2pkhScript(hash: Uint8Array): Uint8Array {
  return Uint8Array.of(OP_DUP, OP_HASH160, HASH160_LENGTH, ...hash, OP_EQUALVERIFY, OP_CHECKSIG);
}

function p2shScript(hash: Uint8Array): Uint8Array {
  return Uint8Array.of(OP_HASH160, HASH160_LENGTH, ...hash, OP_EQUAL);
}

function isP2pkhScript(s: Uint8Array): boolean {
  return s.length === 25 && s[0] === OP_DUP && s[1] === OP_HASH160 && s[2] === HASH160_LENGTH && s[23] === OP_EQUALVERIFY && s[24] === OP_CHECKSIG;
}

function isP2shScript(s: Uint8Array): boolean {
  return s.length === 23 && s[0] === OP_HASH160 && s[1] === HASH160_LENGTH && s[22] === OP_EQUAL;
}

function withVersion(version: number, hash: Uint8Array): Uint8Array {
  return Uint8Array.of(version, ...hash);
}

// ---------------------------------------------------------------------------------------------
// Messages

function rejectUnprintable(address: string): void {
  for (let i = 0; i < address.length; i++) {
    const code = address.charCodeAt(i);
    if (code > 0x20 && code < 0x7f) continue;
    const what = code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d ? "whitespace" : `the character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    throw new AddressError(
      "invalid-character",
      address,
      `${quote(address)} contains ${what} at position ${i + 1}; Bitcoin addresses are only letters and digits (check for stray spaces or quotes)`,
    );
  }
}

function wrongNetwork(address: string, owners: readonly Network[], marker: string, params: NetworkParams): AddressError {
  const whose =
    owners.length === 1
      ? `a ${owners[0]} address`
      : `an address of the test networks (${listNames(owners, "and")} share ${marker})`;
  return new AddressError("wrong-network", address, `${quote(address)} is ${whose}, but the pool runs on ${params.name}: ${expectedPrefixes(params)}`);
}

function networksWithHrp(hrp: string): Network[] {
  return NETWORK_NAMES.filter((n) => NETWORKS[n].bech32Hrp === hrp);
}

/** What an operator should look for, e.g. `mainnet addresses start with "bc1", "1" or "3"`. */
function expectedPrefixes(params: NetworkParams): string {
  const starts = [`${params.bech32Hrp}1`, ...base58Leads(params.p2pkhVersion), ...base58Leads(params.p2shVersion)];
  return `${params.name} addresses start with ${listNames(starts.map(quote))}`;
}

/**
 * The first characters a 25-byte Base58Check string with this version byte can have: the
 * lowest and highest hashes bound them.
 */
function base58Leads(version: number): string[] {
  const lowest = base58check.encode(withVersion(version, new Uint8Array(HASH160_LENGTH)))[0]!;
  const highest = base58check.encode(withVersion(version, new Uint8Array(HASH160_LENGTH).fill(0xff)))[0]!;
  const from = BASE58_ALPHABET.indexOf(lowest);
  const to = BASE58_ALPHABET.indexOf(highest);
  return [...BASE58_ALPHABET.slice(from, to + 1)];
}

function listNames(names: readonly string[], conjunction: "or" | "and" = "or"): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} ${conjunction} ${names[names.length - 1]}`;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, "0");
}
