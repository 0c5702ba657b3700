import type { Command } from "commander";
import { connectBroker, endAsync } from "../../host/agent/connection.js";
import { fleetStatus, formatRows } from "../lib/fleet/status.js";
import { addBrokerOptions, BrokerFlags, brokerOptionsFrom } from "./fleet-options.js";

export function registerStatus(program: Command): void {
  addBrokerOptions(
    program
      .command("status")
      .description("what each device runs: state, model version, update progress, last result")
      .option("--group <name>", "only this group's devices")
      .option("--json", "print the devices' status messages as JSON"),
  ).action(async (o: BrokerFlags & { group?: string; json?: boolean }) => {
    const client = await connectBroker(brokerOptionsFrom(o), { clientId: `edgerun-status-${process.pid}` });
    try {
      const s = await fleetStatus(client, o.group);
      if (o.json) console.log(JSON.stringify(s.records, null, 2));
      else if (s.rows.length === 0) console.log(o.group ? `no device has reported in group ${o.group}` : "no device has reported");
      else console.log(formatRows(s.rows).join("\n"));
    } finally {
      await endAsync(client);
    }
  });
}
