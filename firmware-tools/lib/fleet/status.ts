// edgerun status: what each device of a group (or every device) runs, from retained statuses.

import type { MqttClient } from "mqtt";
import { DeviceRecord, DeviceRow, FleetView, rowFor } from "./fleet-view.js";

export interface FleetStatus { rows: DeviceRow[]; records: DeviceRecord[] }

export async function fleetStatus(client: MqttClient, group?: string): Promise<FleetStatus> {
  const view = await FleetView.open(client);
  try {
    const records = group ? view.group(group) : [...view.devices.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    return { rows: records.map((r) => rowFor(r)), records };
  } finally {
    await view.close();
  }
}

/** Fixed-width text table of device rows (the CLI prints it; push redraws it live). */
export function formatRows(rows: DeviceRow[]): string[] {
  const head = ["device", "state", "version", "progress", "reason"];
  const body = rows.map((r) => [r.deviceId, r.state, r.version ?? "-", r.progress === "downloading" ? `downloading ${r.percent}%` : r.progress, r.reason]);
  const widths = head.map((h, i) => Math.min(i === 4 ? 80 : 40, Math.max(h.length, ...body.map((b) => b[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 4 ? c.slice(0, 120) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(head), ...body.map(line)];
}
