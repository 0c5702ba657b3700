// The collector: subscribes to device telemetry and status, checks each message, and writes
// batches to the store. Several collectors split a big fleet with an MQTT 5 shared subscription
// ($share/<group>/edgerun/v1/devices/+/telemetry: the broker gives each window to one member).
// A broker that only speaks 3.1.1 (the embedded Aedes) has no shared subscriptions: we subscribe
// plainly and say so (`subscription.shared` false, with the reason). Status is always subscribed
// plainly: it is small, retained (shared subscriptions get no retained messages) and idempotent.
//
// The collector keeps a persistent session (clean session false on 3.1.1; clean start false and
// a session expiry on 5) under a stable client id, so the broker queues the QoS 1 windows devices
// publish while it is down or restarting and delivers them when it is back; the store's unique
// key absorbs the redeliveries. `cleanSession` restores fire-and-forget.
//
// Messages are acknowledged on arrival and written within `flushMs` (mqtt.js handles one
// inbound packet at a time, so holding each PUBACK until its batch commits would serialize the
// stream). A collector crash can lose at most the unwritten batch.
// A failed write (locked or full database) keeps the batch and retries with backoff, at most
// `maxAttempts` times; then its windows are counted as dropped with the error's code. The
// backlog is bounded by `maxPending` (the oldest are dropped, counted).

import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { IConnackPacket, MqttClient } from "mqtt";
import { BrokerOptions, connectBroker, endAsync, subscribeAsync } from "../../../host/agent/connection.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { parseTopic, topics } from "../../../host/format/topics.js";
import { Batch, DropCount, EventRow, StatusRow, TelemetryStore, WindowRow } from "./store.js";
import { checkTelemetry, SkewOptions } from "./telemetry-check.js";
import { checkStatus } from "./status-check.js";

export interface CollectorOptions {
  broker: BrokerOptions;
  /** A path (opened and closed by the collector) or an open store. */
  db: string | TelemetryStore;
  /** Shared-subscription group name. Default "edgerun-collectors". */
  shareGroup?: string;
  /** Use a shared subscription when the broker speaks MQTT 5. Default true. */
  shared?: boolean;
  /**
   * MQTT client id, the name of the broker-side session. Default with a persistent session:
   * defaultCollectorClientId(db) (host name and database path); with a clean session: random.
   */
  clientId?: string;
  /** Clean session: the broker forgets the collector at disconnect and what is published meanwhile is lost. Default false. */
  cleanSession?: boolean;
  /** MQTT 5 session expiry, seconds: how long the broker keeps the session (and queues) after a disconnect. Default 86,400 (1 day). */
  sessionExpiryS?: number;
  /** Windows per transaction. Default 2000. */
  batchSize?: number;
  /** Longest wait before a partial batch is written, ms. Default 50. */
  flushMs?: number;
  /** Windows held in memory while the store fails. Default 200,000. */
  maxPending?: number;
  /** Write attempts per batch before its windows are dropped. Default 10. */
  maxAttempts?: number;
  /** First retry delay, ms, doubled per attempt up to 5 s. Default 100. */
  retryMs?: number;
  skew?: SkewOptions;
  onEvent?: (e: CollectorEvent) => void;
}

export type CollectorEvent =
  | { type: "store-error"; code: string; message: string; attempt: number }
  | { type: "dropped"; reason: string; count: number; detail: string }
  | { type: "new-device"; deviceId: string }
  | { type: "session-not-resumed"; clientId: string };

export interface CollectorStats {
  received: number;
  stored: number;
  duplicates: number;
  skewed: number;
  statuses: number;
  dropped: Record<string, number>;
  storeErrors: Record<string, number>;
  newDevices: number;
  pending: number;
}

export interface Subscription { shared: boolean; topic: string; mqttVersion: 4 | 5; note: string; session: SessionInfo }

export interface SessionInfo {
  clientId: string;
  persistent: boolean;
  /** The broker still held this client id's session at the first connect (queued windows follow). */
  resumed: boolean;
  /** MQTT 5 only; null on 3.1.1, where the broker alone decides how long it keeps a session. */
  expiryS: number | null;
  note: string;
}

export const DEFAULT_SESSION_EXPIRY_S = 86_400;
/** The MQTT 5 maximum, "never expires". */
export const MAX_SESSION_EXPIRY_S = 0xffff_ffff;

/**
 * A client id that stays the same across restarts of the collector writing one database on one
 * host (the host name keeps two machines with the same path from taking each other's session).
 */
