// The dashboard in a real browser: Debian's Chromium driven by playwright-core loads the page,
// and the charts must show the stored data (every dataset point equals the window's median as
// stored by the collector), the canvases must be drawn, the tables must list devices, drift
// alarms and rollbacks. EDGERUN_SCREENSHOTS=1 refreshes the screenshots in docs/. Under CI=true
// Chromium is required.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, BrowserContext, Page } from "playwright-core";
import { TelemetryStore } from "../../firmware-tools/lib/collect/store.js";
import { importMcuLog } from "../../firmware-tools/lib/collect/mcu-import.js";
import { startDashboard, RunningDashboard } from "../../firmware-tools/lib/dashboard/server.js";
import { tempDir, waitUntil } from "../helpers/fleet.js";
import { fillReportDb } from "../helpers/report-db.js";

const ROOT = join(__dirname, "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === "true") throw new Error(`CI=true but ${CHROMIUM} is missing (Debian packages: chromium chromium-driver)`);
if (!haveChromium) console.warn(`skipping the dashboard browser tests: ${CHROMIUM} is missing (Debian package: chromium)`);

const tmp = tempDir("edgerun-dashboard-");
const db = join(tmp.dir, "t.db");
let dash: RunningDashboard;
let ctx: BrowserContext;
let page: Page;

beforeAll(async () => {
  fillReportDb(db, { t0: Date.now() - 65_000, drifting: "pi-2" });
  const s = TelemetryStore.open(db);
  importMcuLog(s, { deviceId: "mcu-door", model: { name: "digits", version: "1.1.0" }, inferences: 40, latenciesUs: Array.from({ length: 40 }, (_, i) => 110 + (i % 7)) });
  s.close();
  dash = await startDashboard({ db, port: 0 });
  if (!haveChromium) return;
  ctx = await chromium.launchPersistentContext(join(tmp.dir, "chromium-profile"), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    // Without the background-networking flags Chromium keeps calling home on a closed network.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await ctx.newPage();
});

afterAll(async () => {
  await ctx?.close();
  await dash?.close();
  tmp.cleanup();
});

describe("dashboard API", () => {
  it("serves the page, Chart.js and JSON on loopback only; refuses other methods and paths", async () => {
    expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const ov = await (await fetch(`${dash.url}api/overview`)).json();
    expect(ov.counts).toEqual({ devices: 4, online: 2, offline: 1 });
    expect((await fetch(`${dash.url}static/chart.umd.js`)).headers.get("content-type")).toBe("text/javascript");
    expect((await fetch(`${dash.url}api/nothing`)).status).toBe(404);
    expect((await fetch(`${dash.url}api/overview`, { method: "POST" })).status).toBe(405);
    const alarms = await (await fetch(`${dash.url}api/alarms`)).json();
    expect(alarms[0]).toMatchObject({ deviceId: "pi-2", level: "drifted" });
  });

  it("edgerun dashboard (CLI) serves until interrupted", async () => {
    const p = spawn(process.execPath, [join(ROOT, "dist", "firmware-tools", "cli.js"), "dashboard", "--db", db, "--port", "0"], { cwd: ROOT });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    await waitUntil(() => /dashboard on http/.test(out), 10_000, "dashboard started");
    const url = /dashboard on (\S+)/.exec(out)![1];
    expect((await fetch(`${url}api/events`)).status).toBe(200);
    const exited = new Promise<number | null>((r) => p.on("exit", (c) => r(c)));
    p.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});

describe.skipIf(!haveChromium)("dashboard in headless Chromium", () => {
  it("draws the stored latencies, lists devices, alarms and rollbacks; saves screenshots", async () => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(dash.url);
    await page.waitForSelector("body[data-ready='1']", { timeout: 15_000 });
    const charts = await page.evaluate(() => (["p50", "p99"] as const).map((id) => {
      const c = (window as unknown as { Chart: { getChart(id: string): { data: { datasets: { label: string; data: { x: number; y: number }[] }[] } } } }).Chart.getChart(id);
      const canvas = document.getElementById(id) as HTMLCanvasElement;
      const px = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
      return { id, painted, total: px.length / 4, datasets: c.data.datasets.map((d) => ({ label: d.label, ys: d.data.map((p) => p.y) })) };
    }));
    const s = TelemetryStore.open(db, { readonly: true });
    const series = s.db.prepare("SELECT DISTINCT device_id, version FROM windows ORDER BY device_id, version").all() as { device_id: string; version: string }[];
    for (const c of charts) {
      expect(c.datasets.map((d) => d.label)).toEqual(series.map((r) => `${r.device_id} · digits ${r.version}`));
      for (const r of series) {
        const col = c.id === "p50" ? "p50_us" : "p99_us";
        const stored = s.db.prepare(`SELECT ${col} FROM windows WHERE device_id = ? AND version = ? ORDER BY t_ms`).pluck().all(r.device_id, r.version);
        expect(c.datasets.find((d) => d.label.startsWith(`${r.device_id} · digits ${r.version}`))!.ys, `${c.id} ${r.device_id} ${r.version}`).toEqual(stored);
      }
      expect(c.painted / c.total, `${c.id} canvas painted`).toBeGreaterThan(0.02);
    }
    s.close();
    const rows = await page.$$eval("#devices tbody tr", (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
    expect(rows.map((r) => [r[0], r[2]])).toEqual([["mcu-door", "unknown"], ["pi-1", "online"], ["pi-2", "online"], ["pi-3", "offline"]]);
    expect(await page.textContent("#alarms")).toMatch(/pi-2.*drifted/);
    expect(await page.textContent("#events")).toMatch(/pi-3rolled-back1\.0\.0SELFTEST_MISMATCH/);
    expect(errors).toEqual([]);
    // The screenshots in docs/ are refreshed only on request (EDGERUN_SCREENSHOTS=1), so a test
    // run leaves the checkout clean; otherwise they go to a temp folder and are still checked.
    const shots = process.env.EDGERUN_SCREENSHOTS === "1" ? join(ROOT, "docs") : mkdtempSync(join(tmpdir(), "edgerun-shots-"));
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
    await (await page.$("#p99"))!.screenshot({ path: join(shots, "dashboard-latency.png") });
    expect(statSync(join(shots, "dashboard.png")).size).toBeGreaterThan(10_000);
  });
});
