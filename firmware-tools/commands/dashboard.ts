// edgerun dashboard: serve the fleet dashboard over a telemetry database until interrupted.
import type { Command } from "commander";
import { startDashboard } from "../lib/dashboard/server.js";
import { parsePort } from "./fleet-options.js";

export function registerDashboard(program: Command): void {
  program
    .command("dashboard")
    .description("serve a web page: fleet overview, latency over time per device and version, drift alarms, failures and rollbacks")
    .requiredOption("--db <file>", "telemetry database written by edgerun collect")
    .option("--port <port>", "TCP port (0 picks a free one)", parsePort, 8090)
    .option("--host <address>", "address to bind (the data names every device: keep 127.0.0.1 unless you mean it)", "127.0.0.1")
    .action(async (o: { db: string; port: number; host: string }) => {
      const d = await startDashboard({ db: o.db, port: o.port, host: o.host });
      console.log(`dashboard on ${d.url} (reading ${o.db}); Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await d.close();
    });
}
