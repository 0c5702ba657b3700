// Model delivery end to end against both real brokers (embedded Aedes and a Mosquitto server on
// a free loopback port): 20 agents install a pushed release; a corrupted chunk is detected and
// fetched again; wrongly signed, truncated and downgraded releases are refused with the reason
// in the device status; a self-test failure keeps the previous model; inference over MQTT
// request/response (MQTT 5 properties on Mosquitto, the 3.1.1 JSON envelope on Aedes).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { createRelease, openRelease } from "../../firmware-tools/lib/fleet/release.js";
import { pushRelease } from "../../firmware-tools/lib/fleet/push.js";
import { syntheticErm, syntheticModel } from "../../firmware-tools/lib/fleet/synthetic-model.js";
import { writeErm } from "../../host/format/erm-writer.js";
import { MANIFEST_SCHEMA, sha256Hex, signManifest } from "../../host/format/release-manifest.js";
import { splitChunks } from "../../host/format/chunks.js";
import { topics } from "../../host/format/topics.js";
import { publishAsync } from "../../host/agent/connection.js";
import type { Agent } from "../../host/agent/agent.js";
import { brokerKinds, endAsync, makeKeys, operatorClient, startAgent, startTestBroker, tempDir, TestBroker, waitUntil } from "../helpers/fleet.js";

const AGENTS = 20;
const CHUNK = 4096;
const model = (version: string, seed = 1) => syntheticErm({ inFeatures: 256, outFeatures: 96, version, seed }); // about 26 KiB

