// Service-level objectives for `edgerun report --slo`: "p99<20ms", "p50<=800us", "max<1s",
// "errors<1%", "throughput>=10" (inferences per second). Checked on every row the report shows,
// so `--by device --slo p99<20ms` fails when any one device misses it.

import { EdgerunError } from "../../../host/format/errors.js";
import type { ReportRow } from "./query.js";

export interface Slo { text: string; metric: string; op: "<" | "<=" | ">" | ">="; limit: number }
export interface SloViolation { slo: string; key: string; actual: number; limit: number }

const UNIT_US: Record<string, number> = { us: 1, "µs": 1, ms: 1000, s: 1_000_000 };

export function parseSlo(text: string): Slo {
  const m = /^\s*(p\d{1,2}(?:\.\d+)?|max|errors|throughput)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|%)?\s*$/i.exec(text);
  if (!m) throw new EdgerunError("REPORT_BAD_SLO", `cannot read the SLO "${text}": use e.g. p99<20ms, p50<=800us, max<1s, errors<1%, throughput>=10`, { actual: text });
  const metric = m[1].toLowerCase(), unit = m[4]?.toLowerCase();
  let limit = Number(m[3]);
  if (metric === "errors") {
    if (unit && unit !== "%") throw new EdgerunError("REPORT_BAD_SLO", `errors take a percent, e.g. errors<1%`, { actual: text });
    limit = limit / 100;
  } else if (metric === "throughput") {
    if (unit) throw new EdgerunError("REPORT_BAD_SLO", "throughput is in inferences per second, without a unit", { actual: text });
  } else {
    if (unit === "%") throw new EdgerunError("REPORT_BAD_SLO", `${metric} takes a time (us, ms, s)`, { actual: text });
    limit = limit * UNIT_US[unit ?? "us"];
    const q = metric === "max" ? 100 : Number(metric.slice(1));
    if (!(q > 0 && q < 100) && metric !== "max") throw new EdgerunError("REPORT_BAD_SLO", `percentile out of range in "${text}"`, { actual: text });
  }
  return { text: text.trim(), metric, op: m[2] as Slo["op"], limit };
}

function valueOf(row: ReportRow, metric: string, percentile: (row: ReportRow, q: number) => number): number | null {
  if (metric === "max") return row.maxUs;
  if (metric === "errors") return row.errorRate;
  if (metric === "throughput") return row.throughputPerS;
  return percentile(row, Number(metric.slice(1)));
}

/** Rows without windows are skipped: no data is not a violation (the report says "no data"). */
export function checkSlos(slos: Slo[], rows: ReportRow[], percentile: (row: ReportRow, q: number) => number): SloViolation[] {
  const out: SloViolation[] = [];
  for (const s of slos) {
    for (const r of rows) {
      if (r.windows === 0) continue;
      const v = valueOf(r, s.metric, percentile);
      if (v === null) continue;
      const ok = s.op === "<" ? v < s.limit : s.op === "<=" ? v <= s.limit : s.op === ">" ? v > s.limit : v >= s.limit;
      if (!ok) out.push({ slo: s.text, key: r.key, actual: v, limit: s.limit });
    }
  }
  return out;
}
