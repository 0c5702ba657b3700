// Turns one telemetry message into a row, or a drop with a reason. Everything a report relies on
// is checked here, once: a window either passes whole or is counted as a drop, never half-stored.
//
// Clock skew: a device's clock may be wrong (no NTP yet, drifting RTC). We keep both the device's
// time and the receive time. A window stamped more than `futureToleranceMs` after it arrived
// cannot be right; one stamped more than `maxAgeMs` before it arrived is older than any disk
// backlog the agent keeps. Both are flagged `skewed` and filed under the receive time; otherwise
// the device time is used, so windows sent late from the agent's disk buffer land when they happened.

import { TELEMETRY_SCHEMA } from "../../../host/telemetry/reporter.js";
import { checkName } from "../../../host/format/topics.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { decodeWireHistogram } from "./latency-counts.js";
import type { WindowRow } from "./store.js";

export interface SkewOptions {
  /** Default 30 s. */
  futureToleranceMs?: number;
  /** Default 7 days. */
  maxAgeMs?: number;
}

/** Messages above this are refused before parsing (a real window is about 1 KB). */
export const MAX_TELEMETRY_BYTES = 64 * 1024;

export type CheckResult = { ok: true; row: WindowRow } | { ok: false; reason: string; detail: string };

type Raw = Record<string, unknown>;

class Drop extends Error {
  constructor(readonly reason: string, detail: string) {
    super(detail);
  }
}

const isObj = (v: unknown): v is Raw => !!v && typeof v === "object" && !Array.isArray(v);

function count(o: Raw, field: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new Drop("bad-field", `${field} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

function optNumber(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function checkTelemetry(topicDevice: string, payload: Buffer, receivedMs: number, o: SkewOptions = {}): CheckResult {
  try {
    return { ok: true, row: parse(topicDevice, payload, receivedMs, o) };
  } catch (e) {
    if (e instanceof Drop) return { ok: false, reason: e.reason, detail: e.message };
    if (e instanceof EdgerunError && e.code === "TELEMETRY_BAD_HISTOGRAM") return { ok: false, reason: "bad-histogram", detail: e.message };
    return { ok: false, reason: "bad-message", detail: (e as Error).message };
  }
}

function parse(topicDevice: string, payload: Buffer, receivedMs: number, o: SkewOptions): WindowRow {
  if (payload.length > MAX_TELEMETRY_BYTES) throw new Drop("too-large", `${payload.length} bytes, at most ${MAX_TELEMETRY_BYTES}`);
  let m: unknown;
  try {
    m = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new Drop("not-json", `payload is not JSON (${payload.length} bytes)`);
  }
  if (!isObj(m)) throw new Drop("not-json", "payload is not a JSON object");
  if (m.schema !== TELEMETRY_SCHEMA) throw new Drop("bad-schema", `schema ${JSON.stringify(m.schema)}, expected ${TELEMETRY_SCHEMA}`);
  try {
    checkName("device id", topicDevice);
  } catch {
    throw new Drop("bad-device-id", `device id ${JSON.stringify(topicDevice)} in the topic is not valid`);
  }
  if (m.deviceId !== topicDevice) throw new Drop("device-mismatch", `deviceId ${JSON.stringify(m.deviceId)} differs from the topic's ${topicDevice}`);
  const seq = count(m, "seq");
  const inferences = count(m, "inferences");
  const errors = count(m, "errors");
  const deviceTs = typeof m.ts === "string" ? Date.parse(m.ts) : NaN;
  if (!Number.isFinite(deviceTs)) throw new Drop("bad-field", `ts must be an ISO time, got ${JSON.stringify(m.ts)}`);
  const lat = m.latencyUs;
  if (!isObj(lat) || typeof lat.histogram !== "string") throw new Drop("bad-field", "latencyUs.histogram is missing");
  const h = decodeWireHistogram(lat.histogram);
  const model = m.model === null ? null : isObj(m.model) && typeof m.model.id === "string" && typeof m.model.version === "string" ? m.model : undefined;
  if (model === undefined) throw new Drop("bad-field", "model must be null or {id, version}");
  const drift = isObj(m.drift) ? m.drift : null;
  const skewMs = deviceTs - receivedMs;
  const skewed = skewMs > (o.futureToleranceMs ?? 30_000) || -skewMs > (o.maxAgeMs ?? 7 * 86_400_000);
  return {
    deviceId: topicDevice, source: "mqtt", seq, tMs: skewed ? receivedMs : deviceTs, deviceTsMs: deviceTs, receivedMs, skewMs, skewed,
    intervalMs: optNumber(m.intervalMs), modelId: (model?.id as string) ?? null, version: (model?.version as string) ?? null,
    inferences, errors, histCount: h.totalCount, p50Us: h.p50Us, p99Us: h.p99Us, maxUs: h.maxUs, hist: h.payload,
    driftPsi: optNumber(drift?.psi), driftSamples: optNumber(drift?.samples),
    rssBytes: isObj(m.memory) ? optNumber(m.memory.rssBytes) : null, bufferDropped: isObj(m.buffer) ? optNumber(m.buffer.dropped) : null,
  };
}
