// The collector against real brokers: every window stored once (QoS 1 redelivery), unknown
// devices registered, clock skew flagged, malformed telemetry counted as drops by reason (and
// the collector keeps going), a locked database retried, a full one dropped with a counted
// reason; Aedes (3.1.1) gets a plain subscription, Mosquitto (MQTT 5) a shared one that splits
// the windows between two collectors.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { MqttClient } from "mqtt";
import { Collector, CollectorEvent } from "../../../firmware-tools/lib/collect/collector.js";
import { TelemetryStore } from "../../../firmware-tools/lib/collect/store.js";
import { startBroker, RunningBroker } from "../../../firmware-tools/lib/fleet/broker.js";
import { findMosquitto, startMosquitto } from "../../../firmware-tools/lib/fleet/mosquitto.js";
import { topics } from "../../../host/format/topics.js";
import { endAsync, operatorClient, tempDir, waitUntil } from "../../helpers/fleet.js";
import { latencies, rng, telemetryMessage } from "../../helpers/telemetry.js";

const tmp = tempDir("edgerun-collector-");
let broker: RunningBroker;
let pub: MqttClient;
beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  pub = await operatorClient(broker.url, "pub");
});
afterAll(async () => {
  await endAsync(pub, true);
  await broker.close();
  tmp.cleanup();
});

const now = () => Date.now();
function publish(c: MqttClient, device: string, body: unknown): Promise<void> {
  return new Promise((r) => c.publish(topics.telemetry(device), typeof body === "string" ? body : JSON.stringify(body), { qos: 1 }, () => r()));
}
function win(deviceId: string, seq: number, tsMs = now()) {
  return telemetryMessage({ deviceId, seq, tsMs, latenciesUs: latencies(30, 400, 300, rng(seq)) });
}

