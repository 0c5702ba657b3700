// The telemetry store: one SQLite file (better-sqlite3) in WAL mode, so reports and the dashboard
// read while the collector writes. Windows are written in batches, one transaction per batch:
// a batch is stored whole or not at all, never a partial window. UNIQUE(device, source, seq,
// device time) makes QoS 1 redelivery and repeated imports land once (ON CONFLICT DO NOTHING,
// counted), while a device whose seq started again (data dir wiped) is not mistaken for a
// redelivery: its new windows carry other timestamps.
// SQLite failures become typed errors: STORE_LOCKED (busy), STORE_FULL (disk or max size),
// STORE_NOT_A_DATABASE, STORE_CANNOT_OPEN, STORE_READONLY.

import Database from "better-sqlite3";
import { EdgerunError } from "../../../host/format/errors.js";

export const STORE_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  device_id TEXT PRIMARY KEY, kind TEXT NOT NULL, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
  registered_by TEXT NOT NULL, groups TEXT NOT NULL DEFAULT '[]', state TEXT, model_id TEXT, version TEXT, status_ms INTEGER);
CREATE TABLE IF NOT EXISTS windows (
  id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, source TEXT NOT NULL, seq INTEGER NOT NULL,
  t_ms INTEGER NOT NULL, device_ts_ms INTEGER, received_ms INTEGER NOT NULL, skew_ms INTEGER, skewed INTEGER NOT NULL,
  interval_ms INTEGER, model_id TEXT, version TEXT, inferences INTEGER NOT NULL, errors INTEGER NOT NULL,
  hist_count INTEGER NOT NULL, p50_us INTEGER NOT NULL, p99_us INTEGER NOT NULL, max_us INTEGER NOT NULL, hist BLOB NOT NULL,
  drift_psi REAL, drift_samples INTEGER, rss_bytes INTEGER, buffer_dropped INTEGER,
  dedupe_ts INTEGER NOT NULL, UNIQUE (device_id, source, seq, dedupe_ts));
CREATE INDEX IF NOT EXISTS windows_t ON windows (t_ms);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
  version TEXT, code TEXT, reason TEXT, UNIQUE (device_id, at_ms, kind));
