import type { Command } from "commander";
import { startBroker } from "../lib/fleet/broker.js";
import { parsePort } from "./fleet-options.js";

export function registerBroker(program: Command): void {
  program
    .command("broker")
    .description("run the embedded MQTT broker (Aedes, MQTT 3.1.1) until interrupted")
    .option("--port <port>", "TCP port (0 picks a free one)", parsePort, 1883)
    .option("--host <address>", "address to bind (0.0.0.0 to serve the network)", "127.0.0.1")
    .option("--tls-cert <file>", "serve mqtts:// with this certificate (PEM)")
    .option("--tls-key <file>", "the certificate's private key (PEM)")
    .option("--ws-port <port>", "also serve MQTT over WebSocket on this port", parsePort)
    .option("--data-dir <dir>", "keep retained messages (releases, chunks, status) here across restarts")
    .action(async (o: { port: number; host: string; tlsCert?: string; tlsKey?: string; wsPort?: number; dataDir?: string }) => {
      const b = await startBroker({ port: o.port, host: o.host, tlsCertPath: o.tlsCert, tlsKeyPath: o.tlsKey, wsPort: o.wsPort, dataDir: o.dataDir });
      console.log(`broker listening on ${b.url}${b.wsUrl ? ` and ${b.wsUrl}` : ""}${o.dataDir ? `, retained messages in ${o.dataDir}` : ""}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await b.close();
      console.log("broker stopped");
    });
}
