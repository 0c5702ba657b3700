// The fleet report: one data structure (rows grouped as asked, the total, the versions in use,
// drops and skew counts), rendered by format.ts as a table, JSON, CSV or an HTML page.

import { EdgerunError } from "../../../host/format/errors.js";
import { TelemetryStore } from "../collect/store.js";
import { aggregate, Aggregate, dropCounts, GroupBy, loadDevices, Range, ReportRow } from "./query.js";

export interface FleetReport {
  generatedAt: string;
  range: { since: string | null; until: string | null };
  by: GroupBy;
  rows: ReportRow[];
  total: ReportRow;
  devices: { total: number; online: number; offline: number; unknown: number };
  /** Model versions running now (from device status) and the devices on each. */
  versionsInUse: { version: string; devices: string[] }[];
  skewedWindows: number;
  drops: { reason: string; count: number }[];
}

export function openForReading(path: string): TelemetryStore {
  return TelemetryStore.open(path, { readonly: true });
}

export function buildReport(store: TelemetryStore, by: GroupBy, r: Range = {}): { report: FleetReport; agg: Aggregate } {
  if (r.sinceMs !== undefined && r.untilMs !== undefined && r.untilMs <= r.sinceMs) {
    throw new EdgerunError("REPORT_BAD_RANGE", "--until must be later than --since", { expected: "since < until" });
  }
  const db = store.db;
  const agg = aggregate(db, by, r);
  const devices = [...loadDevices(db).values()];
  const inUse = new Map<string, string[]>();
  for (const d of devices) {
    if (!d.version) continue;
    const v = `${d.modelId ?? ""} ${d.version}`.trim();
    inUse.set(v, [...(inUse.get(v) ?? []), d.deviceId]);
  }
  const where: string[] = [], args: number[] = [];
  if (r.sinceMs !== undefined) { where.push("t_ms >= ?"); args.push(r.sinceMs); }
  if (r.untilMs !== undefined) { where.push("t_ms < ?"); args.push(r.untilMs); }
  const skewed = db.prepare(`SELECT count(*) FROM windows WHERE skewed = 1 ${where.length ? `AND ${where.join(" AND ")}` : ""}`).pluck().get(...args) as number;
  const report: FleetReport = {
    generatedAt: new Date().toISOString(),
    range: { since: r.sinceMs !== undefined ? new Date(r.sinceMs).toISOString() : null, until: r.untilMs !== undefined ? new Date(r.untilMs).toISOString() : null },
    by, rows: agg.rows, total: agg.total,
    devices: {
      total: devices.length,
      online: devices.filter((d) => d.state === "online").length,
      offline: devices.filter((d) => d.state === "offline").length,
      unknown: devices.filter((d) => d.state !== "online" && d.state !== "offline").length,
    },
    versionsInUse: [...inUse.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([version, ids]) => ({ version, devices: ids.sort() })),
    skewedWindows: skewed,
    drops: dropCounts(db).map(({ reason, count }) => ({ reason, count })),
  };
  return { report, agg };
}

/** --since/--until: an ISO time, "now", or a duration back from now (15m, 2h, 7d). */
export function parseTime(v: string, nowMs = Date.now()): number {
  const s = v.trim();
  if (s === "now") return nowMs;
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(s);
  if (m) return nowMs - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new EdgerunError("REPORT_BAD_TIME", `cannot read the time "${v}": use an ISO time, now, or a duration back from now such as 15m`, { actual: v });
  return t;
}
