// Fleet benchmarks (npm run bench; not timed tests), on this machine, everything on loopback:
//  1. time to deliver a 1 MiB model to 100 agents (one process) through the embedded Aedes
//     broker and through Mosquitto: push start -> every agent installed and self-tested;
//  2. the agent's HTTP inference API against a direct runtime call (median and p99);
//  3. telemetry messages per second one agent (disk buffer, QoS 1) sustains into one broker.
// Medians over rounds; the machine is shared, so compare ratios.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPairSync } from "node:crypto";
import type { MqttClient } from "mqtt";
import { Agent } from "../../host/agent/agent.js";
import { parseAgentConfig } from "../../host/agent/config.js";
import { connectBroker, endAsync } from "../../host/agent/connection.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import { startBroker } from "../lib/fleet/broker.js";
import { findMosquitto, startMosquitto } from "../lib/fleet/mosquitto.js";
import { createRelease, openRelease } from "../lib/fleet/release.js";
import { pushRelease } from "../lib/fleet/push.js";
import { syntheticErmOfSize, syntheticErm } from "../lib/fleet/synthetic-model.js";
import { median, quantile, timeCalls } from "../lib/model/bench.js";
import { writeFileAtomic } from "../../host/fs/atomic.js";

const AGENTS = Number(process.env.EDGERUN_BENCH_AGENTS ?? 100);
const DELIVERY_ROUNDS = Number(process.env.EDGERUN_BENCH_DELIVERY_ROUNDS ?? 1);
const API_CALLS = 2000;
const TELEMETRY_MESSAGES = 2000;

interface BrokerUnderTest { name: string; url: string; stop(): Promise<void> }

async function brokers(work: string): Promise<(() => Promise<BrokerUnderTest>)[]> {
  const list: (() => Promise<BrokerUnderTest>)[] = [async () => {
    const b = await startBroker({ port: 0 });
    return { name: "Aedes (embedded)", url: b.url, stop: () => b.close() };
  }];
  if (findMosquitto()) {
    list.push(async () => {
      const m = await startMosquitto(join(work, `mosquitto-${Date.now()}`));
      return { name: "Mosquitto 2", url: m.url, stop: () => m.stop() };
    });
  }
  return list;
}

function keys(work: string) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const pub = join(work, "bench.pub");
  writeFileAtomic(pub, publicKey.export({ format: "pem", type: "spki" }) as string);
  return { privateKey, pub };
}

async function startAgents(n: number, url: string, pub: string, dir: string, extra: Record<string, unknown> = {}): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (let i = 0; i < n; i++) {
    const id = `bench-${i}`;
    agents.push(await Agent.start(parseAgentConfig({
      deviceId: id, broker: { url, reconnectMs: 500 }, publicKeys: [pub], groups: ["bench"], dataDir: join(dir, id), api: null,
      telemetry: { intervalMs: 3_600_000, bufferMessages: 100_000 }, update: { confirmAfterMs: 1000, inflightChunks: 4 }, ...extra,
    }, "/")));
  }
  const deadline = Date.now() + 30_000;
  while (agents.some((a) => a.status().mqttVersion === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500)); // statuses retained before the push looks for devices
  return agents;
}

