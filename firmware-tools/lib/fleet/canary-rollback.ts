// Rolling back a halted canary stage. Every canary that installed the new release (or was still
// installing it, or went offline during the stage) gets a signed rollback to the release it ran
// before the push, retained on its own device topic; the agent installs it like any update, and
// its other A/B slot still holds that model, so nothing is downloaded. An agent ignores a
// rollback to the model it is serving, so a canary that was still installing gets the rollback
// again once it reports the new release active. Every wait is bounded; a canary that does not
// report back keeps the rollback retained and rolls back when it reconnects.

import type { KeyObject } from "node:crypto";
import type { MqttClient } from "mqtt";
import { publishAsync } from "../../../host/agent/connection.js";
import type { ReleaseManifest } from "../../../host/format/release-manifest.js";
import { topics } from "../../../host/format/topics.js";
import { DeviceRecord, FleetView, rowFor } from "./fleet-view.js";
import { readGroupReleases } from "./history.js";
import { rollbackEnvelope } from "./release.js";

/** What a canary served before the push (from its retained status), null when nothing. */
export type CanaryBaseline = Map<string, { version: string; sha256: string } | null>;

export interface CanaryRollback {
  /** Canaries that report the release they ran before the push active again. */
  devices: { deviceId: string; from: string; to: string }[];
  /** Canaries that needed a rollback and did not report it done, with the reason. */
  failed: { deviceId: string; reason: string }[];
}

export type RollbackEvent =
  | { type: "stage"; stage: "rollback"; devices: string[] }
  | { type: "rolled-back"; deviceId: string; from: string; to: string };

export interface RollbackOptions { group: string; privateKey: KeyObject; timeoutMs: number }

const INSTALLING = new Set(["downloading", "installing", "self-testing", "activating"]);

interface Pending { deviceId: string; to: ReleaseManifest; envelope: string; sentWhileNew: boolean; lastResultAt: string | undefined }

export async function rollBackCanaries(client: MqttClient, view: FleetView, m: ReleaseManifest, canaries: string[], baseline: CanaryBaseline, o: RollbackOptions, onEvent: (e: RollbackEvent) => void): Promise<CanaryRollback> {
  const out: CanaryRollback = { devices: [], failed: [] };
  const record = (id: string): DeviceRecord => view.devices.get(id) ?? { deviceId: id, state: "offline" };
  const need = canaries.filter((id) => needsRollback(record(id), m, baseline.get(id) ?? null));
  // The others never got the release: clear their device topic so none starts it later.
  for (const id of canaries.filter((c) => !need.includes(c))) await clearDeviceRelease(client, id);
  if (need.length === 0) return out;
  onEvent({ type: "stage", stage: "rollback", devices: need });
  const pending = await sendRollbacks(client, view, m, need, baseline, o, out);
  await waitRolledBack(client, view, m, pending, o.timeoutMs, out, onEvent);
  for (const d of out.devices) await clearDeviceRelease(client, d.deviceId);
  return out;
}

/** A canary needs a rollback when it may run the new release now or soon; not when it failed or never started. */
function needsRollback(d: DeviceRecord, m: ReleaseManifest, before: { sha256: string } | null): boolean {
  if (before?.sha256 === m.sha256) return false; // it ran this release before the push
  const p = rowFor(d, m).progress;
  return p === "installed" || p === "offline" || INSTALLING.has(p);
}

async function sendRollbacks(client: MqttClient, view: FleetView, m: ReleaseManifest, need: string[], baseline: CanaryBaseline, o: RollbackOptions, out: CanaryRollback): Promise<Pending[]> {
  const { current, history } = await readGroupReleases(client, o.group);
  const known = new Map([...history, ...(current ? [current] : [])].map((r) => [r.manifest.sha256, r.manifest]));
  const envelopes = new Map<string, string>();
  const pending: Pending[] = [];
  for (const id of need) {
    const before = baseline.get(id) ?? null;
    const to = before ? known.get(before.sha256) : undefined;
    if (!before || !to) {
      out.failed.push({ deviceId: id, reason: before ? `its release before the push (${before.version}) is not retained under group ${o.group}, so it cannot be re-signed` : "it ran no release before the push; there is nothing to roll back to" });
      continue;
    }
    let envelope = envelopes.get(to.sha256);
    if (!envelope) envelopes.set(to.sha256, (envelope = rollbackEnvelope(to, m.version, o.privateKey)));
    const d = view.devices.get(id);
    pending.push({ deviceId: id, to, envelope, sentWhileNew: d?.state === "online" && d.active?.sha256 === m.sha256, lastResultAt: d?.lastResult?.at });
    await publishAsync(client, topics.deviceRelease(id), envelope, { qos: 1, retain: true });
  }
  return pending;
}

/** Resolves when every pending canary reports its previous release active, failed the rollback, or timeoutMs passed. */
function waitRolledBack(client: MqttClient, view: FleetView, m: ReleaseManifest, pending: Pending[], timeoutMs: number, out: CanaryRollback, onEvent: (e: RollbackEvent) => void): Promise<void> {
  const left = new Map(pending.map((p) => [p.deviceId, p]));
  return new Promise((resolve) => {
    let stop: () => void = () => undefined;
    const finish = () => {
      clearTimeout(timer);
      stop();
      resolve();
    };
    const check = () => {
      for (const p of [...left.values()]) {
        const d = view.devices.get(p.deviceId);
        if (!d || d.state !== "online") continue;
        const r = d.lastResult;
        if (d.active?.sha256 === p.to.sha256 && d.update?.version !== m.version) {
          left.delete(p.deviceId);
          out.devices.push({ deviceId: p.deviceId, from: m.version, to: p.to.version });
          onEvent({ type: "rolled-back", deviceId: p.deviceId, from: m.version, to: p.to.version });
        } else if (r && r.at !== p.lastResultAt && r.sha256 === p.to.sha256 && (r.outcome === "failed" || r.outcome === "refused")) {
          left.delete(p.deviceId);
          out.failed.push({ deviceId: p.deviceId, reason: `the device ${r.outcome} the rollback to ${p.to.version}: ${`${r.code ?? ""} ${r.reason}`.trim()}` });
        } else if (d.active?.sha256 === m.sha256 && !d.update && !p.sentWhileNew) {
          // It was still installing when the rollback first came, and ignored it: send it again.
          p.sentWhileNew = true;
          client.publish(topics.deviceRelease(p.deviceId), p.envelope, { qos: 1, retain: true });
        }
      }
      if (left.size === 0) finish();
    };
    const timer = setTimeout(() => {
      for (const p of left.values()) {
        const row = rowFor(view.devices.get(p.deviceId) ?? { deviceId: p.deviceId, state: "offline" }, m);
        out.failed.push({ deviceId: p.deviceId, reason: `did not report ${p.to.version} active within ${timeoutMs} ms (${row.state}, ${row.version ?? "no model"}, ${row.progress}); the rollback stays retained on its device topic` });
      }
      finish();
    }, timeoutMs);
    stop = view.onChange(check);
    check();
  });
}

async function clearDeviceRelease(client: MqttClient, id: string): Promise<void> {
  await publishAsync(client, topics.deviceRelease(id), "", { qos: 1, retain: true });
}
