// A halted canary stage against both real brokers (embedded Aedes, Mosquitto): three agents run
// 1.0.0; 1.1.0 goes to two canaries under a latency policy nobody can meet, so the stage halts
// and the canaries are rolled back to 1.0.0 and serve it again, while the third device never
// hears of 1.1.0. Canaries still downloading when the stage halts install the release and are
// then rolled back. Without the rollback key (--no-rollback) the canaries stay on the new
// release; canaries whose self-test failed need no rollback; one whose previous release the
// broker does not hold is reported, not guessed at.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { createRelease, openRelease } from "../../firmware-tools/lib/fleet/release.js";
import { pushRelease, PushEvent } from "../../firmware-tools/lib/fleet/push.js";
import { readGroupReleases } from "../../firmware-tools/lib/fleet/history.js";
import { syntheticErm, syntheticModel } from "../../firmware-tools/lib/fleet/synthetic-model.js";
import { writeErm } from "../../host/format/erm-writer.js";
import { topics } from "../../host/format/topics.js";
import { splitChunks } from "../../host/format/chunks.js";
import { publishAsync, subscribeAsync, unsubscribeAsync } from "../../host/agent/connection.js";
import type { Agent } from "../../host/agent/agent.js";
import { brokerKinds, endAsync, makeKeys, operatorClient, startAgent, startTestBroker, tempDir, TestBroker, waitUntil } from "../helpers/fleet.js";

const IN = 64;
const model = (version: string, seed = 1) => syntheticErm({ inFeatures: IN, outFeatures: 8, version, seed });
const IMPOSSIBLE_MS = 0.000001; // a self-test never runs in a nanosecond

/** What is retained on a topic right now (empty string: nothing). */
async function retained(op: MqttClient, topic: string): Promise<string> {
  let got = "";
  const h = (t: string, p: Buffer) => { if (t === topic) got = p.toString("utf8"); };
  op.on("message", h);
  await subscribeAsync(op, [topic], 1);
  await new Promise((r) => setTimeout(r, 400));
  op.removeListener("message", h);
  await unsubscribeAsync(op, [topic]);
  return got;
}

