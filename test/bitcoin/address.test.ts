import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { bech32m } from "@scure/base";
import {
  AddressError,
  addressToScript,
  decodeAddress,
  payoutScript,
  scriptToAddress,
  type AddressErrorReason,
  type AddressType,
} from "../../src/bitcoin/address.ts";
import { NETWORKS, networkParams, parseNetwork, type Network } from "../../src/bitcoin/network.ts";
import { StratumV2Error } from "../../src/errors.ts";

const ALL_NETWORKS: readonly Network[] = ["mainnet", "testnet", "testnet4", "signet", "regtest"];

/** Runs `fn` and returns the AddressError it throws; fails the test if it throws nothing else. */
function addressError(fn: () => unknown): AddressError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AddressError) return e;
    throw e;
  }
  throw new Error("expected an AddressError, nothing was thrown");
}

/** The network whose bech32 prefix the vector uses (BIP vectors are bc/tb; others default to mainnet). */
function networkForVector(address: string): Network {
  return address.toLowerCase().startsWith("tb1") ? "testnet" : "mainnet";
}

describe("network parameters", () => {
  test("NETWORKS holds Bitcoin Core's chainparams values", () => {
    const table = ALL_NETWORKS.map((n) => {
      const p = NETWORKS[n];
      return [p.name, p.coreChainName, p.bech32Hrp, p.p2pkhVersion, p.p2shVersion, p.defaultRpcPort, p.halvingInterval, p.powLimitBits];
    });
    expect(table).toEqual([
      ["mainnet", "main", "bc", 0x00, 0x05, 8332, 210000, 0x1d00ffff],
      ["testnet", "test", "tb", 0x6f, 0xc4, 18332, 210000, 0x1d00ffff],
      ["testnet4", "testnet4", "tb", 0x6f, 0xc4, 48332, 210000, 0x1d00ffff],
      ["signet", "signet", "tb", 0x6f, 0xc4, 38332, 210000, 0x1e0377ae],
      ["regtest", "regtest", "bcrt", 0x6f, 0xc4, 18443, 150, 0x207fffff],
    ]);
    expect(Object.keys(NETWORKS)).toEqual([...ALL_NETWORKS]);
  });

  test("parseNetwork accepts our names and getblockchaininfo.chain names", () => {
    const parsed = ["main", "test", "testnet4", "signet", "regtest", "mainnet", "testnet", " MainNet ", "TEST"].map(parseNetwork);
    expect(parsed).toEqual(["mainnet", "testnet", "testnet4", "signet", "regtest", "mainnet", "testnet", "mainnet", "testnet"]);
  });

  test("parseNetwork names what it accepts when it refuses", () => {
    let error: unknown;
    try {
      parseNetwork("bitcoin");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StratumV2Error);
    expect((error as StratumV2Error).kind).toBe("ConfigError");
    expect((error as StratumV2Error).message).toBe(
      'unknown Bitcoin network "bitcoin": expected one of "mainnet", "testnet", "testnet4", "signet", "regtest", "main", "test"',
    );
    expect(() => parseNetwork("")).toThrow('unknown Bitcoin network ""');
  });

  test("networkParams refuses a name outside Network", () => {
    expect(networkParams("signet").bech32Hrp).toBe("tb");
    expect(() => networkParams("testnet3" as Network)).toThrow('unknown Bitcoin network "testnet3": expected one of mainnet, testnet, testnet4, signet, regtest');
    expect(() => networkParams("toString" as Network)).toThrow("unknown Bitcoin network");
    expect(() => decodeAddress("bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", "main" as Network)).toThrow("unknown Bitcoin network");
  });
});

// Test vectors transcribed from BIP350 "Test vectors for v0-v16 native segregated witness addresses"
// and BIP173 "Test vectors" (github.com/bitcoin/bips, bip-0350.mediawiki and bip-0173.mediawiki at
// commit 7fe0b034ec967b52a5a28276419117326df93263).

interface ValidVector {
  address: string;
  script: string;
  type: AddressType;
}

const BIP350_VALID: readonly ValidVector[] = [
  { address: "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", script: "0014751e76e8199196d454941c45d1b3a323f1433bd6", type: "p2wpkh" },
  { address: "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", script: "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262", type: "p2wsh" },
  {
    address: "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
    script: "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    type: "witness-unknown",
  },
  { address: "BC1SW50QGDZ25J", script: "6002751e", type: "witness-unknown" },
  { address: "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", script: "5210751e76e8199196d454941c45d1b3a323", type: "witness-unknown" },
  { address: "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", script: "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433", type: "p2wsh" },
  { address: "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", script: "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433", type: "p2tr" },
  { address: "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", script: "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", type: "p2tr" },
];

