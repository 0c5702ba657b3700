// Microcontroller latency logs into the telemetry store. A device keeps its last 128 inference
// times in a ring and a count of inferences since boot (docs/mcu-abi.md); `edgerun logs pull
// --db` stores each pull as one window holding only the inferences not stored before:
// min(count - previous count, ring length) from the ring's end. The window's seq is the
// device's running count (plus an offset kept across reboots, when the count starts again),
// so pulling twice stores once. The device has no clock: windows are filed at pull time.

import { encodeHistogram, newLatencyHistogram, recordLatencyUs } from "../../../host/telemetry/histogram.js";
import { checkName } from "../../../host/format/topics.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { decodeWireHistogram } from "./latency-counts.js";
import { storeError, TelemetryStore, WindowRow } from "./store.js";

export interface McuLog {
  deviceId: string;
  model?: { name: string; version: string } | null;
  inferences: number;
  latenciesUs: number[];
}

export interface McuImportResult { stored: number; duplicate: boolean; newInferences: number; seq: number }

export function checkMcuLog(v: unknown): McuLog {
  const o = v as Partial<McuLog>;
  if (!o || typeof o !== "object") throw new EdgerunError("LOGS_BAD_FILE", "a latency log is a JSON object {deviceId, inferences, latenciesUs}");
  checkName("device id", o.deviceId as string);
  if (!Number.isSafeInteger(o.inferences) || o.inferences! < 0) throw new EdgerunError("LOGS_BAD_FILE", "inferences must be a non-negative integer", { actual: o.inferences });
  if (!Array.isArray(o.latenciesUs) || o.latenciesUs.some((x) => typeof x !== "number" || !(x >= 0) || !Number.isFinite(x))) {
    throw new EdgerunError("LOGS_BAD_FILE", "latenciesUs must be a list of non-negative numbers");
  }
  return { deviceId: o.deviceId!, model: o.model ?? null, inferences: o.inferences!, latenciesUs: o.latenciesUs };
}

export function importMcuLog(store: TelemetryStore, log: McuLog, receivedMs = Date.now()): McuImportResult {
  const l = checkMcuLog(log);
  const db = store.db;
  const key = `mcu-offset:${l.deviceId}`;
  const run = db.transaction((): McuImportResult => {
    const prev = (db.prepare("SELECT max(seq) AS s FROM windows WHERE device_id = ? AND source = 'mcu'").get(l.deviceId) as { s: number | null }).s ?? 0;
    let offset = Number((db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value ?? 0);
    let seq = offset + l.inferences;
    if (seq < prev) {
      // The count restarted (reboot or RESET): continue after what is stored.
      offset = prev;
      seq = offset + l.inferences;
      db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, String(offset));
    }
    const fresh = Math.min(seq - prev, l.latenciesUs.length);
    if (seq === prev || fresh <= 0) return { stored: 0, duplicate: true, newInferences: 0, seq };
    const xs = l.latenciesUs.slice(-fresh);
    const h = newLatencyHistogram();
    xs.forEach((x) => recordLatencyUs(h, x));
    const d = decodeWireHistogram(encodeHistogram(h));
    const row: WindowRow = {
      deviceId: l.deviceId, source: "mcu", seq, tMs: receivedMs, deviceTsMs: null, receivedMs, skewMs: null, skewed: false, intervalMs: null,
      modelId: l.model?.name ?? null, version: l.model?.version ?? null, inferences: seq - prev, errors: 0,
      histCount: d.totalCount, p50Us: d.p50Us, p99Us: d.p99Us, maxUs: d.maxUs, hist: d.payload,
      driftPsi: null, driftSamples: null, rssBytes: null, bufferDropped: null,
    };
    const r = store.writeBatch({ windows: [row] });
    return { stored: r.stored, duplicate: r.stored === 0, newInferences: xs.length, seq };
  });
  try {
    return run();
  } catch (e) {
    throw storeError(e, store.path);
  }
}