CREATE TABLE IF NOT EXISTS drops (reason TEXT PRIMARY KEY, count INTEGER NOT NULL, last_ms INTEGER NOT NULL, last_detail TEXT);
`;

export interface WindowRow {
  deviceId: string;
  /** "mqtt" (agent telemetry) or "mcu" (a pulled microcontroller latency log). */
  source: "mqtt" | "mcu";
  seq: number;
  /** The time the window is filed under: device time, or receive time when the device clock is off. */
  tMs: number;
  deviceTsMs: number | null;
  receivedMs: number;
  skewMs: number | null;
  skewed: boolean;
  intervalMs: number | null;
  modelId: string | null;
  version: string | null;
  inferences: number;
  errors: number;
  histCount: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  hist: Buffer;
  driftPsi: number | null;
  driftSamples: number | null;
  rssBytes: number | null;
  bufferDropped: number | null;
}

export interface StatusRow { deviceId: string; atMs: number; state: string; groups: string[]; modelId: string | null; version: string | null }
export interface EventRow { deviceId: string; atMs: number; kind: string; version: string | null; code: string | null; reason: string | null }
export interface DropCount { count: number; lastMs: number; detail: string }

export interface Batch {
  windows: WindowRow[];
  statuses?: StatusRow[];
  events?: EventRow[];
  drops?: Map<string, DropCount>;
}

export interface BatchResult { stored: number; duplicates: number; newDevices: string[] }

export interface OpenOptions {
  readonly?: boolean;
  /** How long SQLite itself waits on a lock before STORE_LOCKED; it blocks the thread, so keep it short. Default 200 ms. */
  busyTimeoutMs?: number;
  /** Upper bound on the file size (SQLite max_page_count), for tests and small disks. */
  maxBytes?: number;
}

/** Maps a SQLite error to a typed one; anything unknown keeps its SQLite code. */
export function storeError(e: unknown, path: string): EdgerunError {
  if (e instanceof EdgerunError) return e;
  const code = (e as { code?: string }).code ?? "";
  const msg = (e as Error).message ?? String(e);
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return new EdgerunError("STORE_LOCKED", `the database ${path} is locked by another process: ${msg}`, { path });
  if (code === "SQLITE_FULL") return new EdgerunError("STORE_FULL", `the database ${path} is full (disk or size limit): ${msg}`, { path });
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") return new EdgerunError("STORE_NOT_A_DATABASE", `${path} is not a usable SQLite database: ${msg}`, { path });
  if (code.startsWith("SQLITE_CANTOPEN") || /directory does not exist|unable to open/i.test(msg)) return new EdgerunError("STORE_CANNOT_OPEN", `cannot open the database ${path}: ${msg}`, { path });
  if (code.startsWith("SQLITE_READONLY")) return new EdgerunError("STORE_READONLY", `the database ${path} is read-only: ${msg}`, { path });
  return new EdgerunError("STORE_FAILED", `database ${path}: ${code} ${msg}`, { path, sqlite: code });
}

export class TelemetryStore {
  readonly db: Database.Database;
  private readonly known = new Set<string>();
  private readonly stmts: ReturnType<TelemetryStore["prepare"]> | null;

  private constructor(readonly path: string, o: OpenOptions) {
    try {
      this.db = new Database(path, { readonly: o.readonly ?? false, fileMustExist: o.readonly ?? false, timeout: o.busyTimeoutMs ?? 200 });
      if (o.readonly) {
        this.db.prepare("SELECT count(*) FROM windows").get(); // fails now, clearly, on a non-edgerun file
        this.stmts = null;
        return;
      }
      this.db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode: a collector crash loses nothing committed; a power cut may lose the last batches.
      this.db.pragma("synchronous = NORMAL");
      if (o.maxBytes) this.db.pragma(`max_page_count = ${Math.max(8, Math.floor(o.maxBytes / (this.db.pragma("page_size", { simple: true }) as number)))}`);
      this.db.exec(SCHEMA);
      this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)").run(String(STORE_SCHEMA_VERSION));
      this.stmts = this.prepare();
      for (const r of this.db.prepare("SELECT device_id FROM devices").all() as { device_id: string }[]) this.known.add(r.device_id);
    } catch (e) {
      throw storeError(e, path);
    }
  }

  static open(path: string, o: OpenOptions = {}): TelemetryStore {
    return new TelemetryStore(path, o);
  }

  private prepare() {
    const db = this.db;
    return {
      // ON CONFLICT on the key only: OR IGNORE would also skip rows breaking NOT NULL, silently.
      window: db.prepare(`INSERT INTO windows (device_id, source, seq, t_ms, device_ts_ms, received_ms, skew_ms, skewed, interval_ms, model_id, version,
        inferences, errors, hist_count, p50_us, p99_us, max_us, hist, drift_psi, drift_samples, rss_bytes, buffer_dropped, dedupe_ts)
        VALUES (@deviceId, @source, @seq, @tMs, @deviceTsMs, @receivedMs, @skewMs, @skewed, @intervalMs, @modelId, @version,
        @inferences, @errors, @histCount, @p50Us, @p99Us, @maxUs, @hist, @driftPsi, @driftSamples, @rssBytes, @bufferDropped, @dedupeTs)
        ON CONFLICT (device_id, source, seq, dedupe_ts) DO NOTHING`),
      newDevice: db.prepare("INSERT OR IGNORE INTO devices (device_id, kind, first_seen_ms, last_seen_ms, registered_by) VALUES (?, ?, ?, ?, ?)"),
      seen: db.prepare("UPDATE devices SET last_seen_ms = max(last_seen_ms, ?), model_id = coalesce(?, model_id), version = coalesce(?, version) WHERE device_id = ?"),
      status: db.prepare(`UPDATE devices SET state = ?, groups = ?, model_id = coalesce(?, model_id), version = coalesce(?, version), status_ms = ?, last_seen_ms = max(last_seen_ms, ?)
        WHERE device_id = ? AND (status_ms IS NULL OR status_ms <= ?)`),
      event: db.prepare("INSERT OR IGNORE INTO events (device_id, at_ms, kind, version, code, reason) VALUES (?, ?, ?, ?, ?, ?)"),
      drop: db.prepare(`INSERT INTO drops (reason, count, last_ms, last_detail) VALUES (?, ?, ?, ?)
        ON CONFLICT(reason) DO UPDATE SET count = count + excluded.count, last_ms = excluded.last_ms, last_detail = excluded.last_detail`),
    };
  }

  /** One transaction: windows, device registrations, statuses, events and drop counters. */
  writeBatch(b: Batch): BatchResult {
    const s = this.stmts;
    if (!s) throw new EdgerunError("STORE_READONLY", `the database ${this.path} was opened read-only`, { path: this.path });
    const newDevices: string[] = [];
    const register = (id: string, kind: string, atMs: number, by: string) => {
      if (this.known.has(id)) return;
      if (s.newDevice.run(id, kind, atMs, atMs, by).changes) newDevices.push(id);
    };
    const run = this.db.transaction(() => {
      let stored = 0;
      const last = new Map<string, WindowRow>();
      for (const w of b.windows) {
        register(w.deviceId, w.source === "mcu" ? "mcu" : "agent", w.receivedMs, w.source === "mcu" ? "logs" : "telemetry");
        stored += s.window.run({ ...w, skewed: w.skewed ? 1 : 0, dedupeTs: w.deviceTsMs ?? 0 }).changes;
        last.set(w.deviceId, w);
      }
      for (const w of last.values()) s.seen.run(w.receivedMs, w.modelId, w.version, w.deviceId);
      for (const st of b.statuses ?? []) {
        register(st.deviceId, "agent", st.atMs, "status");
        s.status.run(st.state, JSON.stringify(st.groups), st.modelId, st.version, st.atMs, st.atMs, st.deviceId, st.atMs);
      }
      for (const e of b.events ?? []) s.event.run(e.deviceId, e.atMs, e.kind, e.version, e.code, e.reason);
      for (const [reason, d] of b.drops ?? []) s.drop.run(reason, d.count, d.lastMs, d.detail.slice(0, 500));
      return stored;
    });
    try {
      const stored = run();
      newDevices.forEach((id) => this.known.add(id));
      return { stored, duplicates: b.windows.length - stored, newDevices };
    } catch (e) {
      throw storeError(e, this.path);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
