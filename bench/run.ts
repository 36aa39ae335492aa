/**
 * The benchmark harness: `npm run bench` prints a table, `npm run bench -- --json` prints one JSON
 * object (and nothing else on stdout; progress goes to stderr), `-- --quick` runs smaller counts
 * within a minute. `-- --only=micro,pool,sv1,startup` (groups) or section ids (bitcoin, noise, sv2,
 * node, share-validate, floor, scale, shares, batched, fanout1k, fanout10k, sv1, startup) runs some sections; `-- --profile=DIR`
 * writes a CPU profile (markdown) of each pool process. See bench/README.md for every figure.
 */
import { coreCount, loadAverage1m } from "./machine.ts";
import { batchedShares, fanout, handshakesAndShares, pinningNote, type Figures } from "./scenarios.ts";

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const quick = argv.includes("--quick");
const onlyArg = argv.find((a) => a.startsWith("--only="));
const only = onlyArg === undefined ? null : new Set(onlyArg.slice("--only=".length).split(","));
const profileArg = argv.find((a) => a.startsWith("--profile="));
const profileDir = profileArg?.slice("--profile=".length);

const stdoutLog = console.log;
// Module benches print their own tables with console.log: in --json mode those go to stderr.
if (json) console.log = (...a: unknown[]): void => console.error(...a);

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const REQUIRED = [
  "sha256d_header_ns",
  "share_validate_ns",
  "aead_roundtrip_64b_us",
  "aead_roundtrip_1400b_us",
  "handshakes_per_sec",
  "shares_per_sec",
  "share_rtt_p50_us",
  "share_rtt_p99_us",
  "fanout_1k_ms",
  "fanout_10k_ms",
  "rss_per_miner_kb",
  "connect_10k_s",
  "sv1_shares_per_sec",
  "startup_ms",
] as const;

const figures: Figures = {};
for (const k of REQUIRED) figures[k] = null;
const missing = new Map<string, string>();

/** Required keys each section is the source of; other sections' figures with those names are prefixed. */
const ownKeys: Record<string, string[]> = {
  bitcoin: ["sha256d_header_ns"],
  noise: ["aead_roundtrip_64b_us", "aead_roundtrip_1400b_us"],
  "share-validate": ["share_validate_ns"],
  pool: ["handshakes_per_sec", "shares_per_sec", "share_rtt_p50_us", "share_rtt_p99_us", "fanout_1k_ms", "fanout_10k_ms", "connect_10k_s"],
  sv1: ["sv1_shares_per_sec"],
  startup: ["startup_ms"],
};

/** Adds a section's figures (e.g. noise.ts's in-process handshakes_per_sec becomes noise_handshakes_per_sec). */
function merge(module: string, got: Record<string, number | null>): void {
  for (const [k, v] of Object.entries(got)) {
    const clash = (REQUIRED as readonly string[]).includes(k) && !(ownKeys[module] ?? []).includes(k);
    figures[clash ? `${module.replace(/[^a-z0-9]/g, "_")}_${k}` : k] = v;
  }
}

interface Section {
  id: string;
  name: string;
  group: "micro" | "pool" | "sv1" | "startup";
  run: () => Promise<void>;
}

type ModuleRun = (opts: { quick: boolean }) => Promise<Record<string, number>>;

async function moduleSection(name: string, path: string): Promise<void> {
  const mod = (await import(path)) as { run: ModuleRun };
  merge(name, await mod.run({ quick }));
}

