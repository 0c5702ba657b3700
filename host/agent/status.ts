// The device status message (retained on edgerun/v1/devices/<id>/status, QoS 1). The broker
// publishes the last will {"state": "offline"} when the agent vanishes without saying goodbye.

import type { DownloadProgress } from "./update/download.js";
import type { Outcome } from "./update/machine.js";

export const STATUS_SCHEMA = "edgerun.status/1";

export interface DeviceStatus {
  schema: typeof STATUS_SCHEMA;
  deviceId: string;
  state: "online" | "offline";
  ts: string;
  groups: string[];
  mqttVersion: 4 | 5 | null;
  active: { modelId: string; version: string; sha256: string; slot: string; confirmed: boolean } | null;
  previous: { version: string; sha256: string } | null;
  update: { phase: string; version: string; progress: (DownloadProgress & { percent: number }) | null } | null;
  lastResult: Outcome | null;
  selfTestUs: number | null;
  api: string | null;
  warnings: { code: string; message: string; at: string }[];
}

export function offlineStatus(deviceId: string, groups: string[]): string {
  return JSON.stringify({ schema: STATUS_SCHEMA, deviceId, state: "offline", groups });
}

export function withPercent(p: DownloadProgress | null): (DownloadProgress & { percent: number }) | null {
  if (!p) return null;
  return { ...p, percent: p.bytesTotal ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 0 };
}
