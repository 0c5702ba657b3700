// What the dashboard's JSON API serves, read from the telemetry store: the fleet overview,
// latency over time per device and version (each point the merged histogram of the windows in
// one time bucket: exact percentiles, as in the reports), drift alarms, and recent failures,
// rollbacks and offline devices.

import type Database from "better-sqlite3";
import { addPayload, COUNTS_LENGTH, percentileOf } from "../collect/latency-counts.js";
import { aggregate, loadDevices } from "../report/query.js";
import { dropCounts } from "../report/query.js";

/** PSI rule of thumb (host/telemetry/drift.ts): above 0.1 moderate, above 0.25 drifted. */
export const DRIFT_WARN = 0.1;
export const DRIFT_ALARM = 0.25;
/** PSI over a few dozen sampled values is noise (a window with a handful of inferences): not an alarm. */
export const DRIFT_MIN_SAMPLES = 200;
/** A device whose last message is older than this is shown offline even without its last will. */
export const STALE_MS = 60_000;
const MAX_POINTS = 120;

export interface OverviewDevice { deviceId: string; kind: string; state: "online" | "offline" | "unknown"; groups: string[]; version: string | null; lastSeen: string; windows: number; inferences: number; p99Us: number }

export function overview(db: Database.Database, nowMs = Date.now()) {
  const devices = loadDevices(db);
  const per = new Map(aggregate(db, "device").rows.map((r) => [r.key, r]));
  const list: OverviewDevice[] = [...devices.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId)).map((d) => {
    const r = per.get(d.deviceId);
    // MCUs have no status topic: they are "unknown" unless pulled recently.
    const stale = nowMs - d.lastSeenMs > STALE_MS;
    const state = d.state === "offline" ? "offline" : d.state === "online" ? (stale ? "offline" : "online") : "unknown";
    return {
      deviceId: d.deviceId, kind: d.kind, state, groups: d.groups, version: d.version ? `${d.modelId ?? ""} ${d.version}`.trim() : null,
      lastSeen: new Date(d.lastSeenMs).toISOString(), windows: r?.windows ?? 0, inferences: r?.inferences ?? 0, p99Us: r?.p99Us ?? 0,
    };
  });
  const versions = new Map<string, number>();
  list.forEach((d) => d.version && versions.set(d.version, (versions.get(d.version) ?? 0) + 1));
  const total = aggregate(db, "none").total;
  return {
    generatedAt: new Date(nowMs).toISOString(),
    counts: { devices: list.length, online: list.filter((d) => d.state === "online").length, offline: list.filter((d) => d.state === "offline").length },
    devices: list,
    versions: [...versions.entries()].map(([version, n]) => ({ version, devices: n })),
    total: { windows: total.windows, inferences: total.inferences, errors: total.errors, p50Us: total.p50Us, p99Us: total.p99Us, maxUs: total.maxUs },
    drops: dropCounts(db),
  };
}

export interface Series { label: string; deviceId: string; version: string; points: { t: number; p50Us: number; p99Us: number; count: number }[] }

/** Latency per device and version over time, in at most MAX_POINTS buckets. */
export function latencySeries(db: Database.Database, sinceMs?: number): { bucketMs: number; series: Series[] } {
  const span = db.prepare(`SELECT min(t_ms) AS lo, max(t_ms) AS hi FROM windows ${sinceMs !== undefined ? "WHERE t_ms >= ?" : ""}`).get(...(sinceMs !== undefined ? [sinceMs] : [])) as { lo: number | null; hi: number | null };
  if (span.lo === null || span.hi === null) return { bucketMs: 1000, series: [] };
  const bucketMs = Math.max(1000, Math.ceil((span.hi - span.lo + 1) / MAX_POINTS / 1000) * 1000);
  const rows = db.prepare("SELECT device_id, coalesce(model_id, '') || ' ' || coalesce(version, '-') AS v, t_ms, hist FROM windows WHERE t_ms >= ? ORDER BY device_id, v, t_ms").raw(true);
  const out: Series[] = [];
  let cur: Series | null = null, bucket = -1, counts = new Float64Array(COUNTS_LENGTH), total = 0;
  const close = () => {
    if (cur && total > 0) cur.points.push({ t: span.lo! + bucket * bucketMs, p50Us: percentileOf(counts, total, 50), p99Us: percentileOf(counts, total, 99), count: total });
    counts = new Float64Array(COUNTS_LENGTH);
    total = 0;
  };
  for (const [device, v, t, hist] of rows.iterate(span.lo) as Iterable<[string, string, number, Buffer]>) {
    const version = v.trim();
    if (!cur || cur.deviceId !== device || cur.version !== version) {
      close();
      cur = { label: `${device} · ${version}`, deviceId: device, version, points: [] };
      out.push(cur);
      bucket = -1;
    }
    const b = Math.floor((t - span.lo) / bucketMs);
    if (b !== bucket) { close(); bucket = b; }
    total += addPayload(counts, hist);
  }
  close();
  return { bucketMs, series: out.filter((s) => s.points.length) };
}

export interface DriftAlarm { deviceId: string; version: string; level: "drifted" | "moderate"; latestPsi: number; maxPsi: number; windowsAbove: number; since: string }

export function driftAlarms(db: Database.Database): DriftAlarm[] {
  const rows = db.prepare(`SELECT device_id, coalesce(model_id, '') || ' ' || coalesce(version, '-') AS v, max(drift_psi) AS maxPsi, count(*) AS n, min(t_ms) AS first,
      (SELECT w2.drift_psi FROM windows w2 WHERE w2.device_id = w.device_id AND w2.version IS w.version AND w2.model_id IS w.model_id AND w2.drift_psi IS NOT NULL AND w2.drift_samples >= ${DRIFT_MIN_SAMPLES} ORDER BY w2.t_ms DESC LIMIT 1) AS latest
    FROM windows w WHERE drift_psi > ? AND drift_samples >= ? GROUP BY device_id, v ORDER BY maxPsi DESC LIMIT 50`).all(DRIFT_WARN, DRIFT_MIN_SAMPLES) as { device_id: string; v: string; maxPsi: number; n: number; first: number; latest: number }[];
  return rows.map((r) => ({
    deviceId: r.device_id, version: r.v.trim(), level: r.maxPsi > DRIFT_ALARM ? "drifted" : "moderate", latestPsi: r.latest, maxPsi: r.maxPsi, windowsAbove: r.n, since: new Date(r.first).toISOString(),
  }));
}

export interface FleetEvent { deviceId: string; at: string; kind: string; version: string | null; code: string | null; reason: string | null }

/** Update outcomes other than a clean install (failures, refusals, rollbacks), newest first, plus installs for context. */
export function recentEvents(db: Database.Database, limit = 50): FleetEvent[] {
  return (db.prepare("SELECT device_id, at_ms, kind, version, code, reason FROM events ORDER BY at_ms DESC LIMIT ?").all(limit) as Record<string, unknown>[]).map((r) => ({
    deviceId: String(r.device_id), at: new Date(Number(r.at_ms)).toISOString(), kind: String(r.kind), version: r.version as string | null, code: r.code as string | null, reason: r.reason as string | null,
  }));
}
