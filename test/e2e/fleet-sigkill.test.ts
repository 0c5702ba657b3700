// The agent is SIGKILLed at random points of an install, 20 times in a row (child processes:
// node dist/host/agent/main.js). After every kill it must restart on a valid model, the old or
// the new one, never a broken one, and then finish the update. Needs the built dist/.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { MqttClient } from "mqtt";
import { createRelease } from "../../firmware-tools/lib/fleet/release.js";
import { syntheticErm } from "../../firmware-tools/lib/fleet/synthetic-model.js";
import { splitChunks } from "../../host/format/chunks.js";
import { topics } from "../../host/format/topics.js";
import { publishAsync } from "../../host/agent/connection.js";
import { agentConfigJson, brokerKinds, endAsync, makeKeys, operatorClient, startTestBroker, tempDir, TestBroker } from "../helpers/fleet.js";

const ROOT = join(__dirname, "..", "..");
const MAIN = join(ROOT, "dist", "host", "agent", "main.js");
const KILLS = 20;
const PHASES = ["downloading", "installing", "self-testing", "activating", "idle"];

type Event = Record<string, unknown> & { event: string };

class AgentProcess {
  readonly events: Event[] = [];
  private waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  readonly proc: ChildProcess;
  constructor(config: string) {
    this.proc = spawn(process.execPath, [MAIN, "--config", config], { stdio: ["ignore", "pipe", "inherit"] });
    createInterface({ input: this.proc.stdout! }).on("line", (l) => {
      let e: Event;
      try { e = JSON.parse(l); } catch { return; }
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
    });
  }
  next(pred: (e: Event) => boolean, timeoutMs: number, what: string): Promise<Event> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.slice(-5))}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  }
  kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((r) => { this.proc.once("exit", () => r()); this.proc.kill("SIGKILL"); });
  }
}

describe.each(brokerKinds())("agent SIGKILLed during installs (%s)", (kind) => {
  const tmp = tempDir(`edgerun-kill-${kind}-`);
  let broker: TestBroker;
  let op: MqttClient;
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build:ts first`);
    broker = await startTestBroker(kind, join(tmp.dir, "broker"));
    op = await operatorClient(broker.url);
  });
  afterAll(async () => {
    await agent?.kill();
    if (op) await endAsync(op, true);
    await broker?.stop();
    tmp.cleanup();
  });

  it(`restarts on a valid model after each of ${KILLS} kills and finishes the update`, async () => {
    const keys = makeKeys(tmp.dir);
    const config = join(tmp.dir, "agent.json");
    writeFileSync(config, JSON.stringify(agentConfigJson({
      deviceId: `kill-${kind}`, brokerUrl: broker.url, publicKeyPath: keys.publicPath, dataDir: join(tmp.dir, "agent"),
      extra: { api: { port: 0 }, update: { inflightChunks: 2, confirmAfterMs: 150, maxBootAttempts: 3 } },
    })));
    const publish = async (version: string, seed: number) => {
      const rel = createRelease(syntheticErm({ inFeatures: 256, outFeatures: 64, seed, version }), { version, privateKey: keys.privateKey, chunkBytes: 1024 });
      for (const c of splitChunks(rel.payload, 1024)) await publishAsync(op, topics.chunk(c.sha256), Buffer.from(c.data), { qos: 1, retain: true });
      await publishAsync(op, topics.groupRelease("lab"), rel.envelope, { qos: 1, retain: true });
    };
    const health = async (a: AgentProcess) => {
      const ready = await a.next((e) => e.event === "ready", 10_000, "ready");
      const res = await fetch(`${ready.api}/v1/health`);
      return { status: res.status, version: (await res.json()).version as string | null };
    };
    await publish("1.0.0", 1);
    agent = new AgentProcess(config);
    await agent.next((e) => e.event === "confirmed" && e.version === "1.0.0", 15_000, "1.0.0 confirmed");
    const hit = new Map<string, number>();
    for (let i = 0; i < KILLS; i++) {
      const oldV = `1.${i}.0`, newV = `1.${i + 1}.0`;
      const phase = PHASES[Math.floor(Math.random() * PHASES.length)];
      const delayMs = Math.floor(Math.random() * 4);
      const current = agent;
      const killed = current.next((e) => e.event === "phase" && e.phase === phase && e.version === newV, 15_000, `phase ${phase} of ${newV}`)
        .then(() => new Promise((r) => setTimeout(r, delayMs))).then(() => current.kill());
      await publish(newV, i + 2);
      await killed;
      hit.set(phase, (hit.get(phase) ?? 0) + 1);
      agent = new AgentProcess(config);
      const boot = await agent.next((e) => e.event === "boot", 10_000, "boot");
      expect([oldV, newV], `kill ${i} at ${phase}+${delayMs}ms`).toContain(boot.version);
      const h = await health(agent);
      expect(h.status).toBe(200);
      expect([oldV, newV]).toContain(h.version);
      await agent.next((e) => e.event === "confirmed" && e.version === newV, 15_000, `${newV} confirmed after the restart`);
    }
    const final = await health(agent);
    expect(final).toEqual({ status: 200, version: `1.${KILLS}.0` });
    console.log(`${kind}: kills per phase ${JSON.stringify(Object.fromEntries(hit))}`);
  });
});