describe.each(brokerKinds())("a halted canary stage through %s", (kind) => {
  const tmp = tempDir(`edgerun-canary-${kind}-`);
  let broker: TestBroker;
  let op: MqttClient;
  let keys: ReturnType<typeof makeKeys>;
  const agents: Agent[] = [];
  const restLog: Record<string, unknown>[] = []; // the device that is never a canary
  const release = (erm: Uint8Array, version: string) => openRelease(createRelease(erm, { version, privateKey: keys.privateKey, chunkBytes: 1024 }).bytes);
  const policy = (extra: object = {}) => ({ count: 2, maxFailureRate: 0, maxLatencyMs: IMPOSSIBLE_MS, timeoutMs: 15_000, ...extra });
  const [canaryA, canaryB, rest] = [0, 1, 2].map((i) => () => agents[i]);

  beforeAll(async () => {
    broker = await startTestBroker(kind, join(tmp.dir, "broker"));
    keys = makeKeys(tmp.dir);
    op = await operatorClient(broker.url);
    for (const id of ["cn-a", "cn-b", "cn-c"]) {
      agents.push(await startAgent({ deviceId: id, brokerUrl: broker.url, publicKeyPath: keys.publicPath, dataDir: join(tmp.dir, id) }, id === "cn-c" ? restLog : undefined));
    }
    await waitUntil(() => agents.every((a) => a.status().mqttVersion !== null), 10_000, "agents connected");
    await new Promise((r) => setTimeout(r, 300));
    const r = await pushRelease(op, release(model("1.0.0"), "1.0.0"), { group: "lab", wait: true, waitTimeoutMs: 20_000 });
    expect(r.rows.every((x) => x.progress === "installed")).toBe(true);
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    if (op) await endAsync(op, true);
    await broker?.stop();
    tmp.cleanup();
  });

  it("rolls every canary back to the release it ran before, and the rest of the group never sees the new one", async () => {
    const events: PushEvent[] = [];
    const r = await pushRelease(op, release(model("1.1.0", 2), "1.1.0"), { group: "lab", wait: true, waitTimeoutMs: 20_000, canary: policy({ rollbackKey: keys.privateKey }) }, (e) => events.push(e));
    expect(r.halted).toMatch(/self-test latency .* is above/);
    expect(r.canary?.devices).toEqual(["cn-a", "cn-b"]);
    expect(r.rolledBack?.failed).toEqual([]);
    expect(r.rolledBack?.devices.sort((x, y) => x.deviceId.localeCompare(y.deviceId))).toEqual([
      { deviceId: "cn-a", from: "1.1.0", to: "1.0.0" },
      { deviceId: "cn-b", from: "1.1.0", to: "1.0.0" },
    ]);
    expect(events).toContainEqual({ type: "stage", stage: "rollback", devices: ["cn-a", "cn-b"] });
    expect(events.some((e) => e.type === "stage" && e.stage === "group")).toBe(false);
    expect(r.rows.filter((x) => x.progress === "rolled-back").map((x) => x.deviceId)).toEqual(["cn-a", "cn-b"]);
    for (const a of [canaryA(), canaryB()]) {
      const s = a.status();
      expect(s.active?.version).toBe("1.0.0");
      expect(s.previous?.version).toBe("1.1.0"); // it did run the new release
      expect(s.lastResult?.reason).toContain("rolled back to");
      expect(a.service.infer(Buffer.alloc(IN, 3)).version).toBe("1.0.0");
      expect(await retained(op, topics.deviceRelease(a.config.deviceId))).toBe("");
    }
    expect(rest().status().active?.version).toBe("1.0.0");
    expect(restLog.filter((e) => JSON.stringify(e).includes("1.1.0"))).toEqual([]);
    const group = await readGroupReleases(op, "lab");
    expect(group.current?.manifest).toMatchObject({ version: "1.0.0", kind: "release" });
  });

  it("rolls back canaries that were still downloading when the stage halted, once they installed it", async () => {
    const rel = release(model("1.1.1", 5), "1.1.1");
    // One chunk is withdrawn from the broker right after it is published, so the canaries wait
    // chunkTimeoutMs (2 s) for it and ask for a repair: the 800 ms canary stage halts first.
    const held = new Set([model("1.0.0"), model("1.1.0", 2)].flatMap((e) => splitChunks(e, 1024).map((c) => c.sha256)));
    const victim = splitChunks(rel.payload, 1024).find((c) => !held.has(c.sha256))!;
    const r = await pushRelease(op, rel, { group: "lab", wait: true, waitTimeoutMs: 20_000, canary: policy({ timeoutMs: 800, rollbackKey: keys.privateKey }) }, (e) => {
      if (e.type === "chunks" && e.done === e.total) void publishAsync(op, topics.chunk(victim.sha256), "", { qos: 1, retain: true });
    });
    expect(r.halted).toMatch(/canary failure rate 100%/);
    expect(r.rolledBack?.failed).toEqual([]);
    expect(r.rolledBack?.devices.sort((x, y) => x.deviceId.localeCompare(y.deviceId))).toEqual([
      { deviceId: "cn-a", from: "1.1.1", to: "1.0.0" },
      { deviceId: "cn-b", from: "1.1.1", to: "1.0.0" },
    ]);
    for (const a of [canaryA(), canaryB()]) {
      expect(a.status().active?.version).toBe("1.0.0");
      expect(a.status().previous?.version).toBe("1.1.1"); // installed, then rolled back
      expect(a.service.infer(Buffer.alloc(IN, 3)).version).toBe("1.0.0");
    }
    expect(rest().status().active?.version).toBe("1.0.0");
    expect(restLog.filter((e) => JSON.stringify(e).includes("1.1.1"))).toEqual([]);
  });

  it("leaves the canaries on the new release without the rollback key (--no-rollback)", async () => {
    const events: PushEvent[] = [];
    const r = await pushRelease(op, release(model("1.2.0", 3), "1.2.0"), { group: "lab", wait: true, waitTimeoutMs: 20_000, canary: policy() }, (e) => events.push(e));
    expect(r.halted).toMatch(/self-test latency/);
    expect(r.rolledBack).toBeUndefined();
    expect(events.some((e) => e.type === "stage" && e.stage === "rollback")).toBe(false);
    for (const a of [canaryA(), canaryB()]) {
      expect(a.status().active?.version).toBe("1.2.0");
      expect(a.service.infer(Buffer.alloc(IN, 3)).version).toBe("1.2.0");
    }
    expect(rest().status().active?.version).toBe("1.0.0");
    expect(restLog.filter((e) => JSON.stringify(e).includes("1.2.0"))).toEqual([]);
  });

  it("needs no rollback when the canaries failed their self-test (they never ran it)", async () => {
    const m = syntheticModel({ inFeatures: IN, outFeatures: 8, version: "1.3.0", seed: 4 });
    m.golden[0].output[0] ^= 0x10;
    const r = await pushRelease(op, release(writeErm(m), "1.3.0"), { group: "lab", wait: true, waitTimeoutMs: 20_000, canary: policy({ maxLatencyMs: undefined, rollbackKey: keys.privateKey }) });
    expect(r.halted).toMatch(/canary failure rate 100%/);
    expect(r.rolledBack).toEqual({ devices: [], failed: [] });
    for (const a of [canaryA(), canaryB()]) {
      expect(a.status().lastResult).toMatchObject({ outcome: "failed", code: "SELFTEST_MISMATCH", version: "1.3.0" });
      expect(a.status().active?.version).toBe("1.2.0");
      expect(await retained(op, topics.deviceRelease(a.config.deviceId))).toBe("");
    }
    expect(rest().status().active?.version).toBe("1.0.0");
  });

  it("reports canaries whose previous release the broker does not hold (never published to the group)", async () => {
    // The canaries run 1.2.0, which only ever reached them as canaries (--no-rollback above).
    const r = await pushRelease(op, release(model("1.4.0", 6), "1.4.0"), { group: "lab", wait: true, waitTimeoutMs: 5000, canary: policy({ rollbackKey: keys.privateKey }) });
    expect(r.halted).toMatch(/self-test latency/);
    expect(r.rolledBack?.devices).toEqual([]);
    expect(r.rolledBack?.failed.map((f) => f.deviceId)).toEqual(["cn-a", "cn-b"]);
    expect(r.rolledBack?.failed[0].reason).toContain("(1.2.0) is not retained under group lab");
    expect(canaryA().status().active?.version).toBe("1.4.0");
    expect(rest().status().active?.version).toBe("1.0.0");
  });
});