/** [address, the reason BIP350 gives, our reason] */
const BIP350_INVALID: readonly (readonly [string, string, AddressErrorReason])[] = [
  ["tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", "Invalid human-readable part", "unknown-prefix"],
  ["bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "Invalid checksum (Bech32 instead of Bech32m)", "checksum-variant"],
  ["tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf", "Invalid checksum (Bech32 instead of Bech32m)", "checksum-variant"],
  ["BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", "Invalid checksum (Bech32 instead of Bech32m)", "checksum-variant"],
  ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "Invalid checksum (Bech32m instead of Bech32)", "checksum-variant"],
  ["tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47", "Invalid checksum (Bech32m instead of Bech32)", "checksum-variant"],
  ["bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "Invalid character in checksum", "invalid-character"],
  ["BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "Invalid witness version", "invalid-witness-version"],
  ["bc1pw5dgrnzv", "Invalid program length (1 byte)", "invalid-program-length"],
  ["bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", "Invalid program length (41 bytes)", "invalid-program-length"],
  ["BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "Invalid program length for witness version 0 (per BIP141)", "invalid-program-length"],
  ["tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", "Mixed case", "mixed-case"],
  ["bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", "zero padding of more than 4 bits", "invalid-padding"],
  ["tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", "Non-zero padding in 8-to-5 conversion", "invalid-padding"],
  ["bc1gmk9yu", "Empty data section", "missing-data"],
];

/** BIP173's valid segwit list; BIP350 turned its v1+ entries (bech32 checksums) into invalid ones. */
const BIP173_SEGWIT: readonly (readonly [string, string | AddressErrorReason])[] = [
  ["BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"],
  ["tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"],
  ["bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx", "checksum-variant"],
  ["BC1SW50QA3JX3S", "checksum-variant"],
  ["bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", "checksum-variant"],
  ["tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"],
];

const BIP173_INVALID: readonly (readonly [string, string, AddressErrorReason])[] = [
  ["tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", "Invalid human-readable part", "unknown-prefix"],
  ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "Invalid checksum", "bad-checksum"],
  ["BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", "Invalid witness version", "invalid-witness-version"],
  ["bc1rw5uspcuh", "Invalid program length", "invalid-program-length"],
  ["bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90", "Invalid program length", "invalid-program-length"],
  ["BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "Invalid program length for witness version 0 (per BIP141)", "invalid-program-length"],
  ["tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", "Mixed case", "mixed-case"],
  ["bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "zero padding of more than 4 bits", "invalid-padding"],
  ["tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", "Non-zero padding in 8-to-5 conversion", "invalid-padding"],
  ["bc1gmk9yu", "Empty data section", "missing-data"],
];

/**
 * The generic bech32 (BIP173) and bech32m (BIP350) string vectors, valid and invalid: none of
 * them is a Bitcoin address (no bc/tb/bcrt prefix), and each must be refused without a crash.
 */
const BECH32_STRINGS_NOT_ADDRESSES: readonly (readonly [string, AddressErrorReason])[] = [
  ["A12UEL5L", "unknown-prefix"],
  ["a12uel5l", "unknown-prefix"],
  ["an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs", "unknown-prefix"],
  ["abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "unknown-prefix"],
  ["11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j", "unknown-prefix"],
  ["split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "unknown-prefix"],
  ["?1ezyfcl", "unknown-prefix"],
  ["\x201nwldj5", "invalid-character"],
  ["\x7f1axkwrx", "invalid-character"],
  ["\x801eym55h", "invalid-character"],
  ["an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx", "unknown-prefix"],
  ["pzry9x0s0muk", "unknown-format"],
  ["1pzry9x0s0muk", "unknown-format"],
  ["x1b4n0q5v", "unknown-format"],
  ["li1dgmt3", "unknown-format"],
  ["de1lg7wt\xff", "invalid-character"],
  ["A1G7SGD8", "unknown-prefix"],
  ["10a06t8", "unknown-format"],
  ["1qzzfhee", "unknown-format"],
  ["A1LQFN3A", "unknown-prefix"],
  ["a1lqfn3a", "unknown-prefix"],
  ["an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6", "unknown-prefix"],
  ["abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx", "unknown-prefix"],
  ["11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8", "unknown-prefix"],
  ["split1checkupstagehandshakeupstreamerranterredcaperredlc445v", "unknown-prefix"],
  ["?1v759aa", "unknown-prefix"],
  ["\x201xj0phk", "invalid-character"],
  ["\x7f1g6xzxy", "invalid-character"],
  ["\x801vctc34", "invalid-character"],
  ["an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4", "unknown-prefix"],
  ["qyrz8wqd2c9m", "unknown-format"],
  ["1qyrz8wqd2c9m", "unknown-format"],
  ["y1b0jsk6g", "unknown-format"],
  ["lt1igcx5c0", "unknown-format"],
  ["in1muywd", "unknown-format"],
  ["mm1crxm3i", "unknown-format"],
  ["au1s5cgom", "unknown-format"],
  ["M1VUXWEZ", "unknown-prefix"],
  ["16plkw9", "unknown-format"],
  ["1p2gdwpf", "unknown-format"],
];

describe("BIP350 segwit address vectors", () => {
  test.each(BIP350_VALID.map((v) => [v.address, v]))("valid %s", (_, v) => {
    const network = networkForVector(v.address);
    const decoded = decodeAddress(v.address, network);
    expect(bytesToHex(decoded.script)).toBe(v.script);
    expect(decoded.type).toBe(v.type);
    const versionOpcode = hexToBytes(v.script)[0]!;
    expect(decoded.witnessVersion).toBe(versionOpcode === 0 ? 0 : versionOpcode - 0x50);
    expect(bytesToHex(decoded.program!)).toBe(v.script.slice(4));
    expect(bytesToHex(addressToScript(v.address, network))).toBe(v.script);
    expect(scriptToAddress(hexToBytes(v.script), network)).toBe(v.address.toLowerCase());
  });

  test.each(BIP350_INVALID.map(([a, why, reason]) => [a, why, reason]))("invalid %s (%s)", (address, _, reason) => {
    const error = addressError(() => decodeAddress(address, networkForVector(address)));
    expect(error.reason).toBe(reason);
  });
});

describe("BIP173 segwit address vectors (under BIP350 rules)", () => {
  test.each(BIP173_SEGWIT.map(([a, expected]) => [a, expected]))("%s -> %s", (address, expected) => {
    const network = networkForVector(address);
    if (expected.includes("-")) {
      expect(addressError(() => decodeAddress(address, network)).reason).toBe(expected as AddressErrorReason);
    } else {
      expect(bytesToHex(addressToScript(address, network))).toBe(expected);
    }
  });

  test.each(BIP173_INVALID.map(([a, why, reason]) => [a, why, reason]))("invalid %s (%s)", (address, _, reason) => {
    expect(addressError(() => decodeAddress(address, networkForVector(address))).reason).toBe(reason);
  });
});

describe("BIP173/BIP350 bech32 string vectors are not addresses", () => {
  test.each(BECH32_STRINGS_NOT_ADDRESSES.map(([s, reason]) => [JSON.stringify(s), s, reason]))("%s", (_, s, reason) => {
    for (const network of ALL_NETWORKS) {
      expect(addressError(() => decodeAddress(s, network)).reason).toBe(reason);
    }
  });
});

// Bitcoin Core's key_io_valid.json, address entries only (origin in the fixture's "source").
interface KeyIoVector {
  address: string;
  script: string;
  chain: string;
  tryCaseFlip: boolean;
}
const KEY_IO: readonly KeyIoVector[] = (
  JSON.parse(readFileSync(join(import.meta.dir, "fixtures", "address-key-io-valid.json"), "utf8")) as { vectors: KeyIoVector[] }
).vectors;

function isSegwitVector(v: KeyIoVector): boolean {
  return /^(bc|tb|bcrt)1/.test(v.address);
}

/** Where an address of `chain` is accepted, written out rather than derived from NETWORKS. */
function acceptingNetworks(v: KeyIoVector): readonly Network[] {
  const home = parseNetwork(v.chain);
  if (home === "mainnet") return ["mainnet"];
  if (isSegwitVector(v)) return home === "regtest" ? ["regtest"] : ["testnet", "testnet4", "signet"];
  return ["testnet", "testnet4", "signet", "regtest"];
}

describe("Bitcoin Core key_io_valid.json addresses", () => {
  test("the fixture holds the 54 address entries on all four chain names", () => {
    expect(KEY_IO.length).toBe(54);
    expect(new Set(KEY_IO.map((v) => v.chain))).toEqual(new Set(["main", "testnet4", "signet", "regtest"]));
  });

  test.each(KEY_IO.map((v) => [v.address, v.chain, v]))("%s on %s", (_, _chain, v) => {
    const network = parseNetwork(v.chain);
    expect(bytesToHex(addressToScript(v.address, network))).toBe(v.script);
    if (v.tryCaseFlip) expect(bytesToHex(addressToScript(v.address.toUpperCase(), network))).toBe(v.script);
    expect(scriptToAddress(hexToBytes(v.script), network)).toBe(v.address);
  });

  test("regtest bech32 addresses use bcrt1 and decode only on regtest", () => {
    const regtestSegwit = KEY_IO.filter((v) => v.chain === "regtest" && isSegwitVector(v));
    expect(regtestSegwit.length).toBe(8);
    for (const v of regtestSegwit) {
      expect(v.address.startsWith("bcrt1")).toBe(true);
      expect(bytesToHex(addressToScript(v.address, "regtest"))).toBe(v.script);
      for (const other of ["mainnet", "testnet", "testnet4", "signet"] as const) {
        const error = addressError(() => addressToScript(v.address, other));
        expect(error.reason).toBe("wrong-network");
        expect(error.message).toBe(
          `${JSON.stringify(v.address)} is a regtest address, but the pool runs on ${other}: ` +
            (other === "mainnet" ? 'mainnet addresses start with "bc1", "1" or "3"' : `${other} addresses start with "tb1", "m", "n" or "2"`),
        );
      }
    }
  });

  test("every address on every network: accepted where its prefix belongs, otherwise a wrong-network error", () => {
    let accepted = 0;
    let refused = 0;
    for (const v of KEY_IO) {
      const home = parseNetwork(v.chain);
      for (const network of ALL_NETWORKS) {
        if (acceptingNetworks(v).includes(network)) {
          expect(bytesToHex(addressToScript(v.address, network))).toBe(v.script);
          accepted++;
          continue;
        }
        const error = addressError(() => addressToScript(v.address, network));
        expect(error.reason).toBe("wrong-network");
        expect(error.kind).toBe("ConfigError");
        expect(error.address).toBe(v.address);
        expect(error.message.startsWith(`${JSON.stringify(v.address)} is `)).toBe(true);
        expect(error.message).toContain(`but the pool runs on ${network}: ${network} addresses start with`);
        if (home === "mainnet") expect(error.message).toContain("is a mainnet address");
        else if (home === "regtest" && isSegwitVector(v)) expect(error.message).toContain("is a regtest address");
        else if (isSegwitVector(v)) expect(error.message).toContain('test networks (testnet, testnet4 and signet share the prefix "tb1")');
        else expect(error.message).toMatch(/test networks \(testnet, testnet4, signet and regtest share the base58 version byte 0x(6f|c4)\)/);
        refused++;
      }
    }
    // 14 mainnet vectors accepted once each; 16 tb1 vectors 3 times; 8 bcrt1 once; 16 test base58 4 times.
    expect([accepted, refused]).toEqual([14 + 16 * 3 + 8 + 16 * 4, 54 * 5 - (14 + 16 * 3 + 8 + 16 * 4)]);
  });
});

describe("base58 P2PKH / P2SH", () => {
  // Well-known mainnet pairs, cross-checked with bitcoinjs-lib's address.toOutputScript.
  test("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 is P2PKH 77bff20c…", () => {
    const decoded = decodeAddress("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "mainnet");
    expect(decoded.type).toBe("p2pkh");
    expect(bytesToHex(decoded.script)).toBe("76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac");
    expect(decoded.witnessVersion).toBeUndefined();
    expect(decoded.program).toBeUndefined();
  });

  test("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy is P2SH b472a266…", () => {
    const decoded = decodeAddress("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "mainnet");
    expect(decoded.type).toBe("p2sh");
    expect(bytesToHex(decoded.script)).toBe("a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87");
  });

  test("testnet pairs (from key_io_valid.json) decode on testnet, signet and regtest alike", () => {
    for (const network of ["testnet", "testnet4", "signet", "regtest"] as const) {
      expect(decodeAddress("mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ", network).type).toBe("p2pkh");
      expect(bytesToHex(addressToScript("mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ", network))).toBe("76a914ce28b26c57472737f5c3561a1761185bd8589a4388ac");
      expect(decodeAddress("2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK", network).type).toBe("p2sh");
      expect(bytesToHex(addressToScript("2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK", network))).toBe("a914ce0bba75891ff9ec60148d4bd4a09ee2dc5c933187");
    }
  });

  test("a mainnet address on testnet and a testnet address on mainnet", () => {
    expect(addressError(() => decodeAddress("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "testnet")).message).toBe(
      '"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2" is a mainnet address, but the pool runs on testnet: testnet addresses start with "tb1", "m", "n" or "2"',
    );
    expect(addressError(() => decodeAddress("2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK", "mainnet")).message).toBe(
      '"2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK" is an address of the test networks (testnet, testnet4, signet and regtest share the base58 version byte 0xc4), ' +
        'but the pool runs on mainnet: mainnet addresses start with "bc1", "1" or "3"',
    );
  });
});

describe("error messages an operator can act on", () => {
  test("a testnet address on mainnet names the test networks", () => {
    const address = "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7";
    const error = addressError(() => payoutScript(address, "mainnet"));
    expect(error).toBeInstanceOf(StratumV2Error);
    expect(error.kind).toBe("ConfigError");
    expect(error.name).toBe("AddressError");
    expect(error.reason).toBe("wrong-network");
    expect(error.message).toBe(
      `"${address}" is an address of the test networks (testnet, testnet4 and signet share the prefix "tb1"), ` +
        'but the pool runs on mainnet: mainnet addresses start with "bc1", "1" or "3"',
    );
  });

  test("a mainnet segwit address on regtest", () => {
    expect(addressError(() => payoutScript("bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", "regtest")).message).toBe(
      '"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv" is a mainnet address, but the pool runs on regtest: regtest addresses start with "bcrt1", "m", "n" or "2"',
    );
  });

  test("empty input", () => {
    for (const input of ["", "   "]) {
      const error = addressError(() => decodeAddress(input, "mainnet"));
      expect(error.reason).toBe("empty");
      expect(error.message).toBe("the address is empty: give the Bitcoin address the pool pays found blocks to");
    }
  });

  test("whitespace and control characters are pointed at, not trimmed", () => {
    const error = addressError(() => decodeAddress("bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv\n", "mainnet"));
    expect(error.reason).toBe("invalid-character");
    expect(error.message).toBe(
      '"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv\\n" contains whitespace at position 43; Bitcoin addresses are only letters and digits (check for stray spaces or quotes)',
    );
    expect(addressError(() => decodeAddress("bc1q\u200bvyq0", "mainnet")).message).toContain("contains the character U+200B at position 5");
  });

  test("bad bech32 checksum", () => {
    expect(addressError(() => decodeAddress("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "mainnet")).message).toBe(
      '"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5" has an invalid checksum: a character is mistyped, swapped or missing; copy it again from the wallet',
    );
  });

  test("bad base58 checksum", () => {
    const error = addressError(() => decodeAddress("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "mainnet"));
    expect(error.reason).toBe("bad-checksum");
    expect(error.message).toBe(
      '"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3" has the shape of a base58 address but its checksum is wrong: a character is mistyped, swapped or missing; copy it again from the wallet',
    );
  });

  test("bech32 vs bech32m mismatch, both ways", () => {
    expect(addressError(() => decodeAddress("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "mainnet")).message).toBe(
      '"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd" is a witness version 1 address with a bech32 checksum, ' +
        "but version 1 addresses must use bech32m (BIP350): the address is corrupted or was made by software that predates BIP350",
    );
    expect(addressError(() => decodeAddress("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "mainnet")).message).toBe(
      '"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh" is a witness version 0 address with a bech32m checksum, ' +
        "but version 0 addresses must use bech32 (BIP173): the address is corrupted or was made by software that predates BIP350",
    );
  });

  test("mixed case", () => {
    expect(addressError(() => decodeAddress("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", "testnet")).message).toBe(
      '"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7" mixes upper and lower case letters, which bech32 forbids (BIP173): ' +
        "write it all in lower case (or all in upper case), exactly as the wallet shows it",
    );
    expect(addressError(() => decodeAddress("Bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", "mainnet")).reason).toBe("mixed-case");
  });

  test("invalid witness program lengths", () => {
    expect(addressError(() => decodeAddress("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "mainnet")).message).toBe(
      '"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P" has a witness version 0 program of 16 bytes; version 0 programs are 20 bytes (P2WPKH) or 32 bytes (P2WSH) (BIP141)',
    );
    expect(addressError(() => decodeAddress("bc1pw5dgrnzv", "mainnet")).message).toBe(
      '"bc1pw5dgrnzv" has a witness program of 1 bytes; segwit programs are 2 to 40 bytes (characters are missing or extra)',
    );
    expect(addressError(() => decodeAddress("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", "mainnet")).message).toContain(
      "has a witness program of 41 bytes",
    );
  });

  test("padding: every leftover bit count from 5 to 7 is refused, as are non-zero pad bits", () => {
    // n 5-bit words after the version leave (5n mod 8) pad bits; BIP173 allows at most 4.
    const programs = [33, 9, 3, 6, 2].map((n) => bech32m.encode("bc", [1, ...new Array<number>(n).fill(0)]));
    expect(programs.map((a) => [((a.length - 4 - 6) * 5) % 8, addressError(() => decodeAddress(a, "mainnet")).reason])).toEqual([
      [5, "invalid-padding"],
      [5, "invalid-padding"],
      [7, "invalid-padding"],
      [6, "invalid-padding"],
      [2, "invalid-program-length"],
    ]);
    expect(addressError(() => decodeAddress(programs[0]!, "mainnet")).message).toBe(
      `"${programs[0]}" has a leftover character at the end of its witness program (more than 4 bits of padding): a character is extra or missing`,
    );
    const nonZeroPad = bech32m.encode("bc", [1, ...new Array<number>(51).fill(0), 1]);
    expect(addressError(() => decodeAddress(nonZeroPad, "mainnet")).message).toBe(
      `"${nonZeroPad}" has non-zero padding bits at the end of its witness program: the character before the checksum is wrong`,
    );
  });

  test("witness version above 16", () => {
    expect(addressError(() => decodeAddress("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "mainnet")).message).toBe(
      '"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R" has witness version 17; segwit versions go from 0 to 16 (the character after "bc1" is wrong)',
    );
  });

  test("a character bech32 never uses", () => {
    expect(addressError(() => decodeAddress("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "mainnet")).message).toBe(
      '"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4" contains "o" at position 60, a character segwit addresses never use after "bc1" (they never contain 1, b, i or o there)',
    );
  });

  test("too short and too long segwit addresses", () => {
    expect(addressError(() => decodeAddress("bc1qqqq", "mainnet")).reason).toBe("too-short");
    expect(addressError(() => decodeAddress("bc1", "mainnet")).message).toBe('"bc1" is too short: a segwit address ends with a 6-character checksum');
    const long = `bc1q${"q".repeat(87)}`;
    expect(addressError(() => decodeAddress(long, "mainnet")).message).toBe(`"${long}" is 91 characters long; a segwit address has at most 90`);
  });

  test("unknown bech32 prefix and unknown format", () => {
    expect(addressError(() => decodeAddress("tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", "signet")).message).toBe(
      '"tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty" starts with "tc1", which is not a Bitcoin address prefix: signet addresses start with "tb1", "m", "n" or "2"',
    );
    expect(addressError(() => decodeAddress("changeme", "mainnet")).message).toBe(
      '"changeme" is not a Bitcoin address: mainnet addresses start with "bc1", "1" or "3"',
    );
    expect(addressError(() => decodeAddress("0x52908400098527886E0F7030069857D2E4169EE7", "mainnet")).reason).toBe("unknown-format");
  });

  test("a base58 address with a character base58 leaves out", () => {
    const error = addressError(() => decodeAddress("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0", "mainnet"));
    expect(error.reason).toBe("invalid-character");
    expect(error.message).toBe(
      '"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0" contains "0" at position 34, a character base58 addresses never use (they leave out 0, O, I and l): it is mistyped',
    );
    expect(addressError(() => decodeAddress("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLl", "mainnet")).message).toContain('contains "l" at position 34');
  });

  test("a base58 version byte no Bitcoin network uses", () => {
    // Litecoin's P2PKH version 0x30 over the hash of 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2, checked with bitcoinjs-lib.
    const error = addressError(() => decodeAddress("LW98ceYNxYki9e9QxDACLn82TtVEPm4qmy", "mainnet"));
    expect(error.reason).toBe("unknown-prefix");
    expect(error.message).toBe(
      '"LW98ceYNxYki9e9QxDACLn82TtVEPm4qmy" has base58 version byte 0x30, which no Bitcoin address uses (is it another coin\'s address?): mainnet addresses start with "bc1", "1" or "3"',
    );
  });

  test("a private key (WIF) is refused without repeating it", () => {
    // Private keys from key_io_valid.json (test data, never used for funds).
    for (const [wif, network] of [
      ["5JuW2AMDYu4xVwRG9DZW18VbzQrGcd5RCgb99sS6ehJsNQXu5b9", "mainnet"],
      ["L5nJeqKmpHp4P7F8ZYyjwc5a7P4d8EabuGAzfGJk7yC1BJyzNaEd", "mainnet"],
      ["cV83kKisF3RQSvXbUCm9ox3kaz5JjEUBWcx8tNydfGJcyeUxuH47", "testnet4"],
    ] as const) {
      const error = addressError(() => decodeAddress(wif, network));
      expect(error.reason).toBe("not-an-address");
      expect(error.message).not.toContain(wif);
      expect(error.message).toContain("this is a private key (WIF), not an address");
    }
  });

  test("an extended public key is refused", () => {
    // BIP32 test vector 1, chain m.
    const xpub = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";
    expect(addressError(() => decodeAddress(xpub, "mainnet")).message).toBe(
      `"${xpub}" is an extended key (xpub/xprv), not an address: give one address derived from it`,
    );
  });
});

describe("bad checksums: every single-character change is caught", () => {
  const BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

  test("segwit: each data character replaced by the next one in the charset", () => {
    let checked = 0;
    for (const v of KEY_IO.filter(isSegwitVector)) {
      const network = parseNetwork(v.chain);
      const dataStart = v.address.lastIndexOf("1") + 1;
      for (let i = dataStart; i < v.address.length; i++) {
        const next = BECH32_CHARSET[(BECH32_CHARSET.indexOf(v.address[i]!) + 1) % 32]!;
        const mutated = v.address.slice(0, i) + next + v.address.slice(i + 1);
        expect(addressError(() => decodeAddress(mutated, network)).reason).toBe("bad-checksum");
        checked++;
      }
    }
    // 32 segwit vectors, 1604 characters after their separators.
    expect(checked).toBe(1604);
  });

  test("segwit: each pair of adjacent different characters swapped", () => {
    for (const v of KEY_IO.filter(isSegwitVector)) {
      const network = parseNetwork(v.chain);
      for (let i = v.address.lastIndexOf("1") + 1; i + 1 < v.address.length; i++) {
        if (v.address[i] === v.address[i + 1]) continue;
        const swapped = v.address.slice(0, i) + v.address[i + 1] + v.address[i] + v.address.slice(i + 2);
        expect(addressError(() => decodeAddress(swapped, network)).reason).toBe("bad-checksum");
      }
    }
  });

  test("base58: each character after the first replaced by the next one in the alphabet", () => {
    let checked = 0;
    for (const v of KEY_IO.filter((x) => !isSegwitVector(x))) {
      const network = parseNetwork(v.chain);
      for (let i = 1; i < v.address.length; i++) {
        const next = BASE58_ALPHABET[(BASE58_ALPHABET.indexOf(v.address[i]!) + 1) % 58]!;
        const mutated = v.address.slice(0, i) + next + v.address.slice(i + 1);
        expect(addressError(() => decodeAddress(mutated, network)).reason).toBe("bad-checksum");
        checked++;
      }
    }
    // 22 base58 vectors, 734 characters after their first.
    expect(checked).toBe(734);
  });
});

describe("robustness", () => {
  test("insertions and deletions in valid addresses only ever raise AddressError", () => {
    // A fixed linear congruential sequence: the same inputs on every run.
    let state = 12345;
    const next = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    const alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l1bioQPZRYXBIO 023456789ABCDEFGHJKLMNSTUVW";
    const reasons = new Set<AddressErrorReason>();
    let accepted = 0;
    for (let round = 0; round < 2000; round++) {
      const v = KEY_IO[next(KEY_IO.length)]!;
      const insert = round % 2 === 0;
      const at = next(v.address.length + (insert ? 1 : 0));
      const mutated = insert ? v.address.slice(0, at) + alphabet[next(alphabet.length)] + v.address.slice(at) : v.address.slice(0, at) + v.address.slice(at + 1);
      try {
        const decoded = decodeAddress(mutated, parseNetwork(v.chain));
        // Checksums make an accepted mutation a 1-in-a-billion event; none of these is one.
        expect(scriptToAddress(decoded.script, parseNetwork(v.chain))).not.toBeNull();
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(AddressError);
        reasons.add((e as AddressError).reason);
      }
    }
    expect(accepted).toBe(0);
    expect(reasons.has("bad-checksum")).toBe(true);
  });
});

describe("payoutScript", () => {
  test("accepts every spendable type and returns the scriptPubKey", () => {
    const cases: readonly (readonly [string, Network, AddressType])[] = [
      ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "mainnet", "p2pkh"],
      ["3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "mainnet", "p2sh"],
      ["bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", "mainnet", "p2wpkh"],
      ["bc1qyucykdlhp62tezs0hagqury402qwhk589q80tqs5myh3rxq34nwqhkdhv7", "mainnet", "p2wsh"],
      ["bc1p83n3au0rjylefxq2nc2xh2y4jzz4pm6zxj4mw5pagdjjr2a9f36s6jjnnu", "mainnet", "p2tr"],
      ["bcrt1pfwxjqvtt4tcxrtdluukfmy2dv7xd2qzdfy6kajv5nwn4yam3wxkq3553uh", "regtest", "p2tr"],
    ];
    for (const [address, network, type] of cases) {
      const decoded = decodeAddress(address, network);
      expect(decoded.type).toBe(type);
      expect(payoutScript(address, network)).toEqual(decoded.script);
    }
  });

  test("refuses future witness versions, explaining why", () => {
    const error = addressError(() => payoutScript("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "mainnet"));
    expect(error.reason).toBe("unspendable-witness-version");
    expect(error.kind).toBe("ConfigError");
    expect(error.message).toBe(
      '"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs" is a segwit version 2 address, a version no soft fork has defined yet: ' +
        "no wallet can spend from it today, so a block reward paid there would be lost; use a P2WPKH (bc1q…), P2TR (bc1p…), P2WSH, P2SH or P2PKH address",
    );
    expect(addressError(() => payoutScript("BC1SW50QGDZ25J", "mainnet")).message).toContain("is a segwit version 16 address");
    expect(addressError(() => payoutScript("tb1rgv5m6uvdk3kc7qsuz0c79v88ycr5w4wa", "testnet4")).message).toContain("use a P2WPKH (tb1q…), P2TR (tb1p…)");
  });

  test("refuses a version 1 program that is not a 32-byte Taproot key", () => {
    const address = "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y";
    expect(decodeAddress(address, "mainnet").type).toBe("witness-unknown");
    expect(addressError(() => payoutScript(address, "mainnet")).message).toContain(
      "is a witness version 1 program of 40 bytes, which is not Taproot (Taproot programs are 32 bytes): no wallet can spend from it today",
    );
  });

  test("passes decoding errors through", () => {
    expect(addressError(() => payoutScript("", "mainnet")).reason).toBe("empty");
    expect(addressError(() => payoutScript("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "mainnet")).reason).toBe("bad-checksum");
  });
});

describe("scriptToAddress", () => {
  test("scripts without an address form give null", () => {
    const noAddress = [
      "", // empty
      "6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9", // OP_RETURN witness commitment
      "410496b538e853519c726a2c91e61ec11600ae1390813a627c66fb8be7947be63c52da7589379515d4e0a604f8141781e62294721166bf621e73a82cbf2342c858eeac", // P2PK
      "5121020000000000000000000000000000000000000000000000000000000000000001" + "51ae", // bare 1-of-1 multisig
      "0015" + "00".repeat(21), // v0 program of 21 bytes
      "0014" + "00".repeat(19), // push length says 20, 19 follow
      "5101ff", // v1 program of 1 byte
      "5129" + "00".repeat(41), // v1 program of 41 bytes
      "4f02ffff", // OP_1NEGATE is not a witness version
      "76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ad", // P2PKH with OP_CHECKSIGVERIFY
      "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb88", // P2SH with OP_EQUALVERIFY
    ];
    for (const hex of noAddress) {
      for (const network of ALL_NETWORKS) expect(scriptToAddress(hexToBytes(hex), network)).toBeNull();
    }
  });

  test("the same script reads as each network's address", () => {
    // key_io_valid.json's testnet4 P2WPKH and P2PKH; their other forms computed with bitcoinjs-lib.
    const p2wpkh = hexToBytes("0014c0ef1202759fff90ff19128936814321ee59e111");
    expect(ALL_NETWORKS.map((n) => scriptToAddress(p2wpkh, n))).toEqual([
      "bc1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3239q0x",
      "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54",
      "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54",
      "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54",
      "bcrt1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3z787ru",
    ]);
    const p2pkh = hexToBytes("76a914ce28b26c57472737f5c3561a1761185bd8589a4388ac");
    expect(ALL_NETWORKS.map((n) => scriptToAddress(p2pkh, n))).toEqual([
      "1Ko4xC8FtwQ2qfNhDT1W1LYB7hsmQHV1Sr",
      "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ",
      "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ",
      "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ",
      "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ",
    ]);
  });

  test("round trip script -> address -> script for every witness version, length and network", () => {
    let count = 0;
    for (const network of ALL_NETWORKS) {
      for (let version = 0; version <= 16; version++) {
        const lengths = version === 0 ? [20, 32] : [2, 3, 20, 31, 32, 33, 40];
        for (const length of lengths) {
          const program = Uint8Array.from({ length }, (_, i) => (i * 37 + version * 11 + length) & 0xff);
          const script = Uint8Array.of(version === 0 ? 0 : 0x50 + version, length, ...program);
          const address = scriptToAddress(script, network);
          expect(address).not.toBeNull();
          expect(address!.startsWith(`${NETWORKS[network].bech32Hrp}1`)).toBe(true);
          const decoded = decodeAddress(address!, network);
          expect(decoded.script).toEqual(script);
          expect(decoded.witnessVersion).toBe(version);
          expect(decoded.program).toEqual(program);
          count++;
        }
      }
      for (const [prefix, suffix] of [["76a914", "88ac"], ["a914", "87"]] as const) {
        for (const fill of [0x00, 0x5a, 0xff]) {
          const script = hexToBytes(prefix + bytesToHex(new Uint8Array(20).fill(fill)) + suffix);
          expect(addressToScript(scriptToAddress(script, network)!, network)).toEqual(script);
          count++;
        }
      }
    }
    expect(count).toBe(5 * (2 + 16 * 7 + 6));
  });
});