export function defaultCollectorClientId(dbPath: string): string {
  let path = resolve(dbPath);
  try {
    path = realpathSync(path);
  } catch {
    // not created yet: the resolved path is as stable
  }
  return `edgerun-collector-${createHash("sha256").update(`${hostname()}\0${path}`).digest("hex").slice(0, 16)}`;
}

export class Collector {
  readonly stats: CollectorStats = { received: 0, stored: 0, duplicates: 0, skewed: 0, statuses: 0, dropped: {}, storeErrors: {}, newDevices: 0, pending: 0 };
  subscription!: Subscription;
  private windows: WindowRow[] = [];
  private statuses: StatusRow[] = [];
  private events: EventRow[] = [];
  private drops = new Map<string, DropCount>();
  private timer?: NodeJS.Timeout;
  private flushing = false;
  private pausedUntilMs = 0;
  private attempts = 0;
  private client!: MqttClient;
  private stopped = false;
  private readonly store: TelemetryStore;
  private readonly ownsStore: boolean;

  private constructor(private readonly o: CollectorOptions) {
    this.ownsStore = typeof o.db === "string";
    this.store = typeof o.db === "string" ? TelemetryStore.open(o.db) : o.db;
  }

  static async start(o: CollectorOptions): Promise<Collector> {
    const c = new Collector(o);
    try {
      await c.connect();
    } catch (e) {
      if (c.client) await endAsync(c.client, true, 1000); // connected, but the subscription failed
      if (c.ownsStore) c.store.close();
      throw e;
    }
    return c;
  }

  private async connect(): Promise<void> {
    const clean = this.o.cleanSession ?? false;
    const clientId = this.o.clientId ?? (clean ? `edgerun-collector-${process.pid}-${Math.random().toString(16).slice(2, 8)}` : defaultCollectorClientId(this.store.path));
    const expiryS = this.o.sessionExpiryS ?? DEFAULT_SESSION_EXPIRY_S;
    if (!Number.isInteger(expiryS) || expiryS < 0 || expiryS > MAX_SESSION_EXPIRY_S) {
      throw new EdgerunError("COLLECT_BAD_SESSION_EXPIRY", `session expiry must be whole seconds 0..${MAX_SESSION_EXPIRY_S}, got ${expiryS}`, { actual: expiryS });
    }
    // The listeners go on before CONNACK: a resumed session's queue follows it at once.
    let resumed = false;
    const onClient = (c: MqttClient) => {
      c.on("message", (t, p) => this.onMessage(t, p));
      c.once("connect", (ack: IConnackPacket) => { resumed = !clean && ack.sessionPresent; });
    };
    this.client = await connectBroker(this.o.broker, { clientId, clean, sessionExpiryS: clean ? undefined : expiryS, onClient });
    const version = (this.client.options.protocolVersion === 5 ? 5 : 4) as 4 | 5;
    const group = this.o.shareGroup ?? "edgerun-collectors";
    const shared = (this.o.shared ?? true) && version === 5;
    const topic = shared ? `$share/${group}/${topics.telemetryAll()}` : topics.telemetryAll();
    const note = shared ? `shared subscription (group ${group}): collectors in this group split the telemetry`
      : version === 4 ? "the broker speaks MQTT 3.1.1 only (no shared subscriptions): plain subscription, so run one collector per broker"
        : "plain subscription (shared subscriptions turned off)";
    const session = { clientId, persistent: !clean, resumed, expiryS: !clean && version === 5 ? expiryS : null, note: sessionNote(clientId, clean, resumed, version, expiryS, shared) };
    this.subscription = { shared, topic, mqttVersion: version, note, session };
    // Subscribe at every start (the topic or group may have changed since the session began);
    // after a reconnect only when the broker no longer holds the session.
    this.client.on("connect", (ack: IConnackPacket) => {
      if (this.stopped || (!clean && ack.sessionPresent)) return;
      if (!clean) this.o.onEvent?.({ type: "session-not-resumed", clientId });
      void subscribeAsync(this.client, [topic, topics.statusAll()], 1).catch(() => undefined);
    });
    await subscribeAsync(this.client, [topic, topics.statusAll()], 1);
    this.timer = setInterval(() => void this.flush(), this.o.flushMs ?? 50);
  }

