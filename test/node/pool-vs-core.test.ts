// The whole pool against a JSON-RPC server that answers like Bitcoin Core (cookie auth, a recorded
// regtest template with four transactions): a real SV2 miner finds a block, and the block that
// submitblock receives is checked by an independent library (bitcoinjs-lib): merkle root, witness
// commitment, proof of work, the template's transactions, BIP34 height and the payout split.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Block } from "bitcoinjs-lib";
import { scriptToAddress } from "../../src/bitcoin/address.ts";
import { bytesToHex } from "../../src/bitcoin/bytes.ts";
import { bip34HeightScript } from "../../src/bitcoin/script.ts";
import { startPool, type RunningPool } from "../../src/app.ts";
import { resolveConfig } from "../../src/config.ts";
import { createMemoryLogger } from "../../src/log.ts";
import { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { FakeCore, loadRecordedGbt } from "./fake-core.ts";
import { waitFor } from "../helpers/sv2.ts";

let core: FakeCore | null = null;
let pool: RunningPool | null = null;
let miner: Sv2Miner | null = null;
afterEach(async () => {
  miner?.stop();
  await pool?.stop("test over");
  core?.stop();
});

test("a block found through the pool on a recorded Core template validates with bitcoinjs-lib", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sv2pool-core-"));
  core = FakeCore.start("__cookie__", "c00kie-secret");
  const cookie = join(dir, ".cookie");
  writeFileSync(cookie, "__cookie__:c00kie-secret");
  const gbt = loadRecordedGbt("regtest-ckpool", "four-txns", "gbt.json");
  core.template = gbt;
  core.bestBlockHash = gbt["previousblockhash"] as string;
  core.faultFor.set("submitblock", { kind: "result", value: null });

  const scriptA = Uint8Array.from([0x00, 0x14, ...new Array<number>(20).fill(0xa1)]);
  const scriptB = Uint8Array.from([0x51, 0x20, ...new Array<number>(32).fill(0xb2)]); // taproot
  const addrA = scriptToAddress(scriptA, "regtest") as string;
  const addrB = scriptToAddress(scriptB, "regtest") as string;
  const config = resolveConfig({
    "": { network: "regtest", data_dir: join(dir, "data") },
    node: { mode: "rpc", rpc_url: core.url, rpc_cookie_file: cookie, tip_poll_ms: 20 },
    payout: { split: `${addrA}:60,${addrB}:40`, tag: "farm-test" },
    sv2: { listen: "127.0.0.1:0" },
    sv1: { enabled: false },
    http: { enabled: false },
    mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6 },
  });
  pool = await startPool(config, { logger: createMemoryLogger("info") });
  await pool.service.ready;
  miner = new Sv2Miner({ host: "127.0.0.1", port: (pool.sv2 as NonNullable<RunningPool["sv2"]>).address.port, authorityPublicKey: pool.identity.authorityPublicKey, user: "farm.core", channel: "extended", reconnect: false });
  await miner.start();
  await waitFor("submitblock at the node", () => (core as FakeCore).calls.some((c) => c.method === "submitblock"), 20_000);

  const call = core.calls.find((c) => c.method === "submitblock");
  expect(call?.authorization).toBe(`Basic ${Buffer.from("__cookie__:c00kie-secret").toString("base64")}`);
  const hex = call?.params[0] as string;
  const block = Block.fromHex(hex);
  expect(block.checkTxRoots()).toBe(true); // merkle root and witness commitment
  expect(block.checkProofOfWork()).toBe(true);
  expect(Buffer.from(block.prevHash as Buffer).reverse().toString("hex")).toBe(gbt["previousblockhash"] as string);
  expect(block.bits).toBe(0x207fffff);
  const txs = block.transactions ?? [];
  const templateTxs = gbt["transactions"] as { txid: string }[];
  expect(txs.length).toBe(templateTxs.length + 1);
  expect(txs.slice(1).map((t) => t.getId())).toEqual(templateTxs.map((t) => t.txid));
  const coinbase = txs[0];
  if (coinbase === undefined) throw new Error("no coinbase");
  expect(bytesToHex(coinbase.ins[0]?.script.subarray(0, 3) ?? new Uint8Array())).toBe(bytesToHex(bip34HeightScript(gbt["height"] as number)));
  const value = BigInt(gbt["coinbasevalue"] as number);
  const outs = coinbase.outs.map((o) => ({ script: bytesToHex(o.script), value: BigInt(o.value) }));
  expect(outs).toContainEqual({ script: bytesToHex(scriptA), value: value - (value * 40n) / 100n });
  expect(outs).toContainEqual({ script: bytesToHex(scriptB), value: (value * 40n) / 100n });
  expect(outs.reduce((s, o) => s + o.value, 0n)).toBe(value);
  expect(outs.map((o) => o.script)).toContain(gbt["default_witness_commitment"] as string);
  // The ledger has it with the node's answer.
  await waitFor("the node's answer recorded", () => pool?.service.ledger.listBlocks()[0]?.status === "accepted");
});
