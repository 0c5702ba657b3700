// Collector benchmarks (npm run bench, or node dist/firmware-tools/bench/collect.js alone):
//  1. the storage layer alone: check + insert of telemetry windows into SQLite (WAL, one
//     transaction per batch), windows per second;
//  2. end to end: a publisher in its own process sends QoS 1 telemetry through a broker
//     (Mosquitto when installed, and the embedded Aedes) to one collector, first message ->
//     last window committed; goal at least 20,000 windows/s on this 2-core machine;
//  3. 1,000,000 stored windows (generated with batched inserts), then the time of a report over
//     all of them: total, by device (1,000 devices) and by version.
// Prints markdown through `say`.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../host/runtime/paths.js";
import { encodeHistogram, newLatencyHistogram, recordLatencyUs } from "../../host/telemetry/histogram.js";
import { TELEMETRY_SCHEMA } from "../../host/telemetry/reporter.js";
import { Collector } from "../lib/collect/collector.js";
import { TelemetryStore, WindowRow } from "../lib/collect/store.js";
import { checkTelemetry } from "../lib/collect/telemetry-check.js";
import { aggregate } from "../lib/report/query.js";
import { startBroker } from "../lib/fleet/broker.js";
import { findMosquitto, startMosquitto } from "../lib/fleet/mosquitto.js";

const STORAGE_WINDOWS = Number(process.env.EDGERUN_BENCH_STORE_WINDOWS ?? 200_000);
const E2E_WINDOWS = Number(process.env.EDGERUN_BENCH_E2E_WINDOWS ?? 100_000);
const REPORT_WINDOWS = Number(process.env.EDGERUN_BENCH_REPORT_WINDOWS ?? 1_000_000);
const DEVICES = 1000;

/** A realistic window: 100-400 inferences around 300-900 us with a tail. */
function histograms(n: number): string[] {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => {
    const h = newLatencyHistogram();
    const base = 300 + rand() * 600;
    for (let i = 0, k = 100 + Math.floor(rand() * 300); i < k; i++) recordLatencyUs(h, base + rand() * 200 + (rand() < 0.01 ? 5000 : 0));
    return encodeHistogram(h);
  });
}

function message(device: number, seq: number, hist: string, tsMs: number): string {
  return JSON.stringify({
    schema: TELEMETRY_SCHEMA, deviceId: `dev-${device}`, seq, ts: new Date(tsMs).toISOString(), intervalMs: 10_000, model: { id: "bench", version: seq % 2 ? "1.0.0" : "1.1.0" },
    inferences: 200, errors: 0, throughputPerS: 20, latencyUs: { p50: 500, p99: 900, histogram: hist },
    memory: { rssBytes: 1, heapUsedBytes: 1, wasmBytes: 1, workingRamBytes: 1 }, cache: { hits: 0, misses: 0, hitRate: null }, drift: { psi: 0.02, samples: 100 }, buffer: { queued: 0, dropped: 0 },
  });
}

const rate = (n: number, ms: number) => Math.round((n * 1000) / ms).toLocaleString("en-US");

function benchStorage(say: (l: string) => void, work: string, hists: string[]): void {
  const store = TelemetryStore.open(join(work, "storage.db"));
  const now = Date.now();
  const payloads = Array.from({ length: STORAGE_WINDOWS }, (_, i) => Buffer.from(message(i % DEVICES, Math.floor(i / DEVICES) + 1, hists[i % hists.length], now)));
  let t = performance.now();
  const rows: WindowRow[] = [];
  for (let i = 0; i < payloads.length; i++) {
    const r = checkTelemetry(`dev-${i % DEVICES}`, payloads[i], now);
    if (r.ok) rows.push(r.row);
  }
  const checkMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < rows.length; i += 2000) store.writeBatch({ windows: rows.slice(i, i + 2000) });
  const insertMs = performance.now() - t;
  store.close();
  say(`| storage alone: check (JSON, histogram inflate) | ${STORAGE_WINDOWS.toLocaleString("en-US")} | ${(checkMs / 1000).toFixed(2)} s | ${rate(STORAGE_WINDOWS, checkMs)} |`);
  say(`| storage alone: insert (batches of 2,000, WAL) | ${STORAGE_WINDOWS.toLocaleString("en-US")} | ${(insertMs / 1000).toFixed(2)} s | ${rate(STORAGE_WINDOWS, insertMs)} |`);
  say(`| storage alone: check + insert | ${STORAGE_WINDOWS.toLocaleString("en-US")} | ${((checkMs + insertMs) / 1000).toFixed(2)} s | ${rate(STORAGE_WINDOWS, checkMs + insertMs)} |`);
}

