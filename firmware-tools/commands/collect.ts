// edgerun collect: telemetry from the broker into SQLite until interrupted (or --duration).
import { Command, InvalidArgumentError } from "commander";
import { Collector, CollectorStats, DEFAULT_SESSION_EXPIRY_S, MAX_SESSION_EXPIRY_S } from "../lib/collect/collector.js";
import { addBrokerOptions, BrokerFlags, brokerOptionsFrom, parseDurationMs } from "./fleet-options.js";
import { parsePositiveInt } from "./options.js";

interface Flags extends BrokerFlags {
  db: string; shareGroup: string; shared: boolean; clientId?: string; cleanSession: boolean; sessionExpiry: number;
  duration?: number; batch: number; flushMs: number; statsEvery: number;
}

/** Seconds: 3600, 90s, 30m, 12h, 7d, or "never" (the MQTT 5 maximum). */
export function parseSessionExpiryS(v: string): number {
  if (v.trim() === "never") return MAX_SESSION_EXPIRY_S;
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(v.trim());
  const s = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? "s") as "s" | "m" | "h" | "d"] : NaN;
  if (!(s <= MAX_SESSION_EXPIRY_S)) throw new InvalidArgumentError(`expected seconds (3600), 30m, 12h, 7d or never (at most ${MAX_SESSION_EXPIRY_S} s), got "${v}"`);
  return s;
}

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
    .option("--client-id <id>", "MQTT client id, the name of the broker-side session (default: derived from this host and the --db path)")
    .option("--session-expiry <time>", "MQTT 5: how long the broker keeps the session and queues telemetry after a disconnect (seconds, 30m, 12h, 7d, never)", parseSessionExpiryS, DEFAULT_SESSION_EXPIRY_S)
    .option("--clean-session", "no persistent session: telemetry published while the collector is not connected is lost", false)
    .option("--duration <time>", "stop after this long (30s, 5m); default: until interrupted", parseDurationMs)
    .option("--batch <n>", "windows per transaction", parsePositiveInt, 2000)
    .option("--flush-ms <ms>", "longest wait before a partial batch is written", parsePositiveInt, 50)
    .option("--stats-every <time>", "print counters this often", parseDurationMs, 10_000)
    .action(async (o: Flags) => {
      const warn = rateLimited();
      const c = await Collector.start({
        broker: brokerOptionsFrom(o), db: o.db, shareGroup: o.shareGroup, shared: o.shared, batchSize: o.batch, flushMs: o.flushMs,
        clientId: o.clientId, cleanSession: o.cleanSession, sessionExpiryS: o.sessionExpiry,
        onEvent: (e) => {
          if (e.type === "store-error") warn(`warning: ${e.message} (attempt ${e.attempt})`);
          else if (e.type === "dropped") warn(`warning: dropped ${e.count} (${e.reason}): ${e.detail}`);
          else if (e.type === "session-not-resumed") warn(`warning: the broker no longer held session ${e.clientId} after a reconnect (broker restarted without persistence, or the session expired): telemetry published meanwhile is lost`);
          else console.log(`new device ${e.deviceId}`);
        },
      });
      console.log(`collecting from ${o.broker} (MQTT ${c.subscription.mqttVersion === 5 ? "5" : "3.1.1"}, ${c.subscription.topic}) into ${o.db}`);
      console.log(c.subscription.note);
      console.log(c.subscription.session.note);
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
