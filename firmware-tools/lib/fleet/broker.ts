// The embedded broker: Aedes on TCP (or TLS), optionally WebSocket, bound to loopback unless told
// otherwise. With a data dir, retained messages (releases, chunks, device status) survive a
// restart. Aedes speaks MQTT 3.1.1; clients fall back to it (host/agent/connection.ts).

import { readFileSync } from "node:fs";
import { createServer as createHttpServer, Server as HttpServer } from "node:http";
import { createServer as createNetServer, Server as NetServer } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { Aedes } from "aedes";
import { createWebSocketStream, WebSocketServer } from "ws";
import { EdgerunError } from "../../../host/format/errors.js";
import { RetainedStore } from "./retained-store.js";

export interface BrokerConfig {
  /** TCP port; 0 picks a free one. Default 1883. */
  port?: number;
  /** Address to bind. Default 127.0.0.1 (set 0.0.0.0 to serve a network). */
  host?: string;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  /** Also serve MQTT over WebSocket on this port (0 picks a free one). */
  wsPort?: number;
  /** Directory where retained messages are kept across restarts. */
  dataDir?: string;
}

export interface RunningBroker {
  url: string;
  port: number;
  wsUrl?: string;
  aedes: Aedes;
  close(): Promise<void>;
}

function readTls(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EdgerunError("BROKER_TLS_FILE", `cannot read the TLS ${what} ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
}

export async function startBroker(c: BrokerConfig = {}): Promise<RunningBroker> {
  if ((c.tlsCertPath === undefined) !== (c.tlsKeyPath === undefined)) throw new EdgerunError("BROKER_BAD_CONFIG", "TLS needs both a certificate and a key");
  const aedes = await Aedes.createBroker();
  const store = c.dataDir ? new RetainedStore(c.dataDir) : undefined;
  if (store) await store.attach(aedes);
  const tls = c.tlsCertPath ? { cert: readTls(c.tlsCertPath, "certificate"), key: readTls(c.tlsKeyPath!, "key") } : undefined;
  const server: NetServer = tls ? createTlsServer(tls, aedes.handle) : createNetServer(aedes.handle);
  const host = c.host ?? "127.0.0.1";
  const sockets = new Set<import("node:net").Socket>();
  server.on(tls ? "secureConnection" : "connection", (sock: import("node:net").Socket) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
  });
  const port = await listen(server, c.port ?? 1883, host);
  let http: HttpServer | undefined, wss: WebSocketServer | undefined, wsUrl: string | undefined;
  if (c.wsPort !== undefined) {
    http = createHttpServer();
    wss = new WebSocketServer({ server: http });
    wss.on("connection", (ws, req) => aedes.handle(createWebSocketStream(ws) as never, req));
    wsUrl = `ws://${host}:${await listen(http, c.wsPort, host)}`;
  }
  const url = `${tls ? "mqtts" : "mqtt"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  return {
    url, port, wsUrl, aedes,
    async close() {
      // Like a crashed broker from the clients' side: connections drop, no goodbye.
      store?.close();
      wss?.clients.forEach((w) => w.terminate());
      wss?.close();
      sockets.forEach((s) => s.destroy());
      await Promise.all([closeServer(server), http ? closeServer(http) : Promise.resolve()]);
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

function listen(server: NetServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new EdgerunError(e.code === "EADDRINUSE" ? "BROKER_PORT_IN_USE" : "BROKER_LISTEN_FAILED", `cannot listen on ${host}:${port}: ${e.code ?? e.message}`, { port, host })));
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

/** Stops accepting; open connections were destroyed already, so this never waits on clients. */
function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    (server as HttpServer).closeAllConnections?.();
    server.close(() => resolve());
  });
}
