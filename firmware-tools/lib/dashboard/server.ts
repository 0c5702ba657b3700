// The dashboard's HTTP server: the page, Chart.js's UMD file from node_modules, and a small
// read-only JSON API over the telemetry store (opened read-only; WAL lets it read while a
// collector writes). Bound to 127.0.0.1 unless told otherwise: the data names every device.

import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";
import { TelemetryStore } from "../collect/store.js";
import { storeError } from "../collect/store.js";
import { driftAlarms, latencySeries, overview, recentEvents } from "./data.js";
import { dashboardHtml } from "./page.js";

export interface DashboardOptions { db: string; port?: number; host?: string }
export interface RunningDashboard { url: string; port: number; close(): Promise<void> }

function chartJs(): Buffer {
  const require = createRequire(import.meta.url);
  try {
    // The package exports no subpath for its UMD build: find it beside the CommonJS entry.
    return readFileSync(join(dirname(require.resolve("chart.js")), "chart.umd.min.js"));
  } catch (e) {
    throw new EdgerunError("DASHBOARD_NO_CHARTJS", `cannot read chart.js's UMD build from node_modules: ${(e as Error).message}`);
  }
}

export async function startDashboard(o: DashboardOptions): Promise<RunningDashboard> {
  const store = TelemetryStore.open(o.db, { readonly: true });
  const chart = chartJs();
  const page = dashboardHtml();
  const server = createServer((req, res) => {
    try {
      route(req, res, store, page, chart);
    } catch (e) {
      const err = storeError(e, o.db);
      send(res, 500, "application/json", JSON.stringify({ error: { code: err.code, message: err.message } }));
    }
  });
  const host = o.host ?? "127.0.0.1";
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      store.close();
      reject(new EdgerunError(e.code === "EADDRINUSE" ? "DASHBOARD_PORT_IN_USE" : "DASHBOARD_LISTEN_FAILED", `cannot listen on ${host}:${o.port ?? 0}: ${e.code ?? e.message}`, { host, port: o.port }));
    });
    server.listen(o.port ?? 0, host, () => resolve((server.address() as { port: number }).port));
  });
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}/`,
    port,
    close: () => closeServer(server, store),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" });
  res.end(body);
}

function route(req: IncomingMessage, res: ServerResponse, store: TelemetryStore, page: string, chart: Buffer): void {
  if (req.method !== "GET") return send(res, 405, "text/plain", "only GET\n");
  const url = new URL(req.url ?? "/", "http://localhost");
  const json = (v: unknown) => send(res, 200, "application/json", JSON.stringify(v));
  switch (url.pathname) {
    case "/": return send(res, 200, "text/html; charset=utf-8", page);
    case "/static/chart.umd.js": return send(res, 200, "text/javascript", chart);
    case "/api/overview": return json(overview(store.db));
    case "/api/latency": {
      const since = url.searchParams.get("since");
      return json(latencySeries(store.db, since !== null && Number.isFinite(Number(since)) ? Number(since) : undefined));
    }
    case "/api/alarms": return json(driftAlarms(store.db));
    case "/api/events": return json(recentEvents(store.db));
    default: return send(res, 404, "text/plain", "not found\n");
  }
}

function closeServer(server: Server, store: TelemetryStore): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => {
      store.close();
      resolve();
    });
  });
}
