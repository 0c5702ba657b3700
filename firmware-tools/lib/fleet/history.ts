// A group's release history on the broker: the current manifest is retained on
// groups/<g>/release, earlier ones on groups/<g>/history/<version>. Rollback reads it.

import type { MqttClient } from "mqtt";
import { publishAsync, subscribeAsync, unsubscribeAsync } from "../../../host/agent/connection.js";
import { readEnvelopeUnverified, ReleaseManifest } from "../../../host/format/release-manifest.js";
import { parseTopic, topics } from "../../../host/format/topics.js";
import { RETAINED_GRACE_MS } from "./fleet-view.js";

export interface GroupReleases { current: { manifest: ReleaseManifest; envelope: string } | null; history: { manifest: ReleaseManifest; envelope: string }[] }

export async function readGroupReleases(client: MqttClient, group: string, graceMs = RETAINED_GRACE_MS): Promise<GroupReleases> {
  const out: GroupReleases = { current: null, history: [] };
  const handler = (topic: string, payload: Buffer) => {
    const t = parseTopic(topic);
    if ((t.kind !== "group-release" && t.kind !== "group-history") || t.group !== group || payload.length === 0) return;
    let manifest: ReleaseManifest;
    try {
      manifest = readEnvelopeUnverified(payload);
    } catch {
      return; // something unreadable retained there: not a candidate
    }
    const rec = { manifest, envelope: payload.toString("utf8") };
    if (t.kind === "group-release") out.current = rec;
    else out.history.push(rec);
  };
  client.on("message", handler);
  try {
    await subscribeAsync(client, [topics.groupRelease(group), topics.groupHistoryAll(group)], 1);
    await new Promise((r) => setTimeout(r, graceMs));
  } finally {
    client.removeListener("message", handler);
    await unsubscribeAsync(client, [topics.groupRelease(group), topics.groupHistoryAll(group)]);
  }
  return out;
}

/** Before a new release replaces the current one, keep the current one as history. */
export async function moveCurrentToHistory(client: MqttClient, group: string, newSha256: string): Promise<void> {
  const { current } = await readGroupReleases(client, group);
  if (!current || current.manifest.sha256 === newSha256 || current.manifest.kind === "rollback") return;
  await publishAsync(client, topics.groupHistory(group, current.manifest.version), current.envelope, { qos: 1, retain: true });
}
