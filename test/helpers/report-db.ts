// A telemetry store filled with known windows for the report tests: three devices in two
// groups, two model versions (1.1.0 about 30% slower), one window per device per second.

import { TelemetryStore, WindowRow } from "../../firmware-tools/lib/collect/store.js";
import { checkTelemetry } from "../../firmware-tools/lib/collect/telemetry-check.js";
import { latencies, rng, telemetryMessage } from "./telemetry.js";

export const T0 = Date.parse("2026-03-01T10:00:00Z");
export const DEVICES = [{ id: "pi-1", group: "kitchen" }, { id: "pi-2", group: "kitchen" }, { id: "pi-3", group: "garage" }];

export interface Fixture { wire: Map<string, string[]>; windows: number }

/** 60 windows per device: seconds 0-29 on 1.0.0, 30-59 on 1.1.0 (slower). Wire histograms kept by device and version. */
export interface FillOptions {
  slowdown?: number;
  /** Start time of the windows. Default T0. */
  t0?: number;
  /** This device's inputs drift: PSI climbs to 0.5 over its windows. */
  drifting?: string;
}

export function fillReportDb(path: string, opts: FillOptions = {}): Fixture {
  const t0 = opts.t0 ?? T0;
  const s = TelemetryStore.open(path);
  const wire = new Map<string, string[]>();
  const rows: WindowRow[] = [];
  const rand = rng(42);
  for (const d of DEVICES) {
    for (let i = 0; i < 60; i++) {
      const version = i < 30 ? "1.0.0" : "1.1.0";
      const base = version === "1.0.0" ? 500 : 500 * (opts.slowdown ?? 1.3);
      const psi = d.id === opts.drifting ? (0.5 * i) / 59 : 0.01 * (i % 5);
      const m = telemetryMessage({ deviceId: d.id, seq: i + 1, tsMs: t0 + i * 1000, version, latenciesUs: latencies(50, base, 200, rand), errors: i % 10 === 0 ? 1 : 0, psi });
      for (const k of [`device:${d.id}`, `version:${version}`, `group:${d.group}`, "all"]) wire.set(k, [...(wire.get(k) ?? []), m.latencyUs.histogram]);
      const r = checkTelemetry(d.id, Buffer.from(JSON.stringify(m)), t0 + i * 1000 + 50);
      if (!r.ok) throw new Error(r.detail);
      rows.push(r.row);
    }
  }
  s.writeBatch({
    windows: rows,
    statuses: DEVICES.map((d, i) => ({ deviceId: d.id, atMs: t0 + 60_000, state: i === 2 ? "offline" : "online", groups: [d.group], modelId: "digits", version: "1.1.0" })),
    events: [
      { deviceId: "pi-1", atMs: t0 + 30_000, kind: "installed", version: "1.1.0", code: null, reason: null },
      { deviceId: "pi-3", atMs: t0 + 61_000, kind: "rolled-back", version: "1.0.0", code: "SELFTEST_MISMATCH", reason: "golden output differs" },
    ],
  });
  s.close();
  return { wire, windows: rows.length };
}
