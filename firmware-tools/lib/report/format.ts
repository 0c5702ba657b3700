// Renders a FleetReport (and a version comparison) as a text table, CSV, JSON or an HTML page.

import type { Comparison } from "./compare.js";
import type { ReportRow } from "./query.js";
import type { FleetReport } from "./report.js";

const us = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${Math.round(v)} us`);
const psi = (v: number | null) => (v === null ? "-" : v.toFixed(3));
const COLS = ["key", "devices", "windows", "inferences", "errors", "inf/s", "p50", "p90", "p99", "max", "drift PSI (mean/max)", "versions"];

function cells(r: ReportRow): string[] {
  return [r.key, String(r.devices), String(r.windows), String(r.inferences), `${r.errors} (${(r.errorRate * 100).toFixed(2)}%)`, r.throughputPerS === null ? "-" : r.throughputPerS.toFixed(1),
    us(r.p50Us), us(r.p90Us), us(r.p99Us), us(r.maxUs), `${psi(r.driftPsiMean)} / ${psi(r.driftPsiMax)}`, r.versions.join(", ") || "-"];
}

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ").trimEnd();
  return [fmt(head), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(fmt)];
}

export function reportTable(r: FleetReport): string[] {
  const range = `${r.range.since ?? "start"} .. ${r.range.until ?? "now"}`;
  const lines = [`fleet report ${range}, by ${r.by}: ${r.devices.total} devices (${r.devices.online} online, ${r.devices.offline} offline)`, ""];
  if (r.total.windows === 0) return [...lines, "no telemetry windows in this range"];
  const rows = r.by === "none" ? [r.total] : [...r.rows, { ...r.total, key: "all" }];
  lines.push(...table(COLS.map((c, i) => (i === 0 ? r.by : c)), rows.map(cells)));
  lines.push("", `versions in use: ${r.versionsInUse.map((v) => `${v.version} (${v.devices.length})`).join(", ") || "none reported"}`);
  const drops = r.drops.map((d) => `${d.reason} ${d.count}`).join(", ");
  lines.push(`dropped messages: ${drops || "none"}; windows with clock skew: ${r.skewedWindows}`);
  lines.push("latency percentiles are read from the merged histograms of all windows in each row");
  return lines;
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function reportCsv(r: FleetReport): string {
  const head = ["key", "devices", "windows", "inferences", "errors", "error_rate", "throughput_per_s", "p50_us", "p90_us", "p99_us", "max_us", "drift_psi_mean", "drift_psi_max", "versions", "first", "last"];
  const rows = [...r.rows, ...(r.by === "none" ? [] : [{ ...r.total, key: "all" }])].map((x) => [
    x.key, x.devices, x.windows, x.inferences, x.errors, x.errorRate.toFixed(6), x.throughputPerS === null ? "" : x.throughputPerS.toFixed(3), x.p50Us, x.p90Us, x.p99Us, x.maxUs,
    x.driftPsiMean ?? "", x.driftPsiMax ?? "", x.versions.join(" "), x.windows ? new Date(x.firstMs).toISOString() : "", x.windows ? new Date(x.lastMs).toISOString() : "",
  ].map((c) => csvCell(String(c))).join(","));
  return [head.join(","), ...rows].join("\n") + "\n";
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function reportHtml(r: FleetReport, cmp?: Comparison): string {
  const rows = r.by === "none" ? [r.total] : [...r.rows, { ...r.total, key: "all" }];
  const tr = (c: string[], tag = "td") => `<tr>${c.map((x) => `<${tag}>${esc(x)}</${tag}>`).join("")}</tr>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>edgerun fleet report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><h1>Fleet report</h1><p>${esc(`${r.range.since ?? "start"} .. ${r.range.until ?? "now"}; ${r.devices.total} devices, ${r.devices.online} online, ${r.devices.offline} offline`)}</p>
<table>${tr(COLS.map((c, i) => (i === 0 ? r.by : c)), "th")}${rows.map((x) => tr(cells(x))).join("")}</table>
<p>Versions in use: ${esc(r.versionsInUse.map((v) => `${v.version} (${v.devices.join(", ")})`).join("; ") || "none reported")}</p>
<p>Dropped messages: ${esc(r.drops.map((d) => `${d.reason} ${d.count}`).join(", ") || "none")}; windows with clock skew: ${r.skewedWindows}</p>
${cmp ? `<h2>${esc(`${cmp.a.version} vs ${cmp.b.version}`)}</h2><p>${esc(compareLines(cmp).join(" "))}</p>` : ""}
</body></html>\n`;
}

export function compareLines(c: Comparison): string[] {
  const sign = (v: number) => (v > 0 ? "+" : "");
  return [
    `compare ${c.a.version} (${c.a.windows} windows, ${c.a.inferences} inferences) vs ${c.b.version} (${c.b.windows} windows, ${c.b.inferences} inferences)`,
    `  p50: ${us(c.a.p50Us)} -> ${us(c.b.p50Us)} (${sign(c.p50DiffUs)}${c.p50DiffUs} us, ${sign(c.p50DiffPct)}${c.p50DiffPct.toFixed(1)}%)`,
    `  p99: ${us(c.a.p99Us)} -> ${us(c.b.p99Us)} (${sign(c.p99DiffUs)}${c.p99DiffUs} us, ${sign(c.p99DiffPct)}${c.p99DiffPct.toFixed(1)}%)`,
    `  errors: ${(c.a.errorRate * 100).toFixed(2)}% -> ${(c.b.errorRate * 100).toFixed(2)}%`,
    `  test: ${c.test.name} on ${c.test.statistic}${c.test.pValue !== undefined ? `, U = ${c.test.u}, z = ${c.test.z!.toFixed(2)}, p = ${c.test.pValue.toPrecision(3)}` : ""}`,
    `  ${c.verdict}`,
  ];
}
