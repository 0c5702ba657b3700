// edgerun report: latency, throughput, errors and drift from the telemetry store.
import { Command, InvalidArgumentError } from "commander";
import { EdgerunError } from "../../host/format/errors.js";
import { buildReport, openForReading, parseTime } from "../lib/report/report.js";
import { compareVersions } from "../lib/report/compare.js";
import { compareLines, reportCsv, reportHtml, reportTable } from "../lib/report/format.js";
import { checkSlos, parseSlo, Slo } from "../lib/report/slo.js";
import type { GroupBy } from "../lib/report/query.js";

interface Flags { db: string; since?: string; until?: string; by: GroupBy; format: string; compare?: string[]; slo: Slo[] }

function parseBy(v: string): GroupBy {
  if (!["device", "group", "model", "version", "none"].includes(v)) throw new InvalidArgumentError(`expected device, group, model, version or none, got "${v}"`);
  return v as GroupBy;
}

function parseFormat(v: string): string {
  if (!["table", "json", "csv", "html"].includes(v)) throw new InvalidArgumentError(`expected table, json, csv or html, got "${v}"`);
  return v;
}

function collectSlo(v: string, prev: Slo[]): Slo[] {
  try {
    return [...prev, parseSlo(v)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^REPORT_BAD_SLO: /, "").replace(/ \(actual=.*\)$/, ""));
  }
}

export function registerReport(program: Command): void {
  program
    .command("report")
    .description("count, throughput, errors, exact latency percentiles, drift and versions from stored telemetry")
    .requiredOption("--db <file>", "telemetry database written by edgerun collect")
    .option("--since <time>", "ISO time, or a duration back from now (15m, 2h, 7d)")
    .option("--until <time>", "ISO time, now, or a duration back from now")
    .option("--by <key>", "rows per device, group, model, version, or none", parseBy, "none" as GroupBy)
    .option("--format <format>", "table, json, csv or html", parseFormat, "table")
    .option("--compare <versions...>", "compare two model versions (A/B, before/after a rollout): --compare 1.0.0 1.1.0")
    .option("--slo <objective>", "exit 1 when violated, e.g. p99<20ms (repeatable; checked per row)", collectSlo, [] as Slo[])
    .action((o: Flags) => {
      if (o.compare && o.compare.length !== 2) throw new EdgerunError("CLI_BAD_OPTION", `--compare takes two versions, got ${o.compare.length}`);
      const now = Date.now();
      const range = { sinceMs: o.since ? parseTime(o.since, now) : undefined, untilMs: o.until ? parseTime(o.until, now) : undefined };
      const store = openForReading(o.db);
      try {
        const { report, agg } = buildReport(store, o.by, range);
        const cmp = o.compare ? compareVersions(store.db, o.compare[0], o.compare[1], range) : undefined;
        if (o.format === "json") console.log(JSON.stringify(cmp ? { ...report, compare: cmp } : report, null, 2));
        else if (o.format === "csv") process.stdout.write(reportCsv(report));
        else if (o.format === "html") process.stdout.write(reportHtml(report, cmp));
        else {
          for (const l of reportTable(report)) console.log(l);
          if (cmp) for (const l of ["", ...compareLines(cmp)]) console.log(l);
        }
        const rows = o.by === "none" ? [report.total] : report.rows;
        const violations = checkSlos(o.slo, rows, (row, q) => agg.percentile(o.by === "none" ? "all" : row.key, q));
        for (const s of o.slo) if (!violations.some((v) => v.slo === s.text)) process.stderr.write(`SLO ${s.text}: met\n`);
        if (violations.length) {
          for (const v of violations) process.stderr.write(`SLO ${v.slo} violated by ${v.key}: ${v.actual} (limit ${v.limit})\n`);
          throw new EdgerunError("REPORT_SLO_VIOLATED", `${violations.length} SLO violation(s)`, { slos: o.slo.map((s) => s.text) });
        }
      } finally {
        store.close();
      }
    });
}
