// Persistent collector sessions against real brokers: windows published while the collector is
// stopped are queued by the broker and stored exactly once when it starts again with the same
// database and client id (duplicates from agents resending after a lost PUBACK land once);
// `cleanSession` loses them, as before. Mosquitto also: MQTT 5 session expiry, a broker restart
// in between, and a shared subscription whose member is away (Mosquitto 2 keeps giving it its
// turn and queues those windows for it; with clean sessions the members connected take all).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { Collector, CollectorOptions, defaultCollectorClientId } from "../../../firmware-tools/lib/collect/collector.js";
import { TelemetryStore } from "../../../firmware-tools/lib/collect/store.js";
import { startBroker, RunningBroker } from "../../../firmware-tools/lib/fleet/broker.js";
import { findMosquitto, MosquittoServer, startMosquitto } from "../../../firmware-tools/lib/fleet/mosquitto.js";
import { parseSessionExpiryS } from "../../../firmware-tools/commands/collect.js";
import { topics } from "../../../host/format/topics.js";
import { endAsync, operatorClient, tempDir, waitUntil } from "../../helpers/fleet.js";
import { latencies, rng, telemetryMessage } from "../../helpers/telemetry.js";

const tmp = tempDir("edgerun-collector-session-");
const T0 = Date.now() - 3_600_000;
afterAll(() => tmp.cleanup());

function publish(c: MqttClient, device: string, seq: number): Promise<void> {
  // The timestamp follows seq, so a resent window is byte-identical to the first one.
  const body = telemetryMessage({ deviceId: device, seq, tsMs: T0 + seq * 1000, latenciesUs: latencies(30, 400, 300, rng(seq)) });
  return new Promise((r) => c.publish(topics.telemetry(device), JSON.stringify(body), { qos: 1 }, () => r()));
}
async function publishRange(c: MqttClient, device: string, from: number, to: number): Promise<void> {
  for (let s = from; s <= to; s++) await publish(c, device, s);
}
function countRows(db: string, device: string): { rows: number; seqs: number } {
  const s = TelemetryStore.open(db, { readonly: true });
  try {
    return s.db.prepare("SELECT count(*) AS rows, count(DISTINCT seq) AS seqs FROM windows WHERE device_id = ?").get(device) as { rows: number; seqs: number };
  } finally {
    s.close();
  }
}

const AWAY = 40;

/**
 * Collector up (3 windows), collector down while AWAY new windows are published plus two
 * resends (an old window and one of the new ones twice), collector up again: AWAY more rows,
 * each window once. Returns the second collector's stats for further checks.
 */
async function awayAndBack(url: string, o: Omit<CollectorOptions, "broker">, pub: MqttClient, device: string) {
  const first = await Collector.start({ broker: { url }, flushMs: 20, ...o });
  expect(first.subscription.session).toMatchObject({ persistent: true, resumed: false });
  await publishRange(pub, device, 1, 3);
  await waitUntil(() => first.stats.stored === 3, 5000, "3 windows before the stop");
  await first.stop();

  await publishRange(pub, device, 4, 3 + AWAY);
  await publish(pub, device, 2); // already stored before the stop
  await publish(pub, device, 10); // sent twice while the collector was away

  const again = await Collector.start({ broker: { url }, flushMs: 20, ...o });
  expect(again.subscription.session).toMatchObject({ persistent: true, resumed: true, clientId: first.subscription.session.clientId });
  await waitUntil(() => again.stats.received === AWAY + 2 && again.stats.pending === 0, 10_000, `${AWAY} windows queued while away`);
  const stats = await again.stop();
  expect(stats).toMatchObject({ received: AWAY + 2, stored: AWAY, duplicates: 2 });
  expect(countRows(o.db as string, device)).toEqual({ rows: 3 + AWAY, seqs: 3 + AWAY });
  return { first, again };
}

/** Clean session, as before: what is published while the collector is down is lost. */
async function cleanLoses(url: string, pub: MqttClient, db: string, device: string, extra: Partial<CollectorOptions> = {}): Promise<void> {
  const first = await Collector.start({ broker: { url }, db, flushMs: 20, cleanSession: true, ...extra });
  expect(first.subscription.session).toMatchObject({ persistent: false, resumed: false, expiryS: null });
  await first.stop();
  await publishRange(pub, device, 1, 5);
  const again = await Collector.start({ broker: { url }, db, flushMs: 20, cleanSession: true, ...extra });
  await publish(pub, device, 6); // a marker: once it is stored, anything queued would have come first
  await waitUntil(() => again.stats.stored === 1, 5000, "the marker window");
  await new Promise((r) => setTimeout(r, 200));
  await again.stop();
  expect(countRows(db, device)).toEqual({ rows: 1, seqs: 1 });
}

describe("collector session options", () => {
  it("derives a stable client id from the database path", () => {
    const a = defaultCollectorClientId(join(tmp.dir, "a.db"));
    expect(a).toMatch(/^edgerun-collector-[0-9a-f]{16}$/);
    expect(defaultCollectorClientId(join(tmp.dir, ".", "a.db"))).toBe(a);
    expect(defaultCollectorClientId(join(tmp.dir, "b.db"))).not.toBe(a);
  });

  it("parses --session-expiry", () => {
    expect(parseSessionExpiryS("3600")).toBe(3600);
    expect(parseSessionExpiryS("30m")).toBe(1800);
    expect(parseSessionExpiryS("7d")).toBe(604_800);
    expect(parseSessionExpiryS("never")).toBe(0xffff_ffff);
    expect(() => parseSessionExpiryS("1.5h")).toThrow(/expected seconds/);
    expect(() => parseSessionExpiryS("200000d")).toThrow(/at most/);
  });
});