describe.each(brokerKinds())("fleet delivery through %s", (kind) => {
  const tmp = tempDir(`edgerun-e2e-${kind}-`);
  let broker: TestBroker;
  let op: MqttClient;
  let keys: ReturnType<typeof makeKeys>;
  const agents: Agent[] = [];
  const release = (erm: Uint8Array, version: string, key = keys.privateKey) => openRelease(createRelease(erm, { version, privateKey: key, chunkBytes: CHUNK }).bytes);

  beforeAll(async () => {
    broker = await startTestBroker(kind, join(tmp.dir, "broker"));
    keys = makeKeys(tmp.dir);
    op = await operatorClient(broker.url);
    for (let i = 0; i < AGENTS; i++) {
      const id = `pi-${String(i).padStart(2, "0")}`;
      agents.push(await startAgent({ deviceId: id, brokerUrl: broker.url, publicKeyPath: keys.publicPath, dataDir: join(tmp.dir, id), groups: ["lab"] }));
    }
    await waitUntil(() => agents.every((a) => a.status().mqttVersion !== null), 15_000, "all agents connected");
    await new Promise((r) => setTimeout(r, 300));
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    if (op) await endAsync(op, true);
    await broker?.stop();
    tmp.cleanup();
  });

  it(`pushes one release to ${AGENTS} agents and all install it`, async () => {
    const t0 = Date.now();
    const r = await pushRelease(op, release(model("1.0.0"), "1.0.0"), { group: "lab", wait: true, waitTimeoutMs: 60_000 });
    expect(r.timedOut).toBe(false);
    expect(r.rows).toHaveLength(AGENTS);
    expect(r.rows.filter((x) => x.progress === "installed")).toHaveLength(AGENTS);
    expect(agents.every((a) => a.status().active?.version === "1.0.0")).toBe(true);
    expect(agents[0].status().mqttVersion).toBe(kind === "mosquitto" ? 5 : 4);
    console.log(`${kind}: ${AGENTS} agents installed in ${Date.now() - t0} ms`);
  });

  it("detects a corrupted chunk and fetches it again (the pusher republishes it)", async () => {
    const rel = release(model("1.1.0", 2), "1.1.0");
    const victim = splitChunks(rel.payload, CHUNK)[3];
    const repairs: string[] = [];
    const r = await pushRelease(op, rel, { group: "lab", wait: true, waitTimeoutMs: 60_000 }, (e) => {
      if (e.type === "repair") repairs.push(e.deviceId);
      // Right after the good chunks, before the manifest: a damaged copy replaces one of them.
      if (e.type === "chunks" && e.done === e.total) {
        const bad = Buffer.from(victim.data);
        bad[100] ^= 0xff;
        void publishAsync(op, topics.chunk(victim.sha256), bad, { qos: 1, retain: true });
      }
    });
    if (process.env.DBG) console.log(JSON.stringify(r.rows.slice(0, 3)), repairs.length);
    expect(r.rows.filter((x) => x.progress === "installed")).toHaveLength(AGENTS);
    expect(repairs.length).toBeGreaterThan(0);
  });

  it("refuses wrongly signed, truncated and downgraded releases, with the reason in the status", async () => {
    const a = agents[0];
    const intruder = makeKeys(tmp.dir, `intruder-${kind}`);
    const send = async (envelope: string, payload?: Uint8Array) => {
      if (payload) for (const c of splitChunks(payload, CHUNK)) await publishAsync(op, topics.chunk(c.sha256), Buffer.from(c.data), { qos: 1, retain: true });
      await publishAsync(op, topics.deviceRelease(a.config.deviceId), envelope, { qos: 1, retain: true });
    };
    const statusOf = async (code: string) => {
      await waitUntil(() => a.status().lastResult?.code === code, 10_000, `status code ${code}`);
      return a.status().lastResult!;
    };
    await send(release(model("2.0.0", 3), "2.0.0", intruder.privateKey).envelope);
    expect((await statusOf("RELEASE_UNKNOWN_KEY")).reason).toContain("does not pin");
    const good = release(model("2.0.1", 4), "2.0.1");
    const env = JSON.parse(good.envelope);
    const forged = Buffer.from(env.signature, "base64");
    forged[0] ^= 1;
    await send(JSON.stringify({ ...env, signature: forged.toString("base64") }));
    expect((await statusOf("RELEASE_BAD_SIGNATURE")).version).toBe("2.0.1");
    // Validly signed, but the model inside is cut short: caught when the slot is loaded.
    const whole = model("2.1.0", 5);
    const cut = whole.subarray(0, whole.length - 300);
    const manifest = { schema: MANIFEST_SCHEMA, kind: "release" as const, modelId: "synthetic-fc", version: "2.1.0", sha256: sha256Hex(cut), size: cut.length, chunkBytes: CHUNK, chunks: splitChunks(cut, CHUNK).map((c) => c.sha256), createdAt: new Date().toISOString(), target: "*", notes: "", keyId: "" };
    await send(signManifest(manifest, keys.privateKey), cut);
    expect((await statusOf("ERM_TRUNCATED")).outcome).toBe("failed");
    await send(release(model("0.5.0", 6), "0.5.0").envelope);
    expect((await statusOf("RELEASE_DOWNGRADE")).reason).toContain("needs a signed rollback");
    expect(a.status().active?.version).toBe("1.1.0");
    await publishAsync(op, topics.deviceRelease(a.config.deviceId), "", { qos: 1, retain: true });
  });

  it("keeps serving the previous model when the new one fails its self-test", async () => {
    const a = agents[1];
    const m = syntheticModel({ inFeatures: 256, outFeatures: 96, version: "3.0.0", seed: 7 });
    m.golden[1].output[5] ^= 0x10;
    const rel = release(writeErm(m), "3.0.0");
    for (const c of splitChunks(rel.payload, CHUNK)) await publishAsync(op, topics.chunk(c.sha256), Buffer.from(c.data), { qos: 1, retain: true });
    await publishAsync(op, topics.deviceRelease(a.config.deviceId), rel.envelope, { qos: 1, retain: true });
    await waitUntil(() => a.status().lastResult?.version === "3.0.0", 10_000, "self-test outcome");
    expect(a.status().lastResult).toMatchObject({ outcome: "failed", code: "SELFTEST_MISMATCH" });
    expect(a.status().lastResult!.reason).toContain("still serving 1.1.0");
    expect(a.status().active?.version).toBe("1.1.0");
    expect(a.service.infer(Buffer.alloc(256, 2)).version).toBe("1.1.0");
    await publishAsync(op, topics.deviceRelease(a.config.deviceId), "", { qos: 1, retain: true });
  });

  it("answers inference requests over MQTT request/response", async () => {
    const a = agents[2];
    const replyTopic = topics.inferReplies(`tester-${kind}`);
    const replies: { payload: Buffer; corr?: Buffer }[] = [];
    op.on("message", (t, payload, packet) => { if (t === replyTopic) replies.push({ payload, corr: packet.properties?.correlationData as Buffer | undefined }); });
    await new Promise<void>((r) => op.subscribe(replyTopic, { qos: 0 }, () => r()));
    const input = Buffer.alloc(256, 7).toString("base64");
    if (kind === "mosquitto") {
      op.publish(topics.infer(a.config.deviceId), JSON.stringify({ input, top: true }), { qos: 1, properties: { responseTopic: replyTopic, correlationData: Buffer.from("req-5") } });
    } else {
      op.publish(topics.infer(a.config.deviceId), JSON.stringify({ input, responseTopic: replyTopic, correlationId: "req-4" }), { qos: 1 });
    }
    op.publish(topics.infer(a.config.deviceId), JSON.stringify({ input: "!!", responseTopic: replyTopic, correlationId: "bad" }), { qos: 1 });
    await waitUntil(() => replies.length >= 2, 5000, "two replies");
    const ok = JSON.parse(replies.find((r) => JSON.parse(r.payload.toString()).ok)!.payload.toString());
    expect(ok).toMatchObject({ ok: true, version: "1.1.0" });
    expect(ok.top.index).toBeGreaterThanOrEqual(0);
    if (kind === "mosquitto") expect(replies.some((r) => r.corr?.toString() === "req-5")).toBe(true);
    else expect(ok.correlationId).toBe("req-4");
    const bad = replies.map((r) => JSON.parse(r.payload.toString())).find((r) => !r.ok);
    expect(bad).toMatchObject({ ok: false, error: { code: "INFER_BAD_INPUT" }, correlationId: "bad" });
  });
});
