// Telemetry: histograms merge exactly, PSI drift against calibration statistics, the bounded
// disk buffer, and an agent that loses its broker for a while and loses no telemetry.

import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { DiskBuffer } from "../../../host/telemetry/disk-buffer.js";
import { calibrationOf, DriftMeter, psi } from "../../../host/telemetry/drift.js";
import { decodeHistogram, encodeHistogram, mergeHistograms, newLatencyHistogram, recordLatencyUs } from "../../../host/telemetry/histogram.js";
import { startBroker } from "../../../firmware-tools/lib/fleet/broker.js";
import { createRelease, openRelease } from "../../../firmware-tools/lib/fleet/release.js";
import { pushRelease } from "../../../firmware-tools/lib/fleet/push.js";
import { syntheticErm } from "../../../firmware-tools/lib/fleet/synthetic-model.js";
import type { TelemetryMessage } from "../../../host/telemetry/reporter.js";
import { endAsync, makeKeys, operatorClient, startAgent, tempDir, waitUntil } from "../../helpers/fleet.js";

const tmp = tempDir("edgerun-telemetry-");
afterAll(() => tmp.cleanup());

describe("latency histograms", () => {
  it("merge exactly: percentiles of merged device histograms equal those of all samples", () => {
    const a = newLatencyHistogram(), b = newLatencyHistogram(), all = newLatencyHistogram();
    for (let i = 0; i < 5000; i++) {
      const x = 50 + ((i * 7919) % 900), y = 400 + ((i * 104729) % 5000);
      recordLatencyUs(a, x); recordLatencyUs(all, x);
      recordLatencyUs(b, y); recordLatencyUs(all, y);
    }
    const merged = mergeHistograms([encodeHistogram(a), encodeHistogram(b)]);
    for (const q of [50, 90, 99, 99.9]) expect(merged.getValueAtPercentile(q)).toBe(all.getValueAtPercentile(q));
    expect(decodeHistogram(encodeHistogram(a)).totalCount).toBe(5000);
  });
});

describe("input drift (PSI)", () => {
  const cal = { min: -128, max: 127, counts: new Array(16).fill(100) };
  it("is about 0 for the calibration distribution and large for a shifted one", () => {
    expect(psi(cal.counts, cal.counts)).toBeCloseTo(0, 6);
    const same = new DriftMeter(cal, true);
    same.observe(Uint8Array.from({ length: 7 * 4096 }, (_, i) => (i * 37) & 0xff));
    expect(same.take()!.psi).toBeLessThan(0.05);
    const shifted = new DriftMeter(cal, true);
    shifted.observe(new Uint8Array(7 * 1000).fill(100)); // every value in one bin
    expect(shifted.take()!.psi).toBeGreaterThan(0.25);
    expect(shifted.take()).toBeNull(); // reset after take
  });
  it("has no score without calibration statistics, and ignores malformed ones", () => {
    expect(calibrationOf({ name: "m", version: "1.0.0" })).toBeNull();
    expect(calibrationOf({ name: "m", version: "1.0.0", calibration: { inputs: [{ min: 0, max: -1, counts: [1, 2] }] } })).toBeNull();
    expect(calibrationOf({ name: "m", version: "1.0.0", calibration: { inputs: [{ min: 0, max: 255, counts: [1, "x"] }] } })).toBeNull();
  });
});

describe("disk buffer", () => {
  it("keeps at most N messages, drops the oldest and counts them, survives a reopen", () => {
    const dir = join(tmp.dir, "buf");
    const b = new DiskBuffer(dir, 3);
    for (let i = 0; i < 5; i++) b.push((seq) => `m${seq}`);
    expect(b.dropped).toBe(2);
    expect(b.peek()).toEqual({ seq: 3, payload: "m3" });
    const again = new DiskBuffer(dir, 3);
    expect(again.size).toBe(3);
    again.remove(3);
    expect(again.peek()!.payload).toBe("m4");
    expect(again.push((s) => `m${s}`)).toBe(6);
  });
});

describe("agent telemetry through a broker outage", () => {
  it("buffers on disk while the broker is down and sends everything, in order, when it is back", async () => {
    const keys = makeKeys(tmp.dir);
    let broker = await startBroker({ port: 0 });
    const port = broker.port;
    const got: TelemetryMessage[] = [];
    const collect = (b: typeof broker) => b.aedes.on("publish", (p) => { if (p.topic.endsWith("/telemetry")) got.push(JSON.parse(p.payload.toString())); });
    collect(broker);
    const agent = await startAgent({ deviceId: "tele-1", brokerUrl: broker.url, publicKeyPath: keys.publicPath, dataDir: join(tmp.dir, "tele-1"), extra: { telemetry: { intervalMs: 100 }, inference: { cacheEntries: 8 } } });
    try {
      await waitUntil(() => agent.status().mqttVersion !== null, 5000, "agent connected");
      const op = await operatorClient(broker.url);
      await pushRelease(op, openRelease(createRelease(syntheticErm({ inFeatures: 64, outFeatures: 8, calibration: true }), { version: "1.0.0", privateKey: keys.privateKey, chunkBytes: 1024 }).bytes), { group: "lab", wait: true, waitTimeoutMs: 10_000 });
      await endAsync(op, true);
      const input = Buffer.alloc(64, 1);
      for (let i = 0; i < 4; i++) agent.service.infer(input); // 1 miss, 3 cache hits
      await waitUntil(() => got.some((m) => m.inferences > 0), 3000, "a telemetry message with inferences");
      const withInf = got.find((m) => m.inferences > 0)!;
      expect(withInf).toMatchObject({ inferences: 4, errors: 0, model: { version: "1.0.0" }, cache: { hits: 3, misses: 1, hitRate: 0.75 } });
      expect(decodeHistogram(withInf.latencyUs.histogram).totalCount).toBe(4);
      expect(withInf.drift!.psi).toBeGreaterThan(0.25); // all-ones input against a uniform calibration
      await broker.close();
      const beforeOutage = got.length;
      await new Promise((r) => setTimeout(r, 800)); // about 8 intervals offline
      expect(agent.telemetry.buffer.size).toBeGreaterThanOrEqual(5);
      broker = await startBroker({ port });
      collect(broker);
      await waitUntil(() => agent.telemetry.buffer.size === 0 && got.length >= beforeOutage + 8, 10_000, "the buffered telemetry");
      const seqs = got.map((m) => m.seq);
      const unique = [...new Set(seqs)].sort((a, b) => a - b);
      expect(unique).toEqual(Array.from({ length: unique.length }, (_, i) => unique[0] + i)); // no gap
      expect(got.every((m) => m.buffer.dropped === 0)).toBe(true);
    } finally {
      await agent.stop();
      await broker.close();
    }
  });
});
