// The SQLite store: WAL mode, duplicates stored once, a batch written whole or not at all, MCU
// latency logs imported once per new inference, and typed errors for a locked, full or foreign file.

import { afterAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { TelemetryStore, WindowRow } from "../../../firmware-tools/lib/collect/store.js";
import { checkTelemetry } from "../../../firmware-tools/lib/collect/telemetry-check.js";
import { importMcuLog } from "../../../firmware-tools/lib/collect/mcu-import.js";
import { tempDir } from "../../helpers/fleet.js";
import { latencies, rng, telemetryMessage } from "../../helpers/telemetry.js";

const tmp = tempDir("edgerun-store-");
afterAll(() => tmp.cleanup());
const NOW = Date.parse("2026-01-01T12:00:00Z");

function row(deviceId: string, seq: number, n = 20, tsMs = NOW + seq * 1000): WindowRow {
  const r = checkTelemetry(deviceId, Buffer.from(JSON.stringify(telemetryMessage({ deviceId, seq, tsMs, latenciesUs: latencies(n, 300, 200, rng(seq)) }))), tsMs);
  if (!r.ok) throw new Error(r.detail);
  return r.row;
}

describe("telemetry store", () => {
  it("uses WAL, stores each (device, seq) once and registers new devices", () => {
    const s = TelemetryStore.open(join(tmp.dir, "a.db"));
    expect(s.db.pragma("journal_mode", { simple: true })).toBe("wal");
    const r1 = s.writeBatch({ windows: [row("pi-1", 1), row("pi-1", 2), row("pi-2", 1)] });
    expect(r1).toEqual({ stored: 3, duplicates: 0, newDevices: ["pi-1", "pi-2"] });
    const r2 = s.writeBatch({ windows: [row("pi-1", 2), row("pi-1", 3)] });
    expect(r2).toEqual({ stored: 1, duplicates: 1, newDevices: [] });
    expect(s.db.prepare("SELECT count(*) FROM windows").pluck().get()).toBe(4);
    // A device whose data dir was wiped counts from 1 again: new windows, not redeliveries.
    expect(s.writeBatch({ windows: [row("pi-1", 1, 20, NOW + 3_600_000)] }).stored).toBe(1);
    expect(s.db.prepare("SELECT registered_by FROM devices WHERE device_id = 'pi-2'").pluck().get()).toBe("telemetry");
    s.close();
  });

  it("writes a batch whole or not at all", () => {
    const s = TelemetryStore.open(join(tmp.dir, "b.db"));
    const broken = { ...row("pi-1", 2), hist: null as unknown as Buffer }; // violates NOT NULL mid-batch
    expect(() => s.writeBatch({ windows: [row("pi-1", 1), broken, row("pi-1", 3)] })).toThrow(/STORE_FAILED/);
    expect(s.db.prepare("SELECT count(*) FROM windows").pluck().get()).toBe(0);
    expect(s.db.prepare("SELECT count(*) FROM devices").pluck().get()).toBe(0);
    s.close();
  });

  it("reports a database locked by another process as STORE_LOCKED, and recovers after", () => {
    const path = join(tmp.dir, "c.db");
    const s = TelemetryStore.open(path, { busyTimeoutMs: 50 });
    const other = new Database(path);
    other.exec("BEGIN EXCLUSIVE");
    expect(() => s.writeBatch({ windows: [row("pi-1", 1)] })).toThrow(/STORE_LOCKED/);
    other.exec("ROLLBACK");
    other.close();
    expect(s.writeBatch({ windows: [row("pi-1", 1)] }).stored).toBe(1);
    s.close();
  });

  it("reports a full database as STORE_FULL without a partial batch", () => {
    const s = TelemetryStore.open(join(tmp.dir, "d.db"), { maxBytes: 64 * 1024 });
    let full: Error | undefined;
    let seq = 0;
    for (let i = 0; i < 200 && !full; i++) {
      const before = s.db.prepare("SELECT count(*) FROM windows").pluck().get() as number;
      try {
        s.writeBatch({ windows: Array.from({ length: 10 }, () => row("pi-1", ++seq, 200)) });
      } catch (e) {
        full = e as Error;
        expect(s.db.prepare("SELECT count(*) FROM windows").pluck().get()).toBe(before);
        expect(before % 10).toBe(0);
      }
    }
    expect(full?.message).toMatch(/STORE_FULL/);
    s.close();
  });

  it("refuses a file that is not a database, and a read-only open of a missing file", () => {
    const p = join(tmp.dir, "junk.db");
    writeFileSync(p, "this is not sqlite".repeat(100));
    expect(() => TelemetryStore.open(p)).toThrow(/STORE_NOT_A_DATABASE/);
    expect(() => TelemetryStore.open(join(tmp.dir, "missing.db"), { readonly: true })).toThrow(/STORE_CANNOT_OPEN/);
    expect(() => TelemetryStore.open(join(tmp.dir, "no-such-dir", "x.db"))).toThrow(/STORE_CANNOT_OPEN/);
  });

  it("imports a microcontroller latency log once per new inference, across reboots", () => {
    const s = TelemetryStore.open(join(tmp.dir, "mcu.db"));
    const id = "a1b2c3d4e5f60718";
    const ring = [100, 110, 120, 130, 140];
    expect(importMcuLog(s, { deviceId: id, inferences: 5, latenciesUs: ring })).toMatchObject({ stored: 1, newInferences: 5, seq: 5 });
    expect(importMcuLog(s, { deviceId: id, inferences: 5, latenciesUs: ring })).toMatchObject({ stored: 0, duplicate: true });
    expect(importMcuLog(s, { deviceId: id, inferences: 7, latenciesUs: [...ring, 150, 160] })).toMatchObject({ stored: 1, newInferences: 2, seq: 7 });
    expect(importMcuLog(s, { deviceId: id, inferences: 2, latenciesUs: [90, 95] })).toMatchObject({ stored: 1, newInferences: 2, seq: 9 }); // rebooted
    const rows = s.db.prepare("SELECT seq, hist_count, source FROM windows ORDER BY seq").all();
    expect(rows).toEqual([{ seq: 5, hist_count: 5, source: "mcu" }, { seq: 7, hist_count: 2, source: "mcu" }, { seq: 9, hist_count: 2, source: "mcu" }]);
    expect(s.db.prepare("SELECT kind FROM devices").pluck().get()).toBe("mcu");
    expect(() => importMcuLog(s, { deviceId: "bad/id", inferences: 1, latenciesUs: [1] })).toThrow(/TOPIC_BAD_NAME/);
    s.close();
  });
});
