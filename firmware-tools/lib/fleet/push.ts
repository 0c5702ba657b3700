// Push and staged rollout: publish the chunks (retained, content-addressed), then the signed
// manifest to a canary set of devices, judge them (failure rate, self-test latency), and only
// then to the whole group (retained, so devices that come online later get it). A halted canary
// stage rolls its canaries back to what they ran before (canary-rollback.ts) when given the key.
// While it runs it answers devices' chunk repair requests by publishing the chunk again.

import type { KeyObject } from "node:crypto";
import type { MqttClient } from "mqtt";
import { publishAsync, subscribeAsync, unsubscribeAsync } from "../../../host/agent/connection.js";
import { splitChunks } from "../../../host/format/chunks.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { checkName, parseTopic, topics } from "../../../host/format/topics.js";
import { DeviceRow, FleetView, isTerminal, rowFor } from "./fleet-view.js";
import type { OpenedRelease } from "./release.js";
import { moveCurrentToHistory } from "./history.js";
import { CanaryBaseline, CanaryRollback, rollBackCanaries, RollbackEvent } from "./canary-rollback.js";

export interface CanaryPolicy {
  /** Canary size: a device count, or a percent of the group's online devices (at least 1). */
  count?: number;
  percent?: number;
  /** Halt when more than this fraction of canaries fail (0 = any failure halts). */
  maxFailureRate: number;
  /** Halt when a canary's self-test median latency is above this, ms. */
  maxLatencyMs?: number;
  /** How long canaries get to finish, ms. */
  timeoutMs: number;
  /**
   * On halt, roll every canary that installed the release (or was installing it) back to the
   * release it ran before, signed with this key. Without it, the canaries stay on the new release.
   */
  rollbackKey?: KeyObject;
}

export interface PushOptions {
  group: string;
  canary?: CanaryPolicy;
  /** Wait until every online device of the group finished (installed, failed or refused). */
  wait: boolean;
  /** Bounds --wait, and the canaries' rollback after a halt. */
  waitTimeoutMs: number;
  /** Chunk publishes in flight at once. */
  concurrency?: number;
}

export type PushEvent =
  | { type: "chunks"; done: number; total: number; bytes: number }
  | { type: "stage"; stage: "canary" | "group"; devices: string[] }
  | { type: "halted"; reason: string }
  | RollbackEvent
  | { type: "devices"; rows: DeviceRow[] }
  | { type: "repair"; sha256: string; deviceId: string };

export interface PushResult {
  rows: DeviceRow[];
  canary?: { devices: string[]; failed: number; maxSelfTestUs: number | null };
  /** Why the canary stage halted the rollout (the group topic was not updated). */
  halted?: string;
  /** After a halt with a rollbackKey: the canaries rolled back, and those that were not. */
  rolledBack?: CanaryRollback;
  timedOut: boolean;
}

export async function pushRelease(client: MqttClient, rel: OpenedRelease, o: PushOptions, onEvent: (e: PushEvent) => void = () => undefined): Promise<PushResult> {
  const m = rel.manifest;
  checkName("group", o.group);
  if (m.target !== "*" && m.target !== o.group) throw new EdgerunError("PUSH_WRONG_GROUP", `the release targets group ${m.target}, not ${o.group}`, { expected: m.target, actual: o.group });
  const chunks = splitChunks(rel.payload, m.chunkBytes);
  const stopRepair = await serveRepairs(client, new Map(chunks.map((c) => [c.sha256, c.data])), onEvent);
  const view = await FleetView.open(client);
  try {
    await publishChunks(client, chunks, o.concurrency ?? 8, onEvent);
    const rows = () => view.group(o.group).map((d) => rowFor(d, m));
    view.onChange(() => onEvent({ type: "devices", rows: rows() }));
    let canary: PushResult["canary"];
    if (o.canary) {
      const run = await runCanary(client, view, rel, o.group, o.canary, onEvent);
      canary = run.result;
      const halted = judge(canary, o.canary);
      if (halted) {
        onEvent({ type: "halted", reason: halted });
        if (!o.canary.rollbackKey) return { rows: rows(), canary, halted, timedOut: false };
        const rolledBack = await rollBackCanaries(client, view, m, canary.devices, run.baseline, { group: o.group, privateKey: o.canary.rollbackKey, timeoutMs: o.waitTimeoutMs }, onEvent);
        return { rows: markRolledBack(rows(), rolledBack), canary, halted, rolledBack, timedOut: false };
      }
    }
    await moveCurrentToHistory(client, o.group, m.sha256);
    onEvent({ type: "stage", stage: "group", devices: view.group(o.group).map((d) => d.deviceId) });
    await publishAsync(client, topics.groupRelease(o.group), rel.envelope, { qos: 1, retain: true });
    // The group topic now carries it: clear the canaries' own topics so nothing stale stays retained.
    for (const id of canary?.devices ?? []) await publishAsync(client, topics.deviceRelease(id), "", { qos: 1, retain: true });
    let timedOut = false;
    if (o.wait) timedOut = !(await waitFor(view, () => rows().filter((r) => r.state === "online").every(isTerminal), o.waitTimeoutMs));
    return { rows: rows(), canary, timedOut };
  } finally {
    await view.close();
    await stopRepair();
  }
}