  private drop(reason: string, detail: string, n = 1): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + n;
    const d = this.drops.get(reason) ?? { count: 0, lastMs: 0, detail: "" };
    this.drops.set(reason, { count: d.count + n, lastMs: Date.now(), detail });
    this.o.onEvent?.({ type: "dropped", reason, count: n, detail });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    const now = Date.now();
    if (t.kind === "status") {
      const s = checkStatus(t.device, payload, now);
      if (!s.ok) return this.drop(s.reason, s.detail);
      this.stats.statuses++;
      this.statuses.push(s.status);
      if (s.event) this.events.push(s.event);
      return;
    }
    if (t.kind !== "telemetry") return this.drop("unknown-topic", topic);
    this.stats.received++;
    const r = checkTelemetry(t.device, payload, now, this.o.skew);
    if (!r.ok) return this.drop(r.reason, r.detail);
    if (r.row.skewed) this.stats.skewed++;
    this.windows.push(r.row);
    const max = this.o.maxPending ?? 200_000;
    if (this.windows.length > max) {
      this.windows.splice(0, this.windows.length - max);
      this.drop("backlog-full", `more than ${max} windows waiting for the database`, 1);
    }
    this.stats.pending = this.windows.length;
    if (this.windows.length >= (this.o.batchSize ?? 2000) && !this.flushing) setImmediate(() => void this.flush());
  }

  /** Writes what is pending, one batch per transaction; resolves when done or when a write fails. */
  async flush(): Promise<void> {
    if (this.flushing || Date.now() < this.pausedUntilMs) return;
    this.flushing = true;
    try {
      while (this.windows.length || this.statuses.length || this.events.length || this.drops.size) {
        const n = Math.min(this.windows.length, this.o.batchSize ?? 2000);
        const batch: Batch = { windows: this.windows.slice(0, n), statuses: this.statuses, events: this.events, drops: this.drops };
        try {
          const r = this.store.writeBatch(batch);
          this.windows.splice(0, n);
          this.statuses = [];
          this.events = [];
          this.drops = new Map();
          this.attempts = 0;
          this.stats.stored += r.stored;
          this.stats.duplicates += r.duplicates;
          this.stats.newDevices += r.newDevices.length;
          r.newDevices.forEach((deviceId) => this.o.onEvent?.({ type: "new-device", deviceId }));
        } catch (e) {
          this.failed(e as EdgerunError, n);
          return;
        } finally {
          this.stats.pending = this.windows.length;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private failed(e: EdgerunError, n: number): void {
    const code = e.code ?? "STORE_FAILED";
    this.stats.storeErrors[code] = (this.stats.storeErrors[code] ?? 0) + 1;
    this.attempts++;
    this.o.onEvent?.({ type: "store-error", code, message: e.message, attempt: this.attempts });
    if (this.attempts >= (this.o.maxAttempts ?? 10)) {
      // Bounded retries: give this batch up (counted under the error's code) and go on with the next.
      this.windows.splice(0, n);
      this.statuses = [];
      this.events = [];
      this.drops = new Map();
      this.attempts = 0;
      this.stats.dropped[code] = (this.stats.dropped[code] ?? 0) + n;
      this.o.onEvent?.({ type: "dropped", reason: code, count: n, detail: e.message });
      return;
    }
    // Pause the periodic flush until the backoff has passed.
    const delay = Math.min(5000, (this.o.retryMs ?? 100) * 2 ** (this.attempts - 1));
    this.pausedUntilMs = Date.now() + delay;
    setTimeout(() => void this.flush(), delay + 1).unref();
  }

  /** Stops receiving, writes what is pending (bounded), disconnects, closes an owned store. */
  async stop(drainTimeoutMs = 5000): Promise<CollectorStats> {
    if (this.stopped) return this.stats;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await endAsync(this.client, false, 2000);
    const deadline = Date.now() + drainTimeoutMs;
    while ((this.windows.length || this.statuses.length || this.events.length || this.drops.size) && Date.now() < deadline) {
      await this.flush();
      if (this.windows.length || this.statuses.length || this.drops.size) await new Promise((r) => setTimeout(r, 50));
    }
    if (this.windows.length) this.drop("not-written-at-stop", `the database did not take the last windows within ${drainTimeoutMs} ms`, this.windows.length);
    if (this.ownsStore) this.store.close();
    return this.stats;
  }
}

function sessionNote(clientId: string, clean: boolean, resumed: boolean, version: 4 | 5, expiryS: number, shared: boolean): string {
  if (clean) return `clean session (${clientId}): telemetry published while this collector is not connected is lost`;
  const kept = version === 5 ? `kept ${expiryS} s after a disconnect` : "kept as long as the broker keeps 3.1.1 sessions";
  const share = shared ? "; as a share-group member it is still given its part while away (run it once with --clean-session to leave the group for good)" : "";
  return `persistent session ${clientId} (${resumed ? "resumed" : "new"}, ${kept}): the broker queues telemetry while this collector is away${share}`;
}
