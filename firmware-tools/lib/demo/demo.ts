// The demo on embedded defaults, the whole path on this machine:
//   1. (with ../shared) MLPerf Tiny kws converted and run in both builds, bit-exact with TFLite Micro
//   2. the digits CNN compressed from float ONNX: size and held-out accuracy before and after
//   3. embedded broker, collector (SQLite), live dashboard, three agents; release 1.0.0 signed,
//      pushed (canary first) and served; held-out digits as load; rollout of 1.1.0; more load
//   4. a virtual microcontroller flashed over serial, digits run on it, its latency log stored
//   5. the fleet report (exact percentiles from merged histograms) and 1.0.0 vs 1.1.0
// Everything it starts is stopped and its temp dir removed, also on failure.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Agent } from "../../../host/agent/agent.js";
import { startBroker } from "../fleet/broker.js";
import { Collector } from "../collect/collector.js";
import { TelemetryStore } from "../collect/store.js";
import { startDashboard, RunningDashboard } from "../dashboard/server.js";
import { buildReport } from "../report/report.js";
import { compareVersions } from "../report/compare.js";
import { compareLines, reportTable } from "../report/format.js";
import { compressDigits, DigitsModels } from "./digits.js";
import { runLoad } from "./load.js";
import { runFleetDemo } from "./fleet.js";
import { runMcuDemo } from "./mcu.js";
import { runKwsDemo } from "./kws.js";
import { sharedDir } from "./shared.js";

export interface DemoOptions {
  /** Run the MLPerf kws step. Default: when ../shared (EDGERUN_SHARED) holds the models. */
  mlperf?: boolean;
  /** Keep the telemetry database here (default: in the temp dir, removed at the end). */
  db?: string;
  /** Inference load per release, ms. Default 6000. */
  loadMs?: number;
  /** Keep the dashboard serving after the demo; the caller closes it. */
  serve?: boolean;
}

export interface DemoResult { dashboardUrl: string; dbPath: string | null; close(): Promise<void> }

function hasShared(): boolean {
  try {
    return existsSync(join(sharedDir(), "models", "mlperf-tiny", "kws"));
  } catch {
    return false;
  }
}

export async function runDemo(log: (line: string) => void, o: DemoOptions = {}): Promise<DemoResult> {
  const work = mkdtempSync(join(tmpdir(), "edgerun-demo-"));
  const t0 = Date.now();
  let step = 1;
  const dbPath = o.db ?? join(work, "telemetry.db");
  let store: TelemetryStore | undefined, collector: Collector | undefined, dashboard: RunningDashboard | undefined;
  let broker: Awaited<ReturnType<typeof startBroker>> | undefined;
  const cleanup = async () => {
    await dashboard?.close();
    await collector?.stop();
    store?.close();
    await broker?.close();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    if (o.mlperf ?? hasShared()) {
      runKwsDemo(log, work);
      step++;
    }
    log(`${step++}. compress: the digits CNN (examples/digits/digits-cnn.onnx, float) -> int8 .erm`);
    const digits = await compressDigits(work, log);
    log(`${step++}. fleet: embedded broker, collector, dashboard, three agents; release, push, serve, roll out`);
    broker = await startBroker({ port: 0 });
    store = TelemetryStore.open(dbPath);
    collector = await Collector.start({ broker: { url: broker.url }, db: store, clientId: "edgerun-demo-collector" });
    log(`   broker ${broker.url}; collector -> ${o.db ?? "SQLite in the demo's temp dir"} (${collector.subscription.note})`);
    dashboard = await startDashboard({ db: dbPath, port: 0 });
    log(`   live dashboard while the demo runs: ${dashboard.url}`);
    await fleetStep(log, digits, broker.url, o.loadMs ?? 6000);
    await runMcuDemo(log, digits.v2Path, { samples: digits.samples.slice(0, 60), store, step: `${step++}.` });
    await waitDrained(collector);
    const stats = await collector.stop();
    log(`   collector: ${stats.received} telemetry windows received, ${stats.stored} stored, ${stats.duplicates} duplicates, ${Object.values(stats.dropped).reduce((a, b) => a + b, 0)} dropped`);
    log(`${step++}. report (edgerun report --db <file> --by device --compare 1.0.0 1.1.0)`);
    printReport(log, store);
    log("");
    log(`dashboard: ${dashboard.url} (served during the demo${o.serve ? ", and until you stop it" : ""})`);
    if (!o.serve) log(`   to browse the data after the demo: edgerun demo --db demo.db && edgerun dashboard --db demo.db (or edgerun demo --serve)`);
    log(`demo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const result = { dashboardUrl: dashboard.url, dbPath: o.db ?? null, close: cleanup };
    if (!o.serve) await cleanup();
    else { await broker.close(); broker = undefined; }
    return result;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Release 1.0.0 to three agents, load, roll out 1.1.0, load again; the last windows flushed. */
async function fleetStep(log: (l: string) => void, digits: DigitsModels, brokerUrl: string, loadMs: number): Promise<void> {
  await runFleetDemo((l) => log(`   ${l}`), digits.v1Path, {
    brokerUrl, telemetryIntervalMs: 1000, cacheEntries: 0,
    during: async (f) => {
      await loadAndShow(log, f.agents, digits.samples, loadMs, "1.0.0");
      await f.release(digits.v2Path, "1.1.0", "pruned 50%");
      await loadAndShow(log, f.agents, digits.samples, loadMs, "1.1.0");
      await flushTelemetry(f.agents);
    },
  });
}

function printReport(log: (l: string) => void, store: TelemetryStore): void {
  const { report } = buildReport(store, "device");
  for (const l of reportTable(report)) log(`   ${l}`);
  for (const l of compareLines(compareVersions(store.db, "1.0.0", "1.1.0"))) log(`   ${l}`);
}

async function loadAndShow(log: (l: string) => void, agents: Agent[], samples: { input: Uint8Array; label: number }[], ms: number, version: string): Promise<void> {
  const res = await runLoad(agents, samples, ms);
  const n = res.reduce((a, r) => a + r.requests, 0), ok = res.reduce((a, r) => a + r.correct, 0);
  log(`   load on ${version}: ${(ms / 1000).toFixed(0)} s of held-out digits over HTTP, ${n} inferences, ${((100 * ok) / Math.max(1, n)).toFixed(2)}% correct (${res.map((r) => `${r.deviceId} ${r.requests}`).join(", ")})`);
}

/** Sends each agent's current window now, so the report includes the last seconds. */
async function flushTelemetry(agents: Agent[]): Promise<void> {
  for (const a of agents) a.telemetry.report();
  const deadline = Date.now() + 3000;
  while (agents.some((a) => a.telemetry.buffer.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

async function waitDrained(c: Collector): Promise<void> {
  const deadline = Date.now() + 3000;
  let last = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 150));
    if (c.stats.pending === 0 && c.stats.received === last) return;
    last = c.stats.received;
  }
}