async function publishChunks(client: MqttClient, chunks: { sha256: string; data: Uint8Array }[], concurrency: number, onEvent: (e: PushEvent) => void): Promise<void> {
  let next = 0, done = 0, bytes = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const c = chunks[next++];
      await publishAsync(client, topics.chunk(c.sha256), Buffer.from(c.data.buffer, c.data.byteOffset, c.data.length), { qos: 1, retain: true });
      done++;
      bytes += c.data.length;
      onEvent({ type: "chunks", done, total: chunks.length, bytes });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
}

/**
 * Answers repair requests. A missing chunk usually means the broker lost its retained messages
 * (restarted without persistence), so all chunks go out again, at most once per REPUBLISH_MS;
 * a damaged one is republished at once.
 */
const REPUBLISH_MS = 2000;
async function serveRepairs(client: MqttClient, byHash: Map<string, Uint8Array>, onEvent: (e: PushEvent) => void): Promise<() => Promise<void>> {
  let lastAllMs = 0;
  const lastMs = new Map<string, number>();
  const send = (sha: string, data: Uint8Array) => client.publish(topics.chunk(sha), Buffer.from(data.buffer, data.byteOffset, data.length), { qos: 1, retain: true });
  const handler = (topic: string, payload: Buffer) => {
    const t = parseTopic(topic);
    if (t.kind !== "chunk-request") return;
    const data = byHash.get(t.sha256);
    if (!data) return;
    let deviceId = "unknown";
    try { deviceId = String(JSON.parse(payload.toString("utf8")).deviceId ?? "unknown"); } catch { /* still repair */ }
    const now = Date.now();
    if (now - lastAllMs >= REPUBLISH_MS) {
      lastAllMs = now;
      onEvent({ type: "repair", sha256: t.sha256, deviceId });
      for (const [sha, d] of byHash) send(sha, d);
    } else if (now - (lastMs.get(t.sha256) ?? 0) >= 500) {
      lastMs.set(t.sha256, now);
      onEvent({ type: "repair", sha256: t.sha256, deviceId });
      send(t.sha256, data);
    }
  };
  const resubscribe = () => client.subscribe(topics.chunkRequestAll(), { qos: 0 });
  client.on("message", handler);
  client.on("connect", resubscribe); // after a broker restart
  await subscribeAsync(client, [topics.chunkRequestAll()], 0);
  return async () => {
    client.removeListener("message", handler);
    client.removeListener("connect", resubscribe);
    await unsubscribeAsync(client, [topics.chunkRequestAll()]);
  };
}

type CanaryRun = { result: NonNullable<PushResult["canary"]>; baseline: CanaryBaseline };

async function runCanary(client: MqttClient, view: FleetView, rel: OpenedRelease, group: string, p: CanaryPolicy, onEvent: (e: PushEvent) => void): Promise<CanaryRun> {
  const online = view.group(group).filter((d) => d.state === "online").map((d) => d.deviceId);
  if (online.length === 0) throw new EdgerunError("PUSH_NO_DEVICES", `no online device in group ${group} to use as canary`, { group });
  const n = Math.min(online.length, Math.max(1, p.count ?? Math.ceil(((p.percent ?? 10) / 100) * online.length)));
  const devices = online.slice(0, n);
  const baseline: CanaryBaseline = new Map(devices.map((id) => {
    const a = view.devices.get(id)?.active;
    return [id, a ? { version: a.version, sha256: a.sha256 } : null];
  }));
  onEvent({ type: "stage", stage: "canary", devices });
  for (const id of devices) await publishAsync(client, topics.deviceRelease(id), rel.envelope, { qos: 1, retain: true });
  const rows = () => devices.map((id) => rowFor(view.devices.get(id) ?? { deviceId: id, state: "offline" }, rel.manifest));
  await waitFor(view, () => rows().every(isTerminal), p.timeoutMs);
  const final = rows();
  const installed = final.filter((r) => r.progress === "installed");
  const lat = installed.map((r) => r.selfTestUs).filter((x): x is number => x !== null);
  return { result: { devices, failed: final.length - installed.length, maxSelfTestUs: lat.length ? Math.max(...lat) : null }, baseline };
}

/** Rows relative to the halted release say which canaries went back, and to what. */
function markRolledBack(rows: DeviceRow[], r: CanaryRollback): DeviceRow[] {
  const to = new Map(r.devices.map((d) => [d.deviceId, d.to]));
  return rows.map((row) => (to.has(row.deviceId) ? { ...row, progress: "rolled-back", reason: `back on ${to.get(row.deviceId)}` } : row));
}

function judge(c: NonNullable<PushResult["canary"]>, p: CanaryPolicy): string | undefined {
  const rate = c.failed / c.devices.length;
  if (rate > p.maxFailureRate) return `canary failure rate ${(rate * 100).toFixed(0)}% (${c.failed} of ${c.devices.length}) is above ${(p.maxFailureRate * 100).toFixed(0)}%`;
  if (p.maxLatencyMs !== undefined && c.maxSelfTestUs !== null && c.maxSelfTestUs > p.maxLatencyMs * 1000) {
    return `canary self-test latency ${(c.maxSelfTestUs / 1000).toFixed(2)} ms is above ${p.maxLatencyMs} ms`;
  }
  return undefined;
}

/** Resolves true when cond holds (checked on every status change), false after timeoutMs. */
export function waitFor(view: FleetView, cond: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (cond()) return resolve(true);
    let done = false;
    const timer = setTimeout(() => { done = true; resolve(false); }, timeoutMs);
    view.onChange(() => {
      if (!done && cond()) {
        done = true;
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
}
