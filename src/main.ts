#!/usr/bin/env bun
// sv2pool's entry point (also the `bun build --compile` entry).
import { runCli } from "./cli.ts";

const code = await runCli(process.argv.slice(2));
process.exit(code);
