// Fleet test fixtures: temp dirs, keys, agent configs, in-process agents, polling waits,
// and the two real brokers (embedded Aedes, Mosquitto on a free loopback port).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { Agent } from "../../host/agent/agent.js";
import { parseAgentConfig } from "../../host/agent/config.js";
import { connectBroker, endAsync } from "../../host/agent/connection.js";
import { generateSigningKeys } from "../../firmware-tools/lib/fleet/keys.js";
import { startBroker } from "../../firmware-tools/lib/fleet/broker.js";
import { findMosquitto, startMosquitto } from "../../firmware-tools/lib/fleet/mosquitto.js";
import { readSigningKey } from "../../firmware-tools/lib/fleet/keys.js";

export function tempDir(prefix = "edgerun-fleet-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function makeKeys(dir: string, name = "ops") {
  const k = generateSigningKeys(dir, name);
  return { ...k, privateKey: readSigningKey(k.privatePath) };
}

export interface AgentSpec { deviceId: string; brokerUrl: string; publicKeyPath: string; dataDir: string; groups?: string[]; extra?: Record<string, unknown> }

export function agentConfigJson(s: AgentSpec): Record<string, unknown> {
  const extra = s.extra ?? {};
  return {
    deviceId: s.deviceId,
    broker: { url: s.brokerUrl, reconnectMs: 200, connectTimeoutMs: 3000, ...(extra.broker as object) },
    publicKeys: [s.publicKeyPath],
    groups: s.groups ?? ["lab"],
    dataDir: s.dataDir,
    api: extra.api ?? null,
    telemetry: { intervalMs: 60_000, ...(extra.telemetry as object) },
    update: { chunkTimeoutMs: 2000, confirmAfterMs: 300, ...(extra.update as object) },
    inference: extra.inference ?? {},
    ...(extra.groupKeys ? { groupKeys: extra.groupKeys } : {}),
  };
}

export async function startAgent(s: AgentSpec, events?: Record<string, unknown>[]): Promise<Agent> {
  return Agent.start(parseAgentConfig(agentConfigJson(s), "/"), (e) => events?.push(e));
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, stepMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function operatorClient(url: string, name = "op"): Promise<MqttClient> {
  return connectBroker({ url, reconnectMs: 200, connectTimeoutMs: 3000 }, { clientId: `${name}-${process.pid}-${Math.random().toString(16).slice(2, 8)}` });
}

export { endAsync };

export interface TestBroker { name: "aedes" | "mosquitto"; url: string; stop(): Promise<void> }

/** The brokers the e2e suites run against; Mosquitto is required under CI=true. */
export function brokerKinds(): ("aedes" | "mosquitto")[] {
  if (findMosquitto()) return ["aedes", "mosquitto"];
  if (process.env.CI === "true") throw new Error("CI=true but mosquitto is not installed (Debian package: mosquitto)");
  console.warn("skipping the Mosquitto variants: mosquitto is not installed (Debian package: mosquitto)");
  return ["aedes"];
}

export async function startTestBroker(kind: "aedes" | "mosquitto", dataDir: string): Promise<TestBroker> {
  if (kind === "aedes") {
    const b = await startBroker({ port: 0 });
    return { name: kind, url: b.url, stop: () => b.close() };
  }
  const m = await startMosquitto(dataDir);
  return { name: kind, url: m.url, stop: () => m.stop() };
}
