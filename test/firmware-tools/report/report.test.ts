// Reports read exact percentiles from merged histograms (checked against hdr-histogram-js's own
// merge of the very same windows), group and filter by time, and compare versions with a
// Mann-Whitney test that finds a real slowdown and not a fake one.

import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { mergeHistograms } from "../../../host/telemetry/histogram.js";
import { aggregate } from "../../../firmware-tools/lib/report/query.js";
import { compareVersions, mannWhitney } from "../../../firmware-tools/lib/report/compare.js";
import { buildReport, openForReading, parseTime } from "../../../firmware-tools/lib/report/report.js";
import { reportCsv, reportHtml, reportTable } from "../../../firmware-tools/lib/report/format.js";
import { checkSlos, parseSlo } from "../../../firmware-tools/lib/report/slo.js";
import { tempDir } from "../../helpers/fleet.js";
import { fillReportDb, T0 } from "../../helpers/report-db.js";

const tmp = tempDir("edgerun-report-");
afterAll(() => tmp.cleanup());
const dbPath = join(tmp.dir, "r.db");
const fx = fillReportDb(dbPath);
const sameDb = join(tmp.dir, "same.db");
fillReportDb(sameDb, { slowdown: 1 });

describe("report", () => {
  it("percentiles per device, group and version equal the library's merge of the same windows", () => {
    const s = openForReading(dbPath);
    for (const [by, prefix] of [["device", "device"], ["group", "group"], ["version", "version"]] as const) {
      const { rows } = aggregate(s.db, by);
      for (const r of rows) {
        const key = by === "version" ? r.key.split(" ")[1] : r.key;
        const lib = mergeHistograms(fx.wire.get(`${prefix}:${key}`)!);
        expect([r.p50Us, r.p90Us, r.p99Us, r.maxUs], `${by} ${r.key}`).toEqual([50, 90, 99, 100].map((q) => lib.getValueAtPercentile(q)));
      }
    }
    const { total } = aggregate(s.db, "none");
    expect(total.windows).toBe(180);
    expect(total.inferences).toBe(180 * 50);
    expect(total.errors).toBe(18);
    expect(total.p99Us).toBe(mergeHistograms(fx.wire.get("all")!).getValueAtPercentile(99));
    s.close();
  });

  it("filters by time and computes throughput over the range", () => {
    const s = openForReading(dbPath);
    const { total } = aggregate(s.db, "none", { sinceMs: T0 + 10_000, untilMs: T0 + 20_000 });
    expect(total.windows).toBe(30);
    expect(total.throughputPerS).toBeCloseTo((30 * 50) / 10, 6);
    expect(total.versions).toEqual(["digits 1.0.0"]);
    const { report } = buildReport(s, "group");
    expect(report.rows.map((r) => [r.key, r.devices])).toEqual([["garage", 1], ["kitchen", 2]]);
    expect(report.devices).toEqual({ total: 3, online: 2, offline: 1, unknown: 0 });
    expect(report.versionsInUse).toEqual([{ version: "digits 1.1.0", devices: ["pi-1", "pi-2", "pi-3"] }]);
    expect(reportTable(report).join("\n")).toMatch(/kitchen\s+2\s+120/);
    expect(reportCsv(report).split("\n")[0]).toMatch(/^key,devices,windows,inferences,errors,error_rate,throughput_per_s,p50_us/);
    expect(reportHtml(report)).toContain("<td>garage</td>");
    expect(() => buildReport(s, "none", { sinceMs: 10, untilMs: 5 })).toThrow(/REPORT_BAD_RANGE/);
    s.close();
  });

  it("compares versions: a 30% slowdown is beyond noise, identical distributions are not", () => {
    const s = openForReading(dbPath);
    const c = compareVersions(s.db, "1.0.0", "1.1.0");
    expect(c.beyondNoise).toBe(true);
    expect(c.p50DiffUs).toBeGreaterThan(100);
    expect(c.test.pValue!).toBeLessThan(1e-6);
    expect(c.verdict).toMatch(/1\.1\.0 is slower than 1\.0\.0 beyond noise/);
    s.close();
    const same = openForReading(sameDb);
    const d = compareVersions(same.db, "1.0.0", "1.1.0");
    expect(d.beyondNoise).toBe(false);
    expect(() => compareVersions(same.db, "1.0.0", "9.9.9")).toThrow(/REPORT_NO_DATA/);
    const few = compareVersions(same.db, "1.0.0", "1.1.0", { sinceMs: T0 + 28_000, untilMs: T0 + 31_000 });
    expect(few.beyondNoise).toBeNull();
    same.close();
  });

  it("Mann-Whitney U matches hand-computed values", () => {
    expect(mannWhitney([1, 2, 3], [4, 5, 6]).u).toBe(0);
    expect(mannWhitney([4, 5, 6], [1, 2, 3]).u).toBe(9);
    const t = mannWhitney([1, 2, 2, 3], [2, 3, 3, 4]); // ties: average ranks
    expect(t.u).toBe(3); // ranks 1, 3, 3, 6 for x: 13 - 10
    expect(mannWhitney([5, 5, 5], [5, 5, 5]).pValue).toBe(1);
    // n1 = n2 = 20, fully separated: z = (200 - 0.5) / sqrt(20*20*41/12) = 5.397
    const big = mannWhitney(Array.from({ length: 20 }, (_, i) => i), Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(big.z).toBeCloseTo(5.397, 2);
  });

  it("parses and checks SLOs", () => {
    expect(parseSlo("p99<20ms")).toEqual({ text: "p99<20ms", metric: "p99", op: "<", limit: 20_000 });
    expect(parseSlo("errors<=1%").limit).toBe(0.01);
    expect(parseSlo("max < 1s").limit).toBe(1_000_000);
    for (const bad of ["p99", "p99<20kg", "errors<5ms", "p100<1ms", "latency<1ms"]) expect(() => parseSlo(bad), bad).toThrow(/REPORT_BAD_SLO/);
    const s = openForReading(dbPath);
    const agg = aggregate(s.db, "device");
    const pct = (row: { key: string }, q: number) => agg.percentile(row.key, q);
    expect(checkSlos([parseSlo("p99<20ms")], agg.rows, pct)).toEqual([]);
    expect(checkSlos([parseSlo("p50<100us")], agg.rows, pct).map((v) => v.key)).toEqual(["pi-1", "pi-2", "pi-3"]);
    expect(checkSlos([parseSlo("errors<0.1%")], agg.rows, pct).length).toBe(3);
    s.close();
  });

  it("reads times as ISO, now, or a duration back from now", () => {
    expect(parseTime("15m", 1_000_000_000)).toBe(1_000_000_000 - 900_000);
    expect(parseTime("2026-03-01T10:00:00Z")).toBe(T0);
    expect(() => parseTime("last tuesday")).toThrow(/REPORT_BAD_TIME/);
  });
});
