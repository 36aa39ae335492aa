// The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): it
// renders the real workers and the found block of a running pool, asks for the API token, refreshes
// by itself, and fits a phone. Screenshots go to test-output/.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { AUTHORITY_KEY, mineScenario, mineShares, startHttpPool, type HttpTestPool, type MinedScenario } from "./helpers.ts";

// SV2POOL_CHROMIUM points at another build (or at nothing, to see the skip).
const CHROMIUM = process.env.SV2POOL_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(
    `\n*** SKIPPED: the dashboard browser test needs Debian's chromium at ${CHROMIUM} (apt-get install chromium). ***\n` +
      "*** The dashboard is NOT tested on this machine. ***\n",
  );
}

const TOKEN = "dashboard-test-token";
const SILENT_WORKER = "rack-01.old-s9";
const SECOND_WORKER = "farm.rack-04.s21";

let t: HttpTestPool;
let mined: MinedScenario;
let browser: Browser | null = null;

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  t = await startHttpPool({ token: TOKEN });
  mined = await mineScenario(t);
  mineShares(t, "10.0.0.8:40002", SECOND_WORKER, 5);
  // A worker known from an earlier run (ledger history) that has not sent anything for 42 minutes.
  const longAgo = Date.now() - 42 * 60_000;
  for (let i = 0; i < 7; i++) t.service.ledger.recordShare(SILENT_WORKER, longAgo + i, { accepted: true, difficulty: 1e-6, hashDifficulty: 3e-6, block: false });
  t.service.ledger.recordShare(SILENT_WORKER, longAgo + 10, { accepted: false, stale: true });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 20_000);

afterAll(async () => {
  await browser?.close();
  if (HAVE_CHROMIUM) await t.stop();
});

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

async function cells(page: Page, selector: string): Promise<string[]> {
  return page.locator(`${selector} td`).allTextContents();
}

test.skipIf(!HAVE_CHROMIUM)("the dashboard asks for the token, then renders the real workers, the found block and the node", async () => {
  const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  // The page's timers run on a clock the test moves, so the 5 s auto-refresh is checked without waiting.
  await page.clock.install();
  await page.goto(t.base + "/");
  await page.locator("#token-form:not(.hidden)").waitFor({ timeout: 5000 });
  expect(await page.locator("#error-banner").textContent()).toBe("This pool's API needs a token.");
  await page.fill("#token-input", TOKEN);
  await page.click("#token-save");

  const row = `tr[data-testid="worker-row"][data-worker="${mined.worker}"]`;
  await page.locator(row).waitFor({ timeout: 5000 });
  expect(await page.locator("#token-form").getAttribute("class")).toContain("hidden");
  expect(await page.evaluate(() => localStorage.getItem("sv2pool.token"))).toBe(TOKEN);

  // Workers: the two live ones first (busiest first), then the silent one, highlighted.
  expect(await page.locator('tr[data-testid="worker-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-worker")))).toEqual([
    SECOND_WORKER,
    mined.worker,
    SILENT_WORKER,
  ]);
  const live = await cells(page, row);
  // name, hashrate, accepted, rejected, reject rate, best share, blocks, last seen
  expect(live[0]).toBe(mined.worker);
  expect(live[1]).toMatch(/^\d+(\.\d+)? (H\/s|kH\/s)$/);
  expect(live.slice(2, 5)).toEqual(["4", "2", "33.3%"]);
  expect(live[6]).toBe("1");
  expect(live[7]).toMatch(/^(just now|\d+ s ago)$/);
  expect((await page.locator(row).getAttribute("class")) ?? "").not.toContain("silent");
  const silentRow = page.locator(`tr[data-testid="worker-row"][data-worker="${SILENT_WORKER}"]`);
  expect(await silentRow.getAttribute("class")).toBe("silent");
  const silent = await cells(page, `tr[data-testid="worker-row"][data-worker="${SILENT_WORKER}"]`);
  expect(silent[0]).toBe(`${SILENT_WORKER}silent`);
  expect(silent.slice(1, 5)).toEqual(["0 H/s", "7", "1", "12.5%"]);
  expect(silent[7]).toBe("42 min ago");
  expect(await page.locator("#workers-count").textContent()).toBe("3 · 1 silent");

  // The block the pool found, with the node's answer.
  const block = page.locator(`tr[data-testid="block-row"][data-hash="${mined.blockHash}"]`);
  const b = await block.locator("td").allTextContents();
  expect(b[0]).toBe("1");
  expect(b[1]).toBe(`${mined.blockHash.slice(0, 10)}…${mined.blockHash.slice(-8)}`);
  expect(await block.locator("td").nth(1).getAttribute("title")).toBe(mined.blockHash);
  expect(b.slice(2, 5)).toEqual([mined.worker, "accepted", "null"]);
  expect(await page.locator('tr[data-testid="block-row"]').count()).toBe(1);

  // Node, tip, what miners need, the summary tiles.
  expect(await page.locator("#node-state").textContent()).toBe("node ok");
  expect(await page.locator("#node-state").getAttribute("class")).toBe("pill ok");
  expect(await page.locator("#tip-height").textContent()).toBe("1");
  expect(await page.locator("#network").textContent()).toBe("regtest");
  expect(await page.locator("#authority-key").textContent()).toBe(AUTHORITY_KEY);
  expect(await page.locator("#sv2-listen").textContent()).toBe("127.0.0.1:34254");
  expect(await page.locator("#sv1-listen").textContent()).toBe("127.0.0.1:3333");
  expect(await page.locator("#miners").textContent()).toBe("2");
  expect(await page.locator("#shares-accepted").textContent()).toBe("16"); // 4 + 5 live, 7 from the ledger
  expect(await page.locator("#blocks-found").textContent()).toBe("1");
  expect(await page.locator("#workers-online").textContent()).toBe("2");

  // The chart: one point per minute of the last hour, drawn as a line.
  const line = page.locator("#hashrate-line");
  expect(await line.getAttribute("data-points")).toBe("60");
  expect(((await line.getAttribute("d")) ?? "").split("L").length).toBe(60);

  // It refreshes by itself every 5 s: new shares show up without a reload.
  const more = mineShares(t, "10.0.0.9:40003", mined.worker, 2);
  expect(more.worker.name).toBe(mined.worker);
  expect((await cells(page, row))[2]).toBe("4");
  await page.clock.runFor(5000);
  await page.waitForFunction((sel) => document.querySelector(sel)?.querySelectorAll("td")[2]?.textContent === "6", row, { timeout: 3000 });

  await page.screenshot({ path: "test-output/dashboard.png", fullPage: true });
  // Only the token refusals before the token was given may show up as console errors (no CSP refusal).
  expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  await page.close();
}, 20_000);

test.skipIf(!HAVE_CHROMIUM)("the dashboard fits a phone screen", async () => {
  const ctx = await (browser as Browser).newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await ctx.addInitScript((token) => localStorage.setItem("sv2pool.token", token), TOKEN);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(t.base + "/");
  await page.locator(`tr[data-testid="block-row"][data-hash="${mined.blockHash}"]`).waitFor({ timeout: 5000 });
  // Nothing wider than the screen: the tables scroll inside their cards.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  expect(await page.locator("#authority-key").isVisible()).toBe(true);
  await page.screenshot({ path: "test-output/dashboard-phone.png", fullPage: true });
  expect(errors).toEqual([]);
  await ctx.close();
}, 20_000);
