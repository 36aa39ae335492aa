// systemd-analyze accepts the unit (where systemd is installed). The binary is not installed on the
// test machine, so a temporary copy of the unit points ExecStart at an existing executable; every
// other line is verified as shipped.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const analyze = Bun.which("systemd-analyze");
const unitText = readFileSync(join(import.meta.dir, "../../systemd/sv2pool.service"), "utf8");

test.skipIf(analyze === null)("systemd-analyze verify accepts systemd/sv2pool.service", () => {
  const dir = mkdtempSync(join(tmpdir(), "sv2pool-unit-"));
  const unit = join(dir, "sv2pool.service");
  writeFileSync(unit, unitText.replace("/usr/local/bin/sv2pool run", `${process.execPath} run`));
  const r = Bun.spawnSync([analyze as string, "verify", unit], { stderr: "pipe", stdout: "pipe" });
  const out = `${r.stdout.toString()}${r.stderr.toString()}`;
  // Lines about *other* units of the host (e.g. a missing bitcoind.service) are not ours.
  const ours = out.split("\n").filter((l) => l.includes("sv2pool.service"));
  expect(ours).toEqual([]);
  expect(r.exitCode).toBe(0);
});

test("the unit has the hardening and limits a farm gateway needs", () => {
  for (const line of ["DynamicUser=yes", "StateDirectory=sv2pool", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "Restart=on-failure", "LimitNOFILE=262144", "KillSignal=SIGTERM"]) {
    expect(unitText.split("\n")).toContain(line);
  }
});
