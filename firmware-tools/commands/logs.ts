import type { Command } from "commander";
import { DeviceClient } from "../lib/serial/client.js";
import { median, quantile } from "../lib/model/bench.js";
import { serialOptions, clientOptions, SerialFlags } from "./serial-options.js";

export function registerLogs(program: Command): void {
  const logs = program.command("logs").description("device logs");
  serialOptions(logs.command("pull").description("fetch a device's latency log (its most recent inference times)"))
    .option("--json", "print one JSON object")
    .action(async (o: SerialFlags & { json?: boolean }) => {
      const client = await DeviceClient.connect(o.port, clientOptions(o));
      try {
        const log = await client.logs();
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
