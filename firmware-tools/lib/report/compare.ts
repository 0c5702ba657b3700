// A/B and before/after: two model versions over the same range. The headline numbers (p50, p99)
// come from each side's merged histogram. Whether the difference is beyond noise is decided by
// a two-sided Mann-Whitney U test on the per-window medians (each window's p50, read from its
// own histogram at ingestion): windows are the independent samples (one device, one interval),
// the test needs no normality, and ties get the usual variance correction. Normal approximation
// with continuity correction; with fewer than MIN_WINDOWS windows on a side we say so instead.

import type Database from "better-sqlite3";
import { EdgerunError } from "../../../host/format/errors.js";
import { aggregate, Range, ReportRow } from "./query.js";

export const MIN_WINDOWS = 5;
export const ALPHA = 0.05;

export interface MannWhitney { u: number; z: number; pValue: number }

export interface Comparison {
  a: ReportRow & { version: string };
  b: ReportRow & { version: string };
  /** b minus a, in us and percent of a. */
  p50DiffUs: number;
  p50DiffPct: number;
  p99DiffUs: number;
  p99DiffPct: number;
  test: { name: string; statistic: string; windowsA: number; windowsB: number; u?: number; z?: number; pValue?: number; alpha: number };
  beyondNoise: boolean | null;
  verdict: string;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, error < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export function mannWhitney(xs: number[], ys: number[]): MannWhitney {
  const n1 = xs.length, n2 = ys.length, n = n1 + n2;
  const all = [...xs.map((v) => ({ v, g: 0 })), ...ys.map((v) => ({ v, g: 1 }))].sort((p, q) => p.v - q.v);
  let r1 = 0, tie = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && all[j].v === all[i].v) j++;
    const rank = (i + 1 + j) / 2; // average rank of the tied run
    for (let k = i; k < j; k++) if (all[k].g === 0) r1 += rank;
    const t = j - i;
    tie += t * t * t - t;
    i = j;
  }
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tie / (n * (n - 1)));
  if (variance <= 0) return { u, z: 0, pValue: 1 };
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, z: Math.max(0, z), pValue: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) };
}

function medians(db: Database.Database, version: string, r: Range): number[] {
  const where = ["version = ?"], args: unknown[] = [version];
  if (r.sinceMs !== undefined) { where.push("t_ms >= ?"); args.push(r.sinceMs); }
  if (r.untilMs !== undefined) { where.push("t_ms < ?"); args.push(r.untilMs); }
  // Empty windows (no inference) have no median.
  return (db.prepare(`SELECT p50_us FROM windows WHERE ${where.join(" AND ")} AND hist_count > 0`).pluck().all(...args) as number[]);
}

const pct = (d: number, base: number) => (base ? (100 * d) / base : 0);

export function compareVersions(db: Database.Database, versionA: string, versionB: string, r: Range = {}): Comparison {
  const side = (v: string) => {
    const row = aggregate(db, "none", { ...r, version: v }).total;
    if (row.windows === 0) throw new EdgerunError("REPORT_NO_DATA", `no telemetry windows of version ${v} in the range`, { actual: v });
    return { ...row, key: v, version: v };
  };
  const a = side(versionA), b = side(versionB);
  const ma = medians(db, versionA, r), mb = medians(db, versionB, r);
  const test = { name: "Mann-Whitney U (two-sided, normal approximation, tie-corrected)", statistic: "per-window median latency", windowsA: ma.length, windowsB: mb.length, alpha: ALPHA };
  const diff = { p50DiffUs: b.p50Us - a.p50Us, p50DiffPct: pct(b.p50Us - a.p50Us, a.p50Us), p99DiffUs: b.p99Us - a.p99Us, p99DiffPct: pct(b.p99Us - a.p99Us, a.p99Us) };
  if (ma.length < MIN_WINDOWS || mb.length < MIN_WINDOWS) {
    return { a, b, ...diff, test, beyondNoise: null, verdict: `not enough windows to judge (need ${MIN_WINDOWS} per version, have ${ma.length} and ${mb.length})` };
  }
  const mw = mannWhitney(ma, mb);
  const beyond = mw.pValue < ALPHA;
  const dir = diff.p50DiffUs > 0 ? "slower" : diff.p50DiffUs < 0 ? "faster" : "the same";
  const verdict = beyond
    ? `${versionB} is ${dir} than ${versionA} beyond noise (p = ${mw.pValue.toPrecision(2)} < ${ALPHA})`
    : `no difference beyond noise (p = ${mw.pValue.toPrecision(2)} >= ${ALPHA})`;
  return { a, b, ...diff, test: { ...test, u: mw.u, z: mw.z, pValue: mw.pValue }, beyondNoise: beyond, verdict };
}
