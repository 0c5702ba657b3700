// Rollback: re-sign the group's previous release as a rollback (devices accept this one
// downgrade because the operator's key says so) and publish it as the group's current release.

import type { KeyObject } from "node:crypto";
import type { MqttClient } from "mqtt";
import { publishAsync } from "../../../host/agent/connection.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { readEnvelopeUnverified, ReleaseManifest } from "../../../host/format/release-manifest.js";
import { compareSemver } from "../../../host/format/semver.js";
import { topics } from "../../../host/format/topics.js";
import { moveCurrentToHistory, readGroupReleases } from "./history.js";
import { rollbackEnvelope } from "./release.js";

export interface RollbackResult { from: string; to: ReleaseManifest; envelope: string }

export async function rollbackGroup(client: MqttClient, group: string, privateKey: KeyObject, toVersion?: string): Promise<RollbackResult> {
  const { current, history } = await readGroupReleases(client, group);
  if (!current) throw new EdgerunError("ROLLBACK_NO_RELEASE", `group ${group} has no current release on this broker`, { group });
  const from = current.manifest.version;
  const candidates = history
    .map((h) => h.manifest)
    .filter((m) => (toVersion ? m.version === toVersion : compareSemver(m.version, from) < 0))
    .sort((a, b) => compareSemver(b.version, a.version));
  const target = candidates[0];
  if (!target) {
    throw new EdgerunError("ROLLBACK_NO_PREVIOUS", toVersion ? `group ${group} has no release ${toVersion} in its history` : `group ${group} has no release older than ${from} in its history`, { group, actual: history.map((h) => h.manifest.version) });
  }
  const envelope = rollbackEnvelope(target, from, privateKey);
  await moveCurrentToHistory(client, group, target.sha256);
  await publishAsync(client, topics.groupRelease(group), envelope, { qos: 1, retain: true });
  return { from, to: readEnvelopeUnverified(envelope), envelope };
}
