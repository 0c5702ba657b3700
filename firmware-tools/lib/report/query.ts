// Reports over the telemetry store: windows in a time range, grouped by device, group, model or
// version, with latency percentiles read from the *sum* of the windows' histograms (exact over
// any range and any set of devices: never an average of percentiles).
// Windows are streamed from SQLite and their stored histogram payloads added into one counts
// array per row (lib/collect/latency-counts.ts), so memory stays bounded by the number of rows.

import type Database from "better-sqlite3";
import { EdgerunError } from "../../../host/format/errors.js";
import { addPayload, COUNTS_LENGTH, maxOf, percentileOf } from "../collect/latency-counts.js";

export type GroupBy = "device" | "group" | "model" | "version" | "none";

export interface Range { sinceMs?: number; untilMs?: number }

export interface ReportRow {
  key: string;
  devices: number;
  windows: number;
  inferences: number;
  errors: number;
  /** errors / (inferences + errors) */
  errorRate: number;
  /** Inferences per second over the range; null when the windows cover no measurable time (one MCU pull). */
  throughputPerS: number | null;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  /** Mean and max of the windows' drift scores (PSI), null when no window had one. */
  driftPsiMean: number | null;
  driftPsiMax: number | null;
  versions: string[];
  firstMs: number;
  lastMs: number;
}

export interface DeviceInfo { deviceId: string; kind: string; groups: string[]; state: string | null; modelId: string | null; version: string | null; lastSeenMs: number; statusMs: number | null }

/** Upper bound on rows (one counts array of 136 KiB each). */
export const MAX_ROWS = 5000;

export function loadDevices(db: Database.Database): Map<string, DeviceInfo> {
  const out = new Map<string, DeviceInfo>();
  for (const r of db.prepare("SELECT device_id, kind, groups, state, model_id, version, last_seen_ms, status_ms FROM devices").all() as Record<string, unknown>[]) {
    let groups: string[] = [];
    try { groups = JSON.parse(String(r.groups)); } catch { /* shown as no group */ }
    out.set(String(r.device_id), { deviceId: String(r.device_id), kind: String(r.kind), groups, state: r.state as string | null, modelId: r.model_id as string | null, version: r.version as string | null, lastSeenMs: Number(r.last_seen_ms), statusMs: r.status_ms as number | null });
  }
  return out;
}

class Acc {
  readonly counts = new Float64Array(COUNTS_LENGTH);
  total = 0;
  windows = 0;
  inferences = 0;
  errors = 0;
  psiSum = 0;
  psiN = 0;
  psiMax = -Infinity;
  first = Infinity;
  last = -Infinity;
  spanStart = Infinity;
  readonly devices = new Set<string>();
  readonly versions = new Set<string>();
}

export interface WindowFilter extends Range { version?: string; deviceId?: string }

/** SQL for windows in a range, oldest first; columns: device, t, interval, model, version, inferences, errors, psi, hist. */
export function windowQuery(db: Database.Database, f: WindowFilter, extraCols = ""): { stmt: Database.Statement; args: unknown[] } {
  const where: string[] = [], args: unknown[] = [];
  if (f.sinceMs !== undefined) { where.push("t_ms >= ?"); args.push(f.sinceMs); }
  if (f.untilMs !== undefined) { where.push("t_ms < ?"); args.push(f.untilMs); }
  if (f.version !== undefined) { where.push("version = ?"); args.push(f.version); }
  if (f.deviceId !== undefined) { where.push("device_id = ?"); args.push(f.deviceId); }
  const sql = `SELECT device_id, t_ms, interval_ms, model_id, version, inferences, errors, drift_psi, hist${extraCols} FROM windows ${where.length ? `WHERE ${where.join(" AND ")}` : ""}`;
  return { stmt: db.prepare(sql).raw(true), args };
}