describe("persistent collector session on the embedded broker (MQTT 3.1.1)", () => {
  let broker: RunningBroker;
  let pub: MqttClient;
  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    pub = await operatorClient(broker.url, "pub");
  });
  afterAll(async () => {
    await endAsync(pub, true);
    await broker.close();
  });

  it("stores what was published while it was stopped, each window once (default client id)", async () => {
    const db = join(tmp.dir, "aedes-away.db");
    const { again } = await awayAndBack(broker.url, { db }, pub, "pi-away");
    expect(again.subscription.session).toMatchObject({ clientId: defaultCollectorClientId(db), expiryS: null });
  });

  it("with a clean session loses what was published while it was stopped", async () => {
    await cleanLoses(broker.url, pub, join(tmp.dir, "aedes-clean.db"), "pi-clean");
  });
});

// Each test has its own share group: a persistent member left from another test would take turns.
describe.skipIf(!findMosquitto() && process.env.CI !== "true")("persistent collector session on Mosquitto (MQTT 5)", () => {
  let m: MosquittoServer;
  let pub: MqttClient;
  beforeAll(async () => {
    if (!findMosquitto()) throw new Error("CI=true but mosquitto is not installed (Debian package: mosquitto)");
    m = await startMosquitto(join(tmp.dir, "mosq"));
    pub = await operatorClient(m.url, "mpub");
  });
  afterAll(async () => {
    await endAsync(pub, true);
    await m.stop();
  });

  it("plain subscription: stores what was published while it was stopped, each window once", async () => {
    const { again } = await awayAndBack(m.url, { db: join(tmp.dir, "m-plain.db"), clientId: "coll-plain", shared: false }, pub, "pi-mplain");
    expect(again.subscription).toMatchObject({ shared: false, mqttVersion: 5, session: { expiryS: 86_400 } });
  });

  it("shared subscription, sole member: the broker queues for it while it is away", async () => {
    const { again } = await awayAndBack(m.url, { db: join(tmp.dir, "m-shared.db"), clientId: "coll-shared", shareGroup: "solo" }, pub, "pi-mshared");
    expect(again.subscription).toMatchObject({ shared: true, topic: "$share/solo/edgerun/v1/devices/+/telemetry" });
  });

  it("shared subscription, two members: the one away keeps its part queued until it is back", async () => {
    const o = (n: number) => ({ broker: { url: m.url }, db: join(tmp.dir, `m-pair${n}.db`), clientId: `coll-pair${n}`, shareGroup: "pair", flushMs: 20 });
    const c1 = await Collector.start(o(1));
    const c2 = await Collector.start(o(2));
    await c2.stop();
    await publishRange(pub, "pi-pair", 1, AWAY);
    await waitUntil(() => c1.stats.received > 0 && c1.stats.pending === 0, 5000, "the member still connected gets windows");
    await new Promise((r) => setTimeout(r, 300));
    const whileAway = c1.stats.stored;
    const back = await Collector.start(o(2));
    await waitUntil(() => c1.stats.stored + back.stats.stored === AWAY, 10_000, `${AWAY} windows across both members`);
    await back.stop();
    await c1.stop();
    // Mosquitto 2 keeps giving the absent member its turn and queues those windows for it.
    expect(whileAway).toBeLessThan(AWAY);
    expect(back.stats.stored).toBe(AWAY - whileAway);
    expect(countRows(o(1).db, "pi-pair").rows + countRows(o(2).db, "pi-pair").rows).toBe(AWAY);
  });

  it("shared subscription, two members with clean sessions: the one connected takes everything", async () => {
    const o = (n: number) => ({ broker: { url: m.url }, db: join(tmp.dir, `m-cpair${n}.db`), shareGroup: "clean-pair", cleanSession: true, flushMs: 20 });
    const c1 = await Collector.start(o(1));
    await (await Collector.start(o(2))).stop();
    await publishRange(pub, "pi-cpair", 1, AWAY);
    await waitUntil(() => c1.stats.stored === AWAY, 5000, `all ${AWAY} windows at the member still connected`);
    await c1.stop();
  });

  it("a restart of Mosquitto in between keeps the queue (persistence on)", async () => {
    const o = { broker: { url: m.url }, db: join(tmp.dir, "m-restart.db"), clientId: "coll-restart", shareGroup: "restart", flushMs: 20 };
    await (await Collector.start(o)).stop();
    await publishRange(pub, "pi-mrestart", 1, 10);
    await endAsync(pub, true);
    await m.stop();
    await m.restart();
    pub = await operatorClient(m.url, "mpub");
    const c = await Collector.start(o);
    expect(c.subscription.session.resumed).toBe(true);
    await waitUntil(() => c.stats.stored === 10, 10_000, "10 windows queued across the broker restart");
    await c.stop();
  });

  it("after the session expiry the broker forgets the collector and drops its queue", async () => {
    const o = { broker: { url: m.url }, db: join(tmp.dir, "m-expiry.db"), clientId: "coll-expiry", shareGroup: "expiry", sessionExpiryS: 1, flushMs: 20 };
    await (await Collector.start(o)).stop();
    await new Promise((r) => setTimeout(r, 2500));
    await publishRange(pub, "pi-mexpiry", 1, 5);
    const c = await Collector.start(o);
    expect(c.subscription.session).toMatchObject({ resumed: false, expiryS: 1 });
    await new Promise((r) => setTimeout(r, 300));
    await c.stop();
    expect(c.stats.received).toBe(0);
  });

  it("with a clean session loses what was published while it was stopped", async () => {
    await cleanLoses(m.url, pub, join(tmp.dir, "m-clean.db"), "pi-mclean", { shareGroup: "clean" });
  });
});
