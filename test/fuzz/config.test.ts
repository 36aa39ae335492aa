// Fuzzing the configuration readers: TOML text (mutations of the shipped example with its keys
// switched on, and random documents built from the schema with wrong types and out-of-range values)
// through parseConfigText + resolveConfig, and SV2POOL_ environment variables through rawFromEnv.
// Only StratumV2Error of kind "ConfigError" may come out (AddressError is one).
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { envName, exampleConfig, parseConfigText, rawFromEnv, rawFromFlags, resolveConfig, SCHEMA } from "../../src/config.ts";
import { countOutcomes, fuzzCount, REPLAYING, runFuzz, stratumError, type Prng } from "./lib.ts";
import { mutateText, randomScalar, showJson } from "./mutate.ts";

const FILE = "test/fuzz/config.test.ts";

/** The example with every "# key = value" line switched on (a full, valid document to mutate). */
function activated(text: string): string {
  return text
    .split("\n")
    .map((l) => (/^#\s?[a-z_0-9]+\s*=/.test(l) ? l.replace(/^#\s?/, "") : l))
    .join("\n");
}

function corpus(): string[] {
  const path = new URL("../../sv2pool.example.toml", import.meta.url);
  const example = existsSync(path) ? readFileSync(path, "utf8") : exampleConfig();
  const docs = [example, activated(example), activated(exampleConfig()), exampleConfig()];
  // The same keys with values that resolve (payout on mainnet needs rpc etc.): a few hand-made ones.
  docs.push(
    'network = "mainnet"\n[node]\nmode = "rpc"\nrpc_cookie_file = "/var/lib/bitcoind/.cookie"\n[payout]\naddress = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"\n',
    '[payout]\nsplit = "bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw:60,bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw:40"\n[mining]\nversion_rolling_mask = "0x1fffe000"\n',
    '[sv2]\nlisten = "[::1]:34254"\n[sv1]\nlisten = "0.0.0.0:3333"\nextranonce2_size = 8\n[limits]\nmax_frame_bytes = 16777215\n',
  );
  return docs;
}

const TOML_TOKENS = [
  "[", "]", "[[", "]]", "=", '"', "'", '"""', "'''", "\\u00e9", "\\", "#", ".", "\n", "= {", "}", "[a.b]", "x = 1\n", "inf", "nan", "0x", "0o", "0b",
  "1979-05-27T07:32:00Z", "true", "false", "[1,2]", "{a=1}", "[payout]\n", "[[payout]]\n", "[limits]\n", "\n[mining]\n", "network", "data_dir",
];

function randomValueToml(rng: Prng): string {
  const v = randomScalar(rng);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return Number.isFinite(v) ? (Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? String(v) : v.toExponential()) : rng.pick(["inf", "-inf", "nan"]);
  if (typeof v === "boolean") return String(v);
  return rng.pick(["[]", "{}", '"0.0.0.0:99999"', '"1fffffe0"', "1979-05-27", "[1, \"a\"]", '"regtest"', '"rpc"', '"embedded"']);
}

/** A document of schema keys with random (often wrong) values. */
function randomDocument(rng: Prng): string {
  const lines: string[] = [];
  // SCHEMA lists the top level ("") first, so its keys come before any table, as TOML requires.
  const sections = Object.keys(SCHEMA);
  for (const section of sections) {
    if (rng.int(3) === 0) continue;
    const keys = Object.keys(SCHEMA[section] ?? {});
    const chosen = keys.filter(() => rng.int(3) === 0);
    if (section !== "") lines.push(`[${section}]`);
    for (const key of chosen) {
      const spec = (SCHEMA[section] ?? {})[key];
      // Half the time a value of the right shape (an allowed enum value, a number near the bounds).
      let value: string;
      if (spec !== undefined && rng.bool()) {
        if (spec.values !== undefined) value = JSON.stringify(rng.pick(spec.values));
        else if (spec.min !== undefined && spec.max !== undefined) value = String(rng.pick([spec.min, spec.max, spec.min - 1, spec.max + 1, (spec.min + spec.max) / 2]));
        else value = JSON.stringify(spec.default);
      } else value = randomValueToml(rng);
      lines.push(`${key} = ${value}`);
    }
  }
  return lines.join("\n");
}

const N_TOML = fuzzCount(8_000);
test(`fuzz parseConfigText + resolveConfig: ${N_TOML} mutated and random TOML documents throw only ConfigError`, async () => {
  const docs = corpus();
  const stats = await runFuzz<string>({
    name: "config-toml",
    file: FILE,
    count: N_TOML,
    generate: (rng) => {
      const k = rng.int(10);
      if (k === 0) return { input: randomDocument(rng), label: "schema-random" };
      const base = k === 1 ? randomDocument(rng) : rng.pick(docs);
      const m = mutateText(rng, base, { tokens: TOML_TOKENS, corpus: docs });
      return { input: m.value, label: m.label };
    },
    run: (text) => {
      const raw = parseConfigText(text, "fuzz.toml");
      const config = resolveConfig(raw);
      return config.network === "regtest" ? "resolved" : "resolved-other-network";
    },
    classify: stratumError("ConfigError"),
    show: (t) => JSON.stringify(t),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_TOML);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "resolved")).toBeGreaterThan(N_TOML / 50);
    expect(countOutcomes(stats, "error:")).toBeGreaterThan(N_TOML / 4);
  }
});

const N_ENV = fuzzCount(10_000);
test(`fuzz rawFromEnv / rawFromFlags + resolveConfig: ${N_ENV} random variable sets throw only ConfigError`, async () => {
  const pairs: [string, string][] = [];
  for (const [section, keys] of Object.entries(SCHEMA)) for (const key of Object.keys(keys)) pairs.push([section, key]);
  const stats = await runFuzz<Record<string, string>>({
    name: "config-env",
    file: FILE,
    count: N_ENV,
    generate: (rng) => {
      const env: Record<string, string> = {};
      const n = 1 + rng.int(6);
      for (let k = 0; k < n; k++) {
        const [section, key] = rng.pick(pairs);
        const spec = (SCHEMA[section] ?? {})[key];
        const base = spec === undefined ? "" : String(spec.values !== undefined ? rng.pick(spec.values) : spec.default);
        const name = rng.int(15) === 0 ? mutateText(rng, envName(section, key)).value : envName(section, key);
        env[name] = rng.int(3) === 0 ? base : mutateText(rng, base).value;
      }
      return { input: env, label: "env" };
    },
    run: (env) => {
      resolveConfig(rawFromEnv(env));
      // The same values as --section-key flags.
      const flags: Record<string, string> = {};
      for (const [name, v] of Object.entries(env)) flags[`--${name.replace(/^SV2POOL_/, "").toLowerCase().replaceAll("_", "-")}`] = v;
      resolveConfig(rawFromFlags(flags).raw);
      return "resolved";
    },
    classify: stratumError("ConfigError"),
    show: (env) => showJson(env),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_ENV);
});