function keysOf(by: GroupBy, device: string, model: string | null, version: string | null, devices: Map<string, DeviceInfo>): string[] {
  if (by === "device") return [device];
  if (by === "model") return [model ?? "(no model)"];
  if (by === "version") return [`${model ?? "(no model)"} ${version ?? "-"}`];
  if (by === "group") {
    const g = devices.get(device)?.groups ?? [];
    return g.length ? g : ["(no group)"];
  }
  return ["all"];
}

export interface Aggregate {
  rows: ReportRow[];
  total: ReportRow;
  /** Any percentile of a row (by key, "all" for the total), from its merged histogram. */
  percentile(key: string, q: number): number;
}

export function aggregate(db: Database.Database, by: GroupBy, f: WindowFilter = {}): Aggregate {
  const devices = loadDevices(db);
  const accs = new Map<string, Acc>();
  const all = new Acc();
  const { stmt, args } = windowQuery(db, f);
  for (const r of stmt.iterate(...args) as Iterable<unknown[]>) {
    const [device, t, interval, model, version, inferences, errors, psi, hist] = r as [string, number, number | null, string | null, string | null, number, number, number | null, Buffer];
    const targets = by === "none" ? [all] : [all, ...keysOf(by, device, model, version, devices).map((k) => {
      let a = accs.get(k);
      if (!a) {
        if (accs.size >= MAX_ROWS) throw new EdgerunError("REPORT_TOO_MANY_ROWS", `more than ${MAX_ROWS} rows: narrow the range or group by something coarser`, { expected: MAX_ROWS });
        accs.set(k, (a = new Acc()));
      }
      return a;
    })];
    for (const a of targets) add(a, device, t, interval, model, version, inferences, errors, psi, hist);
  }
  const total = finish("all", all, f);
  const rows = by === "none" ? [total] : [...accs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, a]) => finish(k, a, f));
  const percentile = (key: string, q: number) => {
    const a = key === "all" ? all : accs.get(key);
    return a ? percentileOf(a.counts, a.total, q) : 0;
  };
  return { rows, total, percentile };
}

function add(a: Acc, device: string, t: number, interval: number | null, model: string | null, version: string | null, inferences: number, errors: number, psi: number | null, hist: Buffer): void {
  a.total += addPayload(a.counts, hist);
  a.windows++;
  a.inferences += inferences;
  a.errors += errors;
  if (psi !== null) { a.psiSum += psi; a.psiN++; a.psiMax = Math.max(a.psiMax, psi); }
  a.first = Math.min(a.first, t);
  a.last = Math.max(a.last, t);
  a.spanStart = Math.min(a.spanStart, t - (interval ?? 0));
  a.devices.add(device);
  if (version !== null) a.versions.add(`${model ?? ""} ${version}`.trim());
}

function finish(key: string, a: Acc, f: Range): ReportRow {
  // Throughput over the asked range, else over the span the windows cover.
  const from = f.sinceMs ?? a.spanStart, to = f.untilMs ?? a.last;
  const spanS = (to - from) / 1000;
  const p = (q: number) => percentileOf(a.counts, a.total, q);
  return {
    key, devices: a.devices.size, windows: a.windows, inferences: a.inferences, errors: a.errors,
    errorRate: a.inferences + a.errors ? a.errors / (a.inferences + a.errors) : 0,
    throughputPerS: a.windows && spanS > 0 ? a.inferences / spanS : null,
    p50Us: p(50), p90Us: p(90), p99Us: p(99), maxUs: maxOf(a.counts),
    driftPsiMean: a.psiN ? a.psiSum / a.psiN : null, driftPsiMax: a.psiN ? a.psiMax : null,
    versions: [...a.versions].sort(), firstMs: a.windows ? a.first : 0, lastMs: a.windows ? a.last : 0,
  };
}

export function dropCounts(db: Database.Database): { reason: string; count: number; lastMs: number; detail: string | null }[] {
  return (db.prepare("SELECT reason, count, last_ms, last_detail FROM drops ORDER BY count DESC").all() as Record<string, unknown>[])
    .map((r) => ({ reason: String(r.reason), count: Number(r.count), lastMs: Number(r.last_ms), detail: r.last_detail as string | null }));
}