/** The publisher runs in its own process (as devices would), with its messages pre-encoded. */
function publisherScript(work: string, hists: string[]): string {
  const file = join(work, "publisher.cjs");
  writeFileSync(join(work, "hists.json"), JSON.stringify(hists));
  writeFileSync(file, `
const { createRequire } = require("node:module");
const mqtt = createRequire(${JSON.stringify(join(packageRoot(), "package.json"))})("mqtt");
const [url, n, histFile, version] = process.argv.slice(2);
const hists = JSON.parse(require("node:fs").readFileSync(histFile, "utf8"));
const make = ${message.toString()};
const TELEMETRY_SCHEMA = ${JSON.stringify(TELEMETRY_SCHEMA)};
const c = mqtt.connect(url, { protocolVersion: Number(version), clientId: "bench-pub-" + process.pid });
c.on("connect", async () => {
  const now = Date.now();
  let acked = 0, i = 0;
  const total = Number(n);
  const next = () => {
    // Up to 1000 unacknowledged publishes in flight, as a fleet of devices would have.
    while (i < total && i - acked < 1000) {
      const k = i++;
      c.publish("edgerun/v1/devices/dev-" + (k % ${DEVICES}) + "/telemetry", make(k % ${DEVICES}, Math.floor(k / ${DEVICES}) + 1, hists[k % hists.length], now), { qos: 1 }, () => { acked++; if (acked === total) c.end(false, () => process.exit(0)); else next(); });
    }
  };
  next();
});
`);
  return file;
}

async function benchEndToEnd(say: (l: string) => void, work: string, hists: string[]): Promise<void> {
  const script = publisherScript(work, hists);
  const kinds: { name: string; start: () => Promise<{ url: string; stop(): Promise<void> }>; version: 4 | 5 }[] = [];
  if (findMosquitto()) kinds.push({ name: "Mosquitto 2 (MQTT 5, shared subscription)", version: 5, start: async () => startMosquitto(join(work, "mosq")) });
  kinds.push({ name: "Aedes, embedded (MQTT 3.1.1)", version: 4, start: async () => { const b = await startBroker({ port: 0 }); return { url: b.url, stop: () => b.close() }; } });
  for (const k of kinds) {
    const b = await k.start();
    const c = await Collector.start({ broker: { url: b.url }, db: join(work, `e2e-${k.version}.db`), maxPending: 1_000_000 });
    let first = 0;
    const t0 = performance.now();
    const pub = spawn(process.execPath, [script, b.url, String(E2E_WINDOWS), join(work, "hists.json"), String(k.version)], { stdio: "inherit" });
    const deadline = Date.now() + 90_000;
    while (c.stats.stored + c.stats.duplicates < E2E_WINDOWS && Date.now() < deadline) {
      if (!first && c.stats.received) first = performance.now();
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - (first || t0);
    pub.kill();
    const s = await c.stop();
    await b.stop();
    const complete = s.stored === E2E_WINDOWS ? "" : ` (only ${s.stored} stored in 90 s)`;
    say(`| end to end through ${k.name}: publisher process -> broker -> collector -> SQLite | ${E2E_WINDOWS.toLocaleString("en-US")} | ${(ms / 1000).toFixed(2)} s | ${rate(s.stored, ms)}${complete} |`);
  }
}

async function benchReport(say: (l: string) => void, work: string, hists: string[]): Promise<void> {
  const store = TelemetryStore.open(join(work, "million.db"));
  const now = Date.now() - REPORT_WINDOWS * 10;
  const templates = hists.slice(0, 64).map((h, i) => {
    const r = checkTelemetry("dev-0", Buffer.from(message(0, 1, h, now)), now);
    if (!r.ok) throw new Error(r.detail);
    return { ...r.row, version: i % 2 ? "1.0.0" : "1.1.0" };
  });
  let t = performance.now();
  for (let i = 0; i < REPORT_WINDOWS; i += 10_000) {
    const rows: WindowRow[] = [];
    for (let k = i; k < Math.min(REPORT_WINDOWS, i + 10_000); k++) {
      const tm = templates[k % templates.length];
      rows.push({ ...tm, deviceId: `dev-${k % DEVICES}`, seq: Math.floor(k / DEVICES) + 1, tMs: now + k * 10, receivedMs: now + k * 10 });
    }
    store.writeBatch({ windows: rows });
  }
  const genMs = performance.now() - t;
  say(`| generate: ${REPORT_WINDOWS.toLocaleString("en-US")} windows inserted in batches of 10,000 | ${REPORT_WINDOWS.toLocaleString("en-US")} | ${(genMs / 1000).toFixed(1)} s | ${rate(REPORT_WINDOWS, genMs)} |`);
  for (const by of ["none", "device", "version"] as const) {
    t = performance.now();
    const a = aggregate(store.db, by);
    const ms = performance.now() - t;
    say(`| report over all stored windows, --by ${by} (${a.rows.length} rows; p99 ${a.total.p99Us} us) | ${a.total.windows.toLocaleString("en-US")} | ${(ms / 1000).toFixed(2)} s | ${rate(a.total.windows, ms)} |`);
  }
  store.close();
}

export async function benchCollect(say: (line: string) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "edgerun-bench-collect-"));
  try {
    say("## Telemetry collector and reports");
    say("");
    say("Telemetry windows (`edgerun.telemetry/1`, one HdrHistogram each) into one collector's SQLite store (WAL, one transaction per batch), and reports over the stored windows (percentiles from the merged histograms). One machine, 2 cores: broker, publisher and collector share them.");
    say("");
    say("| measurement | windows | time | windows/s |");
    say("|---|---:|---:|---:|");
    const hists = histograms(256);
    benchStorage(say, work, hists);
    await benchEndToEnd(say, work, hists);
    await benchReport(say, work, hists);
    say("");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1]?.endsWith("bench/collect.js");
if (invokedDirectly) benchCollect((l) => console.log(l)).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