/** Per round: ms until every agent installed; and each agent's own install time (for the median). */
async function deliveryMs(b: BrokerUnderTest, work: string, k: ReturnType<typeof keys>): Promise<{ totals: number[]; perAgent: number[] }> {
  const times: number[] = [];
  const perAgent: number[] = [];
  for (let round = 0; round < DELIVERY_ROUNDS; round++) {
    const dir = mkdtempSync(join(work, "agents-"));
    const agents = await startAgents(AGENTS, b.url, k.pub, dir);
    const op = await connectBroker({ url: b.url }, { clientId: `bench-op-${round}` });
    try {
      // A fresh model each round: no chunk is shared with anything a device holds.
      const rel = openRelease(createRelease(syntheticErmOfSize(1 << 20, { seed: 100 + round }), { version: `1.${round}.0`, privateKey: k.privateKey }).bytes);
      const t0 = Date.now();
      const seen = new Set<string>();
      const r = await pushRelease(op, rel, { group: "bench", wait: true, waitTimeoutMs: 300_000 }, (e) => {
        if (e.type !== "devices") return;
        for (const row of e.rows) if (row.progress === "installed" && !seen.has(row.deviceId)) { seen.add(row.deviceId); perAgent.push(Date.now() - t0); }
      });
      const installed = r.rows.filter((x) => x.progress === "installed").length;
      if (installed !== AGENTS) throw new Error(`${b.name}: only ${installed} of ${AGENTS} agents installed`);
      times.push(Date.now() - t0);
    } finally {
      await Promise.all(agents.map((a) => a.stop()));
      await endAsync(op, true);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { totals: times, perAgent };
}

async function apiOverhead(url: string, work: string, k: ReturnType<typeof keys>, say: (l: string) => void): Promise<void> {
  const erm = syntheticErm({ inFeatures: 490, outFeatures: 12 }); // kws-sized input and output
  const [agent] = await startAgents(1, url, k.pub, mkdtempSync(join(work, "api-")), { api: { port: 0 } });
  const op = await connectBroker({ url }, { clientId: "bench-api-op" });
  try {
    await pushRelease(op, openRelease(createRelease(erm, { version: "1.0.0", privateKey: k.privateKey }).bytes), { group: "bench", wait: true, waitTimeoutMs: 30_000 });
    const input = Buffer.alloc(490, 3);
    const it = Interpreter.load(erm);
    const direct = timeCalls(() => { it.run(input); }, API_CALLS, 200);
    const rawHeaders = { "content-type": "application/octet-stream", accept: "application/octet-stream" };
    const jsonBody = JSON.stringify({ input: input.toString("base64") });
    const http = await timeLoopAsync(API_CALLS, async () => { await (await fetch(`${agent.apiUrl}/v1/infer`, { method: "POST", headers: rawHeaders, body: input })).arrayBuffer(); });
    const httpJson = await timeLoopAsync(API_CALLS, async () => { await (await fetch(`${agent.apiUrl}/v1/infer`, { method: "POST", body: jsonBody })).json(); });
    say("| path | median (us) | p99 (us) | median overhead vs direct (us) |");
    say("|---|---|---|---|");
    const row = (name: string, xs: number[]) => say(`| ${name} | ${median(xs).toFixed(1)} | ${quantile(xs, 0.99).toFixed(1)} | ${name.startsWith("direct") ? "-" : (median(xs) - median(direct)).toFixed(1)} |`);
    row("direct runtime call (Interpreter.run)", direct);
    row("agent HTTP API, raw bytes", http);
    row("agent HTTP API, JSON + base64", httpJson);
  } finally {
    await agent.stop();
    await endAsync(op, true);
  }
}

async function timeLoopAsync(n: number, f: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 100; i++) await f();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    out.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return out;
}

/** One agent's telemetry path at full speed: build, write to the disk buffer (fsync), publish QoS 1, delete on PUBACK. */
async function telemetryRate(b: BrokerUnderTest, work: string, k: ReturnType<typeof keys>): Promise<number> {
  const [agent] = await startAgents(1, b.url, k.pub, mkdtempSync(join(work, "tele-")));
  const sub: MqttClient = await connectBroker({ url: b.url }, { clientId: "bench-collector" });
  let got = 0;
  sub.on("message", () => got++);
  await new Promise<void>((r) => sub.subscribe("edgerun/v1/devices/+/telemetry", { qos: 1 }, () => r()));
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < TELEMETRY_MESSAGES; i++) {
      agent.telemetry.report();
      if (i % 50 === 49) await agent.telemetry.flush();
    }
    const deadline = Date.now() + 30_000;
    while ((got < TELEMETRY_MESSAGES || agent.telemetry.buffer.size > 0) && Date.now() < deadline) {
      await agent.telemetry.flush();
      await new Promise((r) => setTimeout(r, 5));
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return got / s;
  } finally {
    await agent.stop();
    await endAsync(sub, true);
  }
}

export async function benchFleet(say: (line: string) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "edgerun-bench-fleet-"));
  const k = keys(work);
  try {
    const factories = await brokers(work);
    say("## Fleet: model delivery, inference API, telemetry");
    say("");
    say(`Delivery: a 1 MiB model (64 KiB chunks) pushed to ${AGENTS} agents running in one Node process on this 2-core machine (so the agents' hashing, slot writes and self-tests share one thread: a lower bound for a real fleet, where each device does its own), from push start until every agent reported the release installed (downloaded, verified, written, self-tested, activated). ${DELIVERY_ROUNDS} round(s), fresh agents and a fresh model each; "per agent" is the median time at which one agent reported installed.${findMosquitto() ? "" : " Mosquitto is not installed (Debian package mosquitto): its row is missing."}`);
    say("");
    say("| broker | all installed (s) | per agent, median (s) | per agent, p90 (s) | agent-MiB/s | all-installed time vs Aedes |");
    say("|---|---|---|---|---|---|");
    let aedesMs = 0;
    for (const make of factories) {
      const b = await make();
      try {
        const t = await deliveryMs(b, work, k);
        const m = median(t.totals);
        if (!aedesMs) aedesMs = m;
        say(`| ${b.name} | ${(m / 1000).toFixed(2)} | ${(median(t.perAgent) / 1000).toFixed(2)} | ${(quantile(t.perAgent, 0.9) / 1000).toFixed(2)} | ${(AGENTS / (m / 1000)).toFixed(1)} | ${(m / aedesMs).toFixed(2)}x |`);
      } finally {
        await b.stop();
      }
    }
    say("");
    say(`Inference API overhead: ${API_CALLS} sequential calls, one agent, a 490-byte-input model (the size of MLPerf kws), HTTP keep-alive on loopback.`);
    say("");
    const a = await factories[0]();
    try { await apiOverhead(a.url, work, k, say); } finally { await a.stop(); }
    say("");
    say(`Telemetry: ${TELEMETRY_MESSAGES} messages from one agent as fast as its path allows (each written to the disk buffer with fsync, published QoS 1, deleted on PUBACK), one subscriber.`);
    say("");
    say("| broker | messages/s |");
    say("|---|---|");
    for (const make of factories) {
      const b = await make();
      try { say(`| ${b.name} | ${(await telemetryRate(b, work, k)).toFixed(0)} |`); } finally { await b.stop(); }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const invoked = process.argv[1]?.endsWith("bench/fleet.js");
if (invoked) benchFleet((l) => console.log(l)).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
