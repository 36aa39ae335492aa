// Preloaded by bunfig.toml before every test run.
import { mkdirSync } from "node:fs";

mkdirSync("test-output", { recursive: true });
