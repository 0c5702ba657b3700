// Device status messages (retained, docs/mqtt-protocol.md) -> the device's state, groups and
// model, plus one event per update outcome (installed, refused, failed, rolled-back) so the
// dashboard can list failures and rollbacks. The retained copy arrives again on every
// (re)subscribe; the events' UNIQUE(device, time, kind) keeps them once.

import { checkName } from "../../../host/format/topics.js";
import type { EventRow, StatusRow } from "./store.js";

export type StatusCheck = { ok: true; status: StatusRow; event: EventRow | null } | { ok: false; reason: string; detail: string };

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => !!v && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function checkStatus(topicDevice: string, payload: Buffer, receivedMs: number): StatusCheck {
  let m: unknown;
  try {
    m = JSON.parse(payload.toString("utf8"));
  } catch {
    return { ok: false, reason: "status-not-json", detail: `status of ${topicDevice} is not JSON` };
  }
  try {
    checkName("device id", topicDevice);
  } catch {
    return { ok: false, reason: "bad-device-id", detail: `device id ${JSON.stringify(topicDevice)} in the topic is not valid` };
  }
  if (!isObj(m) || m.deviceId !== topicDevice || (m.state !== "online" && m.state !== "offline")) {
    return { ok: false, reason: "bad-status", detail: `status of ${topicDevice} lacks deviceId/state` };
  }
  // The last will carries no time: it is stamped when it arrives.
  const ts = typeof m.ts === "string" ? Date.parse(m.ts) : NaN;
  const atMs = Number.isFinite(ts) && Math.abs(ts - receivedMs) < 86_400_000 ? ts : receivedMs;
  const groups = Array.isArray(m.groups) ? m.groups.filter((g): g is string => typeof g === "string").slice(0, 64) : [];
  const active = isObj(m.active) ? m.active : null;
  const status: StatusRow = { deviceId: topicDevice, atMs, state: m.state, groups, modelId: str(active?.modelId), version: str(active?.version) };
  const r = isObj(m.lastResult) ? m.lastResult : null;
  const at = r && typeof r.at === "string" ? Date.parse(r.at) : NaN;
  const event: EventRow | null = r && typeof r.outcome === "string" && Number.isFinite(at)
    ? { deviceId: topicDevice, atMs: at, kind: r.outcome.slice(0, 32), version: str(r.version), code: str(r.code), reason: str(r.reason)?.slice(0, 500) ?? null }
    : null;
  return { ok: true, status, event };
}
