// Inference request and reply bodies shared by the HTTP API and the MQTT handler.
// Request JSON: {"input": "<base64>" | [numbers], "inputs": [...] (several graph inputs,
// concatenated), "top": true (top class only)}. Numbers are the tensor's values (int8 -128..127
// or uint8 0..255). Reply JSON: {"ok": true, "modelId", "version", "latencyUs", "cached",
// "top": {...}, "outputs": ["<base64>"]} or {"ok": false, "error": {"code", "message"}}.

import { EdgerunError } from "../../format/errors.js";
import type { InferResult } from "../serving.js";

export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface InferRequest { input: Uint8Array; top: boolean }

function decodeOne(v: unknown, i: number): Uint8Array {
  if (typeof v === "string") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new EdgerunError("INFER_BAD_INPUT", `input ${i} is not base64`);
    return Buffer.from(v, "base64");
  }
  if (Array.isArray(v)) {
    const out = new Uint8Array(v.length);
    v.forEach((n, j) => {
      if (!Number.isInteger(n) || n < -128 || n > 255) throw new EdgerunError("INFER_BAD_INPUT", `input ${i} value ${j} is not an integer in -128..255`, { actual: n });
      out[j] = n & 0xff;
    });
    return out;
  }
  throw new EdgerunError("INFER_BAD_INPUT", `input ${i} must be base64 text or a list of numbers`);
}

export function parseJsonRequest(body: unknown): InferRequest {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new EdgerunError("INFER_BAD_INPUT", "the request must be a JSON object with an input");
  const b = body as { input?: unknown; inputs?: unknown; top?: unknown };
  const parts = b.inputs !== undefined ? (Array.isArray(b.inputs) ? b.inputs : [undefined]) : [b.input];
  if (parts.length === 0 || parts[0] === undefined) throw new EdgerunError("INFER_BAD_INPUT", "the request has no input (\"input\" or \"inputs\")");
  const bytes = parts.map(decodeOne);
  return { input: bytes.length === 1 ? bytes[0] : Buffer.concat(bytes), top: b.top === true };
}

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new EdgerunError("INFER_BAD_INPUT", "the request body is not JSON");
  }
}

export function replyJson(r: InferResult): Record<string, unknown> {
  return {
    ok: true, modelId: r.modelId, version: r.version, latencyUs: Number(r.latencyUs.toFixed(1)), cached: r.cached,
    ...(r.top ? { top: r.top } : {}),
    ...(r.outputs ? { outputs: r.outputs.map((o) => Buffer.from(o.buffer, o.byteOffset, o.length).toString("base64")) } : {}),
  };
}

export function errorJson(e: unknown): { ok: false; error: { code: string; message: string } } {
  const err = e as EdgerunError;
  return { ok: false, error: { code: err.code ?? "INFER_FAILED", message: err.message } };
}