const bigFleet = quick ? 2000 : 10_000;
const sections: Section[] = [
  { id: "bitcoin", name: "bitcoin", group: "micro", run: () => moduleSection("bitcoin", "./bitcoin.ts") },
  { id: "noise", name: "noise", group: "micro", run: () => moduleSection("noise", "./noise.ts") },
  { id: "sv2", name: "sv2", group: "micro", run: () => moduleSection("sv2", "./sv2.ts") },
  { id: "node", name: "node", group: "micro", run: () => moduleSection("node", "./node.ts") },
  { id: "share-validate", name: "share-validate", group: "micro", run: () => moduleSection("share-validate", "./share-validate.ts") },
  { id: "floor", name: "kernel floor (loopback sockets)", group: "micro", run: () => moduleSection("floor", "./floor.ts") },
  { id: "scale", name: "event-loop holds that grow with the farm", group: "micro", run: () => moduleSection("scale", "./scale.ts") },
  {
    id: "shares",
    name: "pool: handshakes and shares",
    group: "pool",
    run: async () => merge("pool", await handshakesAndShares({ quick, log, profileDir })),
  },
  {
    id: "batched",
    name: "pool: shares with batched Success (full runs only)",
    group: "pool",
    run: async () => {
      if (quick) {
        log("skipped in --quick");
        return;
      }
      merge("pool", await batchedShares({ quick, log, profileDir }));
    },
  },
  {
    id: "fanout1k",
    name: "pool: fan-out to 1,000 miners",
    group: "pool",
    run: async () => merge("pool", await fanout({ quick, log, profileDir }, 1000, "fanout_1k_ms", false)),
  },
  {
    id: "fanout10k",
    name: `pool: ${bigFleet.toLocaleString("en-US")} miners at once, memory, fan-out`,
    group: "pool",
    run: async () => {
      const f = await fanout({ quick, log, profileDir }, bigFleet, "fanout_10k_ms", true);
      merge("pool", f);
      figures.rss_per_miner_kb = f["fanout_10k_rss_per_miner_kb"] ?? null;
      if (quick) log(`quick: fanout_10k_ms, connect_10k_s and rss_per_miner_kb measured with ${bigFleet} miners (see fanout_10k_miners)`);
    },
  },
  {
    id: "sv1",
    name: "sv1",
    group: "sv1",
    run: async () => {
      let mod: { run: ModuleRun };
      try {
        mod = (await import("./sv1.ts")) as { run: ModuleRun };
      } catch (e) {
        missing.set("sv1_shares_per_sec", `bench/sv1.ts could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      merge("sv1", await mod.run({ quick }));
    },
  },
  { id: "startup", name: "startup", group: "startup", run: () => moduleSection("startup", "./startup.ts") },
];

const started = performance.now();
log(`sv2pool bench${quick ? " --quick" : ""}: ${coreCount()} cores, load average ${loadAverage1m()}, ${pinningNote()}`);
figures.machine_cores = coreCount();
figures.machine_load_avg_1m_start = loadAverage1m();
for (const s of sections) {
  if (only !== null && !only.has(s.group) && !only.has(s.id)) continue;
  const t0 = performance.now();
  log(`\n== ${s.name}`);
  try {
    await s.run();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log(`!! ${s.name} failed: ${msg}`);
    for (const k of REQUIRED) if (figures[k] === null && !missing.has(k)) missing.set(k, `${s.name} failed: ${msg}`);
  }
  log(`   (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
figures.machine_load_avg_1m_end = loadAverage1m();
figures.bench_seconds = Math.round((performance.now() - started) / 100) / 10;

for (const k of REQUIRED) {
  const v = figures[k];
  if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) {
    figures[k] = null;
    if (!(only !== null && !missing.has(k))) log(`null: ${k}: ${missing.get(k) ?? "not measured (section skipped or failed; see above)"}`);
  }
}

// ---- output -------------------------------------------------------------------------------------

interface Goal {
  unit: string;
  label: string;
  goal?: string;
  ok?: (v: number) => boolean;
}

const GOALS: Record<(typeof REQUIRED)[number], Goal> = {
  sha256d_header_ns: { unit: "ns", label: "sha256d of an 80-byte header" },
  share_validate_ns: { unit: "ns", label: "pool core: submitShare, standard channel, accepted" },
  aead_roundtrip_64b_us: { unit: "µs", label: "AEAD encrypt+decrypt, 64-byte frame", goal: "≤ 2", ok: (v) => v <= 2 },
  aead_roundtrip_1400b_us: { unit: "µs", label: "AEAD encrypt+decrypt, 1400-byte frame" },
  handshakes_per_sec: { unit: "/s", label: "Noise handshake + SetupConnection, server", goal: "≥ 2,000", ok: (v) => v >= 2000 },
  shares_per_sec: { unit: "/s", label: "shares answered at saturation", goal: "≥ 100,000", ok: (v) => v >= 100_000 },
  share_rtt_p50_us: { unit: "µs", label: "share round trip p50 at 10,000/s" },
  share_rtt_p99_us: { unit: "µs", label: "share round trip p99 at 10,000/s", goal: "< 1,000", ok: (v) => v < 1000 },
  fanout_1k_ms: { unit: "ms", label: "new tip → last of 1,000 miners has SetNewPrevHash" },
  fanout_10k_ms: { unit: "ms", label: `new tip → last of ${bigFleet.toLocaleString("en-US")} miners has SetNewPrevHash`, goal: "≤ 60", ok: (v) => v <= 60 },
  rss_per_miner_kb: { unit: "KB", label: "pool RSS per connected miner", goal: "≤ 8", ok: (v) => v <= 8 },
  connect_10k_s: { unit: "s", label: `${bigFleet.toLocaleString("en-US")} miners connecting at once → all mining`, goal: "≤ 10", ok: (v) => v <= 10 },
  sv1_shares_per_sec: { unit: "/s", label: "SV1 shares answered at saturation" },
  startup_ms: { unit: "ms", label: "compiled binary: spawn → SV2 port accepting", goal: "< 50", ok: (v) => v < 50 },
};

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return String(Math.round(v * 100) / 100);
}

if (json) {
  const out: Record<string, number | null> = {};
  for (const k of REQUIRED) out[k] = figures[k] ?? null;
  for (const [k, v] of Object.entries(figures)) if (!(k in out)) out[k] = v !== null && Number.isFinite(v) ? v : null;
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  const lines: string[] = [];
  lines.push("");
  lines.push(`sv2pool benchmark${quick ? " (quick)" : ""} — ${coreCount()} cores, ${pinningNote()}, load average ${figures.machine_load_avg_1m_start} → ${figures.machine_load_avg_1m_end}`);
  lines.push(`${"figure".padEnd(26)} ${"value".padStart(12)} ${"unit".padEnd(4)} ${"goal".padEnd(10)}   what`);
  lines.push("-".repeat(110));
  for (const k of REQUIRED) {
    const g = GOALS[k];
    const v = figures[k];
    const verdict = g.ok === undefined || v === null || v === undefined ? "  " : g.ok(v) ? "✓ " : "✗ ";
    lines.push(`${k.padEnd(26)} ${fmt(v).padStart(12)} ${g.unit.padEnd(4)} ${(g.goal ?? "").padEnd(10)} ${verdict} ${g.label}`);
  }
  lines.push("");
  lines.push("other figures:");
  const extras = Object.keys(figures).filter((k) => !(REQUIRED as readonly string[]).includes(k)).sort();
  for (const k of extras) lines.push(`  ${k.padEnd(52)} ${fmt(figures[k]).padStart(14)}`);
  stdoutLog(lines.join("\n"));
}
process.exit(0);
