// The operator's view of a fleet: every device's retained status, kept current while the
// connection lasts, and each device's position relative to one release.

import type { MqttClient } from "mqtt";
import { subscribeAsync, unsubscribeAsync } from "../../../host/agent/connection.js";
import type { DeviceStatus } from "../../../host/agent/status.js";
import type { ReleaseManifest } from "../../../host/format/release-manifest.js";
import { parseTopic, topics } from "../../../host/format/topics.js";

export type DeviceRecord = Partial<DeviceStatus> & { deviceId: string; state: "online" | "offline" };

export interface DeviceRow {
  deviceId: string;
  state: "online" | "offline";
  version: string | null;
  /** Relative to a release: installed, failed, refused, downloading, installing, ..., waiting. */
  progress: string;
  percent: number;
  reason: string;
  selfTestUs: number | null;
}

/** Retained messages arrive right after SUBACK; wait this long for the last of them. */
export const RETAINED_GRACE_MS = 400;

export class FleetView {
  readonly devices = new Map<string, DeviceRecord>();
  private listeners: (() => void)[] = [];
  private readonly handler: (topic: string, payload: Buffer) => void;
  // The tools connect with resubscribe off: after a broker restart, subscribe again ourselves.
  private readonly resubscribe = () => this.client.subscribe(topics.statusAll(), { qos: 1 });

  private constructor(private readonly client: MqttClient) {
    this.handler = (topic, payload) => {
      const t = parseTopic(topic);
      if (t.kind !== "status" || payload.length === 0) return;
      try {
        const s = JSON.parse(payload.toString("utf8")) as DeviceRecord;
        if (s && typeof s === "object" && s.deviceId === t.device) this.devices.set(t.device, { ...s, groups: s.groups ?? this.devices.get(t.device)?.groups });
      } catch {
        return; // not a status message: skip it
      }
      this.listeners.forEach((l) => l());
    };
    client.on("message", this.handler);
    client.on("connect", this.resubscribe);
  }

  static async open(client: MqttClient, graceMs = RETAINED_GRACE_MS): Promise<FleetView> {
    const v = new FleetView(client);
    await subscribeAsync(client, [topics.statusAll()], 1);
    await new Promise((r) => setTimeout(r, graceMs));
    return v;
  }

  /** Calls f after every status message; returns a function that stops it. */
  onChange(f: () => void): () => void {
    this.listeners.push(f);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== f);
    };
  }

  async close(): Promise<void> {
    this.client.removeListener("message", this.handler);
    this.client.removeListener("connect", this.resubscribe);
    this.listeners = [];
    await unsubscribeAsync(this.client, [topics.statusAll()]);
  }

  /** Devices in a group, sorted by id (the last will carries the groups too). */
  group(group: string): DeviceRecord[] {
    return [...this.devices.values()].filter((d) => (d.groups ?? []).includes(group)).sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }
}

export function rowFor(d: DeviceRecord, m?: ReleaseManifest): DeviceRow {
  const version = d.active?.version ?? null;
  const base = { deviceId: d.deviceId, state: d.state, version, percent: 0, reason: "", selfTestUs: d.selfTestUs ?? null };
  if (!m) return { ...base, progress: d.update ? d.update.phase : "idle", percent: d.update?.progress?.percent ?? 0, reason: d.lastResult?.outcome === "installed" ? "" : d.lastResult?.reason ?? "" };
  if (d.active?.sha256 === m.sha256) return { ...base, progress: "installed", percent: 100 };
  const r = d.lastResult;
  if (r && r.sha256 === m.sha256 && (r.outcome === "failed" || r.outcome === "refused")) return { ...base, progress: r.outcome, reason: `${r.code ?? ""} ${r.reason}`.trim() };
  if (r && r.outcome === "rolled-back" && d.previous?.sha256 === m.sha256) return { ...base, progress: "failed", reason: `${r.code ?? ""} ${r.reason}`.trim() };
  if (d.update && d.update.version === m.version) return { ...base, progress: d.update.phase, percent: d.update.progress?.percent ?? 0 };
  return { ...base, progress: d.state === "offline" ? "offline" : "waiting" };
}

export function isTerminal(row: DeviceRow): boolean {
  return row.progress === "installed" || row.progress === "failed" || row.progress === "refused";
}
