// Paths to the read-only reference data in ../shared (next to the checkout, also in CI).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const SHARED_DIR: string = resolve(import.meta.dir, "../../../shared");

export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}

export function readSharedText(...parts: string[]): string {
  return readFileSync(sharedPath(...parts), "utf8");
}

export function readSharedJson<T>(...parts: string[]): T {
  return JSON.parse(readSharedText(...parts)) as T;
}

/** Parses a simple CSV (the BIP vector files: no quoted commas except in a trailing comment column). */
export function readSharedCsv(...parts: string[]): Record<string, string>[] {
  const lines = readSharedText(...parts).split(/\r?\n/).filter((l) => l.length > 0);
  const header = (lines.shift() ?? "").split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    const row: Record<string, string> = {};
    header.forEach((name, i) => {
      // The last column may contain commas (free-text comments): join the rest into it.
      row[name] = i === header.length - 1 ? cells.slice(i).join(",") : (cells[i] ?? "");
    });
    return row;
  });
}
