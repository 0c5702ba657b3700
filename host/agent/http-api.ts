// The local inference API: POST /v1/infer (JSON, or raw tensor bytes with
// Content-Type: application/octet-stream; add Accept: application/octet-stream for raw output
// bytes), GET /v1/status, GET /v1/health. Bound to 127.0.0.1 unless configured otherwise; with
// a token every request needs "Authorization: Bearer <token>".

import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { EdgerunError } from "../format/errors.js";
import { errorJson, MAX_REQUEST_BYTES, parseJsonRequest, parseJsonText, replyJson } from "./handlers/infer-codec.js";
import type { InferenceService } from "./serving.js";

export interface ApiOptions { host: string; port: number; token?: string }

const STATUS_OF: Record<string, number> = { INFER_BAD_INPUT: 400, INFER_TOO_LARGE: 413, INFER_NO_MODEL: 503, API_UNAUTHORIZED: 401, API_NOT_FOUND: 404, API_BAD_METHOD: 405 };

export class InferenceApi {
  private server?: Server;
  url = "";

  constructor(private readonly o: ApiOptions, private readonly service: InferenceService, private readonly status: () => unknown) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    const port = await new Promise<number>((resolve, reject) => {
      this.server!.once("error", (e: NodeJS.ErrnoException) => reject(new EdgerunError(e.code === "EADDRINUSE" ? "API_PORT_IN_USE" : "API_LISTEN_FAILED", `cannot listen on ${this.o.host}:${this.o.port}: ${e.code}`, { port: this.o.port })));
      this.server!.listen(this.o.port, this.o.host, () => resolve((this.server!.address() as { port: number }).port));
    });
    this.url = `http://${this.o.host}:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.o.token) return true;
    const got = Buffer.from(req.headers.authorization ?? "");
    const want = Buffer.from(`Bearer ${this.o.token}`);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorized(req)) throw new EdgerunError("API_UNAUTHORIZED", "missing or wrong bearer token");
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/v1/health") return send(res, this.service.model ? 200 : 503, { ok: !!this.service.model, version: this.service.model?.manifest.version ?? null });
      if (url.pathname === "/v1/status") return send(res, 200, this.status());
      if (url.pathname !== "/v1/infer") throw new EdgerunError("API_NOT_FOUND", `no such endpoint ${url.pathname} (POST /v1/infer, GET /v1/status, GET /v1/health)`);
      if (req.method !== "POST") throw new EdgerunError("API_BAD_METHOD", "use POST for /v1/infer");
      const body = await readBody(req);
      const raw = (req.headers["content-type"] ?? "").startsWith("application/octet-stream");
      const r = raw ? { input: body, top: url.searchParams.get("top") === "1" } : parseJsonRequest(parseJsonText(body.toString("utf8")));
      const top = r.top || url.searchParams.get("top") === "1";
      const result = this.service.infer(r.input, top);
      if ((req.headers.accept ?? "").startsWith("application/octet-stream") && result.outputs) {
        res.writeHead(200, { "content-type": "application/octet-stream", "x-edgerun-version": result.version, "x-edgerun-latency-us": result.latencyUs.toFixed(1) });
        res.end(Buffer.concat(result.outputs));
        return;
      }
      send(res, 200, replyJson(result));
    } catch (e) {
      const code = (e as EdgerunError).code;
      send(res, STATUS_OF[code] ?? (code ? 500 : 500), errorJson(e));
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    // Past the limit the rest is read and dropped, so the client still gets its 413.
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n <= MAX_REQUEST_BYTES) parts.push(c);
    });
    req.on("end", () => (n > MAX_REQUEST_BYTES ? reject(new EdgerunError("INFER_TOO_LARGE", `request body of ${n} bytes is above ${MAX_REQUEST_BYTES}`, { expected: MAX_REQUEST_BYTES, actual: n })) : resolve(Buffer.concat(parts))));
    req.on("error", reject);
  });
}
