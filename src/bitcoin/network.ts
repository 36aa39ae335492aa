/**
 * The Bitcoin networks the pool can run on, and the per-network constants it needs: address
 * encodings, the node's default RPC port, the subsidy schedule and the proof-of-work limit.
 * Values are those of Bitcoin Core's chainparams.
 */
import { StratumV2Error } from "../errors.ts";

export type Network = "mainnet" | "testnet" | "testnet4" | "signet" | "regtest";

/** The chain names Bitcoin Core reports in `getblockchaininfo.chain`. */
export type CoreChainName = "main" | "test" | "testnet4" | "signet" | "regtest";

export interface NetworkParams {
  readonly name: Network;
  /** How Bitcoin Core names this chain (`getblockchaininfo.chain`). */
  readonly coreChainName: CoreChainName;
  /** Human-readable part of segwit addresses (BIP173). */
  readonly bech32Hrp: string;
  /** Base58Check version byte of P2PKH addresses. */
  readonly p2pkhVersion: number;
  /** Base58Check version byte of P2SH addresses. */
  readonly p2shVersion: number;
  readonly defaultRpcPort: number;
  /** Blocks between subsidy halvings. */
  readonly halvingInterval: number;
  /** The easiest allowed target, in compact ("nBits") form. */
  readonly powLimitBits: number;
}

/**
 * Keyed by our network names; the key order is the order shown to operators.
 * testnet, testnet4 and signet share every address prefix, so an address alone cannot tell them
 * apart; regtest shares their base58 versions but has its own bech32 prefix.
 */
export const NETWORKS: Readonly<Record<Network, NetworkParams>> = {
  mainnet: {
    name: "mainnet",
    coreChainName: "main",
    bech32Hrp: "bc",
    p2pkhVersion: 0x00,
    p2shVersion: 0x05,
    defaultRpcPort: 8332,
    halvingInterval: 210_000,
    powLimitBits: 0x1d00ffff,
  },
  testnet: {
    name: "testnet",
    coreChainName: "test",
    bech32Hrp: "tb",
    p2pkhVersion: 0x6f,
    p2shVersion: 0xc4,
    defaultRpcPort: 18332,
    halvingInterval: 210_000,
    powLimitBits: 0x1d00ffff,
  },
  testnet4: {
    name: "testnet4",
    coreChainName: "testnet4",
    bech32Hrp: "tb",
    p2pkhVersion: 0x6f,
    p2shVersion: 0xc4,
    defaultRpcPort: 48332,
    halvingInterval: 210_000,
    powLimitBits: 0x1d00ffff,
  },
  signet: {
    name: "signet",
    coreChainName: "signet",
    bech32Hrp: "tb",
    p2pkhVersion: 0x6f,
    p2shVersion: 0xc4,
    defaultRpcPort: 38332,
    halvingInterval: 210_000,
    // The default (global) signet's limit; a custom signet may configure another.
    powLimitBits: 0x1e0377ae,
  },
  regtest: {
    name: "regtest",
    coreChainName: "regtest",
    bech32Hrp: "bcrt",
    p2pkhVersion: 0x6f,
    p2shVersion: 0xc4,
    defaultRpcPort: 18443,
    halvingInterval: 150,
    powLimitBits: 0x207fffff,
  },
};

const NETWORK_NAMES: readonly Network[] = Object.keys(NETWORKS) as Network[];

/** Our names first, then Bitcoin Core's, so a config file can use either. */
const NETWORK_BY_NAME: ReadonlyMap<string, Network> = new Map<string, Network>([
  ...NETWORK_NAMES.map((n): [string, Network] => [n, n]),
  ...NETWORK_NAMES.map((n): [string, Network] => [NETWORKS[n].coreChainName, n]),
]);

/**
 * Accepts our names ("mainnet", "testnet", …) and the ones Bitcoin Core reports in
 * `getblockchaininfo.chain` ("main", "test", …), case-insensitively.
 */
export function parseNetwork(name: string): Network {
  const network = NETWORK_BY_NAME.get(name.trim().toLowerCase());
  if (network === undefined) {
    const accepted = [...NETWORK_BY_NAME.keys()].map((n) => JSON.stringify(n)).join(", ");
    throw StratumV2Error.config(`unknown Bitcoin network ${JSON.stringify(name)}: expected one of ${accepted}`);
  }
  return network;
}

/** The parameters of `network`; rejects a name outside `Network` (e.g. from untyped JSON). */
export function networkParams(network: Network): NetworkParams {
  if (!Object.hasOwn(NETWORKS, network)) {
    throw StratumV2Error.config(`unknown Bitcoin network ${JSON.stringify(network)}: expected one of ${NETWORK_NAMES.join(", ")}`);
  }
  return NETWORKS[network];
}
