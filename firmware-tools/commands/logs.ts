import type { Command } from "commander";
import { DeviceClient } from "../lib/serial/client.js";
import { median, quantile } from "../lib/model/bench.js";
import { serialOptions, clientOptions, SerialFlags } from "./serial-options.js";
import { TelemetryStore } from "../lib/collect/store.js";
import { importMcuLog } from "../lib/collect/mcu-import.js";

export function registerLogs(program: Command): void {
  const logs = program.command("logs").description("device logs");
  serialOptions(logs.command("pull").description("fetch a device's latency log (its most recent inference times)"))
    .option("--json", "print one JSON object")
    .option("--db <file>", "also store the new latencies in this telemetry database (see edgerun collect, report)")
    .option("--device-id <id>", "with --db: the id to store them under (default: the device's hardware id)")
    .action(async (o: SerialFlags & { json?: boolean; db?: string; deviceId?: string }) => {
      const client = await DeviceClient.connect(o.port, clientOptions(o));
      try {
        const log = await client.logs();
        if (o.db) {
          const store = TelemetryStore.open(o.db);
          try {
            const m = client.info.model;
            const r = importMcuLog(store, { deviceId: o.deviceId ?? client.info.deviceId, model: m ? { name: m.name, version: m.version } : null, ...log });
            (o.json ? console.error : console.log)(r.duplicate ? `stored nothing in ${o.db}: no inferences since the last pull` : `stored ${r.newInferences} new latencies of ${o.deviceId ?? client.info.deviceId} in ${o.db}`);
          } finally {
            store.close();
          }
        }
        if (o.json) {
          console.log(JSON.stringify({ deviceId: client.info.deviceId, model: client.info.model, ...log }, null, 2));
          return;
        }
        const xs = log.latenciesUs;
        console.log(`device ${client.info.deviceId}: ${log.inferences} inferences since boot, last ${xs.length} kept`);
        if (xs.length) console.log(`latency us: median ${median(xs)}, p90 ${quantile(xs, 0.9)}, min ${Math.min(...xs)}, max ${Math.max(...xs)}`);
        if (xs.length) console.log(`recent: ${xs.slice(-16).join(" ")}`);
      } finally {
        await client.close();
      }
    });
}
