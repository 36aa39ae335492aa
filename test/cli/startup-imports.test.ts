// `sv2pool run` binds its ports before it loads the pool: everything src/main.ts imports statically
// is evaluated before that, so the static import graph of the entry point must stay small (config,
// errors, logging, the early listener). A static import of the pool, Noise, SQLite, HTTP or miner
// code from the CLI would silently add ~20 ms to every start; it belongs in a dynamic import.
import { expect, test } from "bun:test";
import { dirname, join, relative } from "node:path";

const SRC = join(import.meta.dir, "..", "..", "src");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Source files reached from `entry` through static (value) imports; type-only imports are erased. */
async function staticGraph(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    // The transpiler refuses a shebang line (src/main.ts has one).
    const code = (await Bun.file(file).text()).replace(/^#!.*/, "");
    for (const imp of transpiler.scanImports(code)) {
      if (imp.kind !== "import-statement" || !imp.path.startsWith(".")) continue;
      await visit(join(dirname(file), imp.path));
    }
  };
  await visit(entry);
  return new Set([...seen].map((f) => relative(SRC, f)));
}

test("the entry point's static imports reach none of the modules loaded after the ports open", async () => {
  const graph = await staticGraph(join(SRC, "main.ts"));
  expect(graph.has("cli.ts")).toBe(true);
  expect(graph.has("server/early-listener.ts")).toBe(true);
  const late = [...graph].filter((f) => f === "app.ts" || /^(noise|store|http|node|miner|server\/sv1|server\/sv2)\//.test(f) || f.startsWith("server/pool-service"));
  expect(late).toEqual([]);
});