describe("collector on the embedded broker (MQTT 3.1.1)", () => {
  it("stores each window once, registers devices, flags skew and counts malformed messages", async () => {
    const db = join(tmp.dir, "a.db");
    const c = await Collector.start({ broker: { url: broker.url }, db, flushMs: 20 });
    expect(c.subscription).toMatchObject({ shared: false, mqttVersion: 4 });
    expect(c.subscription.note).toMatch(/3\.1\.1 only/);
    const sent = Array.from({ length: 5 }, (_, i) => win("pi-a", i + 1));
    for (const m of sent) await publish(pub, "pi-a", m);
    await publish(pub, "pi-a", sent[2]); // QoS 1 redelivery: the same message again
    await publish(pub, "pi-new", win("pi-new", 1, now() + 3_600_000)); // clock an hour ahead
    await publish(pub, "pi-a", "{not json");
    await publish(pub, "pi-a", { ...win("pi-a", 9), schema: "other/1" });
    await publish(pub, "pi-a", { ...win("pi-a", 10), latencyUs: { histogram: "AAAA////" } });
    await publish(pub, "pi-a", win("pi-b", 11)); // deviceId differs from the topic
    await publish(pub, "pi-a", { ...win("pi-a", 12), seq: -1 });
    await publish(pub, "pi-a", { ...win("pi-a", 13), ts: "yesterday-ish" });
    await new Promise<void>((r) => pub.publish(topics.status("pi-a"), JSON.stringify({ schema: "edgerun.status/1", deviceId: "pi-a", state: "online", ts: new Date().toISOString(), groups: ["lab"], active: { modelId: "digits", version: "1.0.0" }, lastResult: { outcome: "rolled-back", version: "1.0.0", code: "UPDATE_CRASH_LOOP", reason: "boot loop", at: new Date().toISOString() } }), { qos: 1, retain: true }, () => r()));
    for (let s = 6; s <= 8; s++) await publish(pub, "pi-a", win("pi-a", s)); // still collecting after the garbage
    await waitUntil(() => c.stats.stored === 9 && c.stats.statuses >= 1, 5000, "9 windows stored");
    const stats = await c.stop();
    expect(stats).toMatchObject({ received: 16, stored: 9, duplicates: 1, skewed: 1, newDevices: 2 });
    expect(stats.dropped).toEqual({ "not-json": 1, "bad-schema": 1, "bad-histogram": 1, "device-mismatch": 1, "bad-field": 2 });
    const s = TelemetryStore.open(db, { readonly: true });
    expect(s.db.prepare("SELECT count(*) FROM windows").pluck().get()).toBe(9);
    expect(s.db.prepare("SELECT skewed, t_ms = received_ms AS filedAtReceipt FROM windows WHERE device_id = 'pi-new'").get()).toEqual({ skewed: 1, filedAtReceipt: 1 });
    expect(s.db.prepare("SELECT state, groups, version FROM devices WHERE device_id = 'pi-a'").get()).toEqual({ state: "online", groups: '["lab"]', version: "1.0.0" });
    expect(s.db.prepare("SELECT kind, code FROM events").get()).toEqual({ kind: "rolled-back", code: "UPDATE_CRASH_LOOP" });
    expect(s.db.prepare("SELECT reason, count FROM drops WHERE reason = 'bad-field'").get()).toEqual({ reason: "bad-field", count: 2 });
    s.close();
  });

  it("retries while the database is locked and stores everything once it is free", async () => {
    const path = join(tmp.dir, "locked.db");
    const store = TelemetryStore.open(path, { busyTimeoutMs: 20 });
    const events: CollectorEvent[] = [];
    const c = await Collector.start({ broker: { url: broker.url }, db: store, flushMs: 20, retryMs: 50, maxAttempts: 100, onEvent: (e) => events.push(e) });
    const other = new Database(path);
    other.exec("BEGIN EXCLUSIVE");
    for (let s = 1; s <= 20; s++) await publish(pub, "pi-lock", win("pi-lock", s));
    await waitUntil(() => (c.stats.storeErrors.STORE_LOCKED ?? 0) >= 2, 5000, "lock errors");
    expect(c.stats.stored).toBe(0);
    other.exec("ROLLBACK");
    other.close();
    await waitUntil(() => c.stats.stored === 20, 10_000, "20 windows stored after the lock");
    await c.stop();
    expect(events.some((e) => e.type === "store-error" && e.code === "STORE_LOCKED")).toBe(true);
    expect(store.db.prepare("SELECT count(*) FROM windows WHERE device_id = 'pi-lock'").pluck().get()).toBe(20);
    store.close();
  });

  it("counts windows it cannot write to a full database as dropped, and keeps running", async () => {
    const store = TelemetryStore.open(join(tmp.dir, "full.db"), { maxBytes: 48 * 1024 });
    const c = await Collector.start({ broker: { url: broker.url }, db: store, flushMs: 10, retryMs: 5, maxAttempts: 2, batchSize: 50 });
    for (let s = 1; s <= 400; s++) await publish(pub, "pi-full", { ...win("pi-full", s), latencyUs: { histogram: telemetryMessage({ deviceId: "x", seq: 1, tsMs: 0, latenciesUs: latencies(400, 10, 1e6, rng(s)) }).latencyUs.histogram } });
    await waitUntil(() => (c.stats.dropped.STORE_FULL ?? 0) > 0 && c.stats.pending === 0, 10_000, "full-database drops");
    const stats = await c.stop();
    expect(stats.stored + stats.dropped.STORE_FULL).toBe(400);
    expect(stats.storeErrors.STORE_FULL).toBeGreaterThanOrEqual(2);
    // Whole batches only: what is stored is a multiple of nothing partial: every stored row is complete.
    expect(store.db.prepare("SELECT count(*) FROM windows WHERE hist IS NULL OR length(hist) = 0").pluck().get()).toBe(0);
    store.close();
  });
});

describe.skipIf(!findMosquitto() && process.env.CI !== "true")("collector on Mosquitto (MQTT 5 shared subscription)", () => {
  it("two collectors in one share group split the windows, each stored exactly once", async () => {
    if (!findMosquitto()) throw new Error("CI=true but mosquitto is not installed (Debian package: mosquitto)");
    const m = await startMosquitto(join(tmp.dir, "mosq"));
    const c1 = await Collector.start({ broker: { url: m.url }, db: join(tmp.dir, "m1.db"), flushMs: 20 });
    const c2 = await Collector.start({ broker: { url: m.url }, db: join(tmp.dir, "m2.db"), flushMs: 20 });
    const p = await operatorClient(m.url, "mpub");
    try {
      expect(c1.subscription).toMatchObject({ shared: true, mqttVersion: 5, topic: "$share/edgerun-collectors/edgerun/v1/devices/+/telemetry" });
      for (let s = 1; s <= 200; s++) await publish(p, `pi-${s % 4}`, win(`pi-${s % 4}`, s));
      await waitUntil(() => c1.stats.stored + c2.stats.stored === 200, 10_000, "200 windows across both collectors");
      expect(c1.stats.stored).toBeGreaterThan(0);
      expect(c2.stats.stored).toBeGreaterThan(0);
    } finally {
      await endAsync(p, true);
      await c1.stop();
      await c2.stop();
      await m.stop();
    }
  });
});
