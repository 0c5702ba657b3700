// The fleet part of the demo: an embedded broker (or the caller's) and three agents on this
// machine; the given model is released (signed), pushed to their group, installed, self-tested
// and served. Prints each device's status and a few inferences over the local HTTP API and over
// MQTT; `during` then runs with the fleet up (load, a second rollout); then everything stops and
// the temp dir is removed.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { Agent } from "../../../host/agent/agent.js";
import { parseAgentConfig } from "../../../host/agent/config.js";
import { connectBroker, endAsync } from "../../../host/agent/connection.js";
import { readErm } from "../../../host/format/erm-reader.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { topics } from "../../../host/format/topics.js";
import { startBroker } from "../fleet/broker.js";
import { generateSigningKeys, readSigningKey } from "../fleet/keys.js";
import { createRelease, openRelease } from "../fleet/release.js";
import { pushRelease } from "../fleet/push.js";
import { fleetStatus, formatRows } from "../fleet/status.js";

export const DEVICES = ["pi-kitchen", "pi-garage", "pi-porch"];

export interface FleetHandle {
  brokerUrl: string;
  agents: Agent[];
  op: MqttClient;
  /** Signs, pushes (canary first) and waits for the whole group to install `ermPath` as `version`. */
  release(ermPath: string, version: string, notes: string): Promise<void>;
}

export interface FleetDemoOptions {
  /** Use this broker instead of starting an embedded one. */
  brokerUrl?: string;
  /** Agents' telemetry interval. Default 5000 ms. */
  telemetryIntervalMs?: number;
  /** Agents' result cache. Default 64 entries (0: every request runs the model). */
  cacheEntries?: number;
  /** Runs with the fleet up, after the first release is installed and shown. */
  during?: (f: FleetHandle) => Promise<void>;
}

export async function runFleetDemo(log: (l: string) => void, ermPath: string, o: FleetDemoOptions = {}): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "edgerun-fleet-demo-"));
  const broker = o.brokerUrl ? null : await startBroker({ port: 0 });
  const brokerUrl = o.brokerUrl ?? broker!.url;
  const agents: Agent[] = [];
  let op: MqttClient | undefined;
  try {
    if (broker) log(`fleet: embedded MQTT broker on ${brokerUrl}`);
    const keys = generateSigningKeys(work, "operator");
    for (const id of DEVICES) {
      agents.push(await Agent.start(parseAgentConfig({
        deviceId: id, broker: { url: brokerUrl, reconnectMs: 500 }, publicKeys: [keys.publicPath], groups: ["home"], dataDir: join(work, id),
        api: { port: 0 }, telemetry: { intervalMs: o.telemetryIntervalMs ?? 5000 }, update: { confirmAfterMs: 2000 }, inference: { cacheEntries: o.cacheEntries ?? 64 },
      }, "/")));
    }
    await waitConnected(agents, 10_000);
    log(`fleet: ${agents.length} agents started (${DEVICES.join(", ")}), pinned key ${keys.keyId}`);
    op = await connectBroker({ url: brokerUrl }, { clientId: `edgerun-demo-operator-${process.pid}` });
    const client = op;
    const release = async (path: string, version: string, notes: string) => {
      const privateKey = readSigningKey(keys.privatePath);
      const rel = openRelease(createRelease(readFileSync(path), { version, privateKey, notes }).bytes);
      log(`fleet: release ${rel.manifest.modelId} ${rel.manifest.version}: ${rel.manifest.size} bytes in ${rel.manifest.chunks.length} chunk(s), signed (Ed25519)`);
      const t0 = Date.now();
      const r = await pushRelease(client, rel, { group: "home", wait: true, waitTimeoutMs: 20_000, canary: { count: 1, maxFailureRate: 0, timeoutMs: 10_000, rollbackKey: privateKey } });
      if (r.halted || r.timedOut) throw new EdgerunError("DEMO_PUSH_FAILED", r.halted ?? "the devices did not finish in time");
      log(`fleet: canary ${r.canary!.devices.join(", ")} passed, then the group; all installed in ${Date.now() - t0} ms`);
      for (const line of formatRows((await fleetStatus(client, "home")).rows)) log(`   ${line}`);
    };
    await release(ermPath, "1.0.0", "demo release");
    await showInferences(log, agents, readErm(readFileSync(ermPath)).golden.map((g) => g.input), op);
    await o.during?.({ brokerUrl, agents, op, release });
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    if (op) await endAsync(op, true);
    await broker?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function waitConnected(agents: Agent[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (agents.some((a) => a.status().mqttVersion === null)) {
    if (Date.now() > deadline) throw new EdgerunError("DEMO_AGENTS_OFFLINE", "the demo agents did not connect to the embedded broker");
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300)); // their first status reaches the broker
}

async function showInferences(log: (l: string) => void, agents: Agent[], inputs: Uint8Array[], op: MqttClient): Promise<void> {
  for (const [i, a] of agents.entries()) {
    const input = inputs[i % inputs.length];
    const res = await fetch(`${a.apiUrl}/v1/infer`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: Buffer.from(input).toString("base64"), top: true }) });
    const body = (await res.json()) as { top?: { index: number; label?: string; score: number }; latencyUs: number; version: string };
    log(`   ${a.config.deviceId}: POST ${a.apiUrl}/v1/infer -> ${body.top?.label ?? `class ${body.top?.index}`} (score ${body.top?.score}), ${body.latencyUs} us, model ${body.version}`);
  }
  // The same question over MQTT request/response (the 3.1.1 envelope: Aedes speaks 3.1.1).
  const replyTopic = topics.inferReplies("demo");
  const reply = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EdgerunError("DEMO_NO_REPLY", "no MQTT inference reply within 5 s")), 5000);
    op.on("message", (t, p) => { if (t === replyTopic) { clearTimeout(timer); resolve(p.toString()); } });
  });
  await new Promise<void>((r) => op.subscribe(replyTopic, { qos: 0 }, () => r()));
  op.publish(topics.infer(agents[0].config.deviceId), JSON.stringify({ input: Buffer.from(inputs[0]).toString("base64"), top: true, responseTopic: replyTopic, correlationId: 1 }), { qos: 1 });
  const r = JSON.parse(await reply) as { top?: { label?: string; index: number }; latencyUs: number };
  log(`   ${agents[0].config.deviceId}: MQTT ${topics.infer(agents[0].config.deviceId)} -> ${r.top?.label ?? r.top?.index}, ${r.latencyUs} us`);
}
