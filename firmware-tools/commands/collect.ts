// edgerun collect: telemetry from the broker into SQLite until interrupted (or --duration).
import type { Command } from "commander";
import { Collector, CollectorStats } from "../lib/collect/collector.js";
import { addBrokerOptions, BrokerFlags, brokerOptionsFrom, parseDurationMs } from "./fleet-options.js";
import { parsePositiveInt } from "./options.js";

interface Flags extends BrokerFlags { db: string; shareGroup: string; shared: boolean; duration?: number; batch: number; flushMs: number; statsEvery: number }

export function formatStats(s: CollectorStats): string {
  const dropped = Object.entries(s.dropped).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  const errs = Object.entries(s.storeErrors).map(([k, v]) => `${k} ${v}`).join(", ");
  return `received ${s.received}, stored ${s.stored}, duplicates ${s.duplicates}, skewed ${s.skewed}, new devices ${s.newDevices}, statuses ${s.statuses}, dropped: ${dropped}${errs ? `, store errors: ${errs}` : ""}, pending ${s.pending}`;
}

export function registerCollect(program: Command): void {
  addBrokerOptions(program.command("collect").description("store device telemetry (latency histograms, counters, drift) in SQLite"))
    .requiredOption("--db <file>", "SQLite database (created when missing)")
    .option("--share-group <name>", "MQTT 5 shared-subscription group: collectors in one group split the fleet", "edgerun-collectors")
    .option("--no-shared", "plain subscription even when the broker supports shared ones")
    .option("--duration <time>", "stop after this long (30s, 5m); default: until interrupted", parseDurationMs)
    .option("--batch <n>", "windows per transaction", parsePositiveInt, 2000)
    .option("--flush-ms <ms>", "longest wait before a partial batch is written", parsePositiveInt, 50)
    .option("--stats-every <time>", "print counters this often", parseDurationMs, 10_000)
    .action(async (o: Flags) => {
      const warn = rateLimited();
      const c = await Collector.start({
        broker: brokerOptionsFrom(o), db: o.db, shareGroup: o.shareGroup, shared: o.shared, batchSize: o.batch, flushMs: o.flushMs,
        onEvent: (e) => {
          if (e.type === "store-error") warn(`warning: ${e.message} (attempt ${e.attempt})`);
          else if (e.type === "dropped") warn(`warning: dropped ${e.count} (${e.reason}): ${e.detail}`);
          else console.log(`new device ${e.deviceId}`);
        },
      });
      console.log(`collecting from ${o.broker} (MQTT ${c.subscription.mqttVersion === 5 ? "5" : "3.1.1"}, ${c.subscription.topic}) into ${o.db}`);
      console.log(c.subscription.note);
      const ticker = setInterval(() => console.log(formatStats(c.stats)), o.statsEvery);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
        if (o.duration !== undefined) setTimeout(resolve, o.duration);
      });
      clearInterval(ticker);
      console.log(`stopped: ${formatStats(await c.stop())}`);
    });
}

/** At most one warning line per second, so a flood of bad messages cannot flood the terminal. */
function rateLimited(): (line: string) => void {
  let last = 0, skipped = 0;
  return (line) => {
    const now = Date.now();
    if (now - last < 1000) { skipped++; return; }
    last = now;
    process.stderr.write(`${line}${skipped ? ` (+${skipped} more)` : ""}\n`);
    skipped = 0;
  };
}
