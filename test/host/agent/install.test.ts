// The agent's install path against the embedded broker: first install, a delta update that
// fetches only changed chunks, refusals with the reason in the status, self-test failure.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { startBroker, RunningBroker } from "../../../firmware-tools/lib/fleet/broker.js";
import { createRelease, openRelease } from "../../../firmware-tools/lib/fleet/release.js";
import { pushRelease } from "../../../firmware-tools/lib/fleet/push.js";
import { syntheticErm, syntheticModel } from "../../../firmware-tools/lib/fleet/synthetic-model.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import type { Agent } from "../../../host/agent/agent.js";
import { endAsync, makeKeys, operatorClient, startAgent, tempDir, waitUntil } from "../../helpers/fleet.js";

describe("agent install path (embedded Aedes)", () => {
  const tmp = tempDir();
  let broker: RunningBroker;
  let op: MqttClient;
  let agent: Agent;
  let keys: ReturnType<typeof makeKeys>;
  const events: Record<string, unknown>[] = [];
  const push = (erm: Uint8Array, version: string, extra: { chunkBytes?: number; key?: ReturnType<typeof makeKeys>["privateKey"] } = {}) =>
    pushRelease(op, openRelease(createRelease(erm, { version, privateKey: extra.key ?? keys.privateKey, chunkBytes: extra.chunkBytes ?? 1024 }).bytes), { group: "lab", wait: true, waitTimeoutMs: 15_000 });

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    keys = makeKeys(tmp.dir);
    op = await operatorClient(broker.url);
    agent = await startAgent({ deviceId: "dev-1", brokerUrl: broker.url, publicKeyPath: keys.publicPath, dataDir: join(tmp.dir, "dev-1"), extra: { api: { port: 0 } } }, events);
    await waitUntil(() => agent.status().mqttVersion !== null, 5000, "agent connected");
  });

  afterAll(async () => {
    await agent?.stop();
    if (op) await endAsync(op, true);
    await broker?.close();
    tmp.cleanup();
  });

  it("installs a first release, self-tests it and serves it over HTTP", async () => {
    const r = await push(syntheticErm({ inFeatures: 256, outFeatures: 32, version: "1.0.0" }), "1.0.0");
    expect(r.timedOut).toBe(false);
    expect(r.rows.map((x) => x.progress)).toEqual(["installed"]);
    const s = agent.status();
    expect(s.active?.version).toBe("1.0.0");
    expect(s.lastResult?.outcome).toBe("installed");
    expect(s.selfTestUs).toBeGreaterThan(0);
    const res = await fetch(`${agent.apiUrl}/v1/infer`, { method: "POST", body: JSON.stringify({ input: Buffer.alloc(256, 3).toString("base64") }), headers: { "content-type": "application/json" } });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.version).toBe("1.0.0");
    expect(Buffer.from(body.outputs[0], "base64").length).toBe(32);
  });

  it("fetches only the changed chunks for a fine-tuned model (delta update)", async () => {
    await push(syntheticErm({ inFeatures: 256, outFeatures: 32, version: "1.1.0", patchBytes: 3 }), "1.1.0");
    expect(agent.status().active?.version).toBe("1.1.0");
    const progress = events.filter((e) => e.event === "phase").map((e) => e.phase);
    expect(progress).toContain("self-testing");
    const dl = events.filter((e) => e.event === "downloaded").at(-1)!;
    expect(dl.version).toBe("1.1.0");
    // 3 patched weight bytes touch at most 3 chunks; the header (CRC) and the metadata/golden tail 1-3 more.
    expect(dl.fetchedChunks).toBeLessThanOrEqual(6);
    expect(dl.reusedChunks).toBeGreaterThanOrEqual(3);
    expect((dl.fetchedChunks as number) + (dl.reusedChunks as number)).toBe(dl.chunksTotal);
    const outcome = events.filter((e) => e.event === "outcome").at(-1)!;
    expect(outcome.outcome).toBe("installed");
  });

  it("refuses a downgrade and a release signed by an unpinned key, naming the cause, and keeps serving", async () => {
    await push(syntheticErm({ inFeatures: 256, outFeatures: 32, version: "0.9.0", seed: 9 }), "0.9.0");
    expect(agent.status().lastResult).toMatchObject({ outcome: "refused", code: "RELEASE_DOWNGRADE", version: "0.9.0" });
    const other = makeKeys(tmp.dir, "intruder");
    await push(syntheticErm({ inFeatures: 256, outFeatures: 32, version: "2.0.0", seed: 10 }), "2.0.0", { key: other.privateKey });
    expect(agent.status().lastResult).toMatchObject({ outcome: "refused", code: "RELEASE_UNKNOWN_KEY", version: "2.0.0" });
    expect(agent.status().active?.version).toBe("1.1.0");
  });

  it("keeps the old model when the new one fails its self-test", async () => {
    const model = syntheticModel({ inFeatures: 256, outFeatures: 32, version: "3.0.0", seed: 11 });
    model.golden[0].output[0] ^= 1; // a model whose outputs do not match what was shipped with it
    await push(writeErm(model), "3.0.0");
    expect(agent.status().lastResult).toMatchObject({ outcome: "failed", code: "SELFTEST_MISMATCH", version: "3.0.0" });
    expect(agent.status().active?.version).toBe("1.1.0");
    const res = await fetch(`${agent.apiUrl}/v1/health`);
    expect(res.status).toBe(200);
  });
});
