// Whether a verified manifest may be installed on this device. Pure: no I/O, so every refusal
// rule is testable by itself. Signature checks happen before this (verifyEnvelope).

import type { ReleaseManifest } from "../../format/release-manifest.js";
import { compareSemver } from "../../format/semver.js";
import type { ActiveRecord } from "../model-store.js";

export type Decision =
  | { action: "install" }
  | { action: "ignore"; why: string }
  | { action: "refuse"; code: string; reason: string };

export interface PolicyInput {
  manifest: ReleaseManifest;
  record: ActiveRecord;
  activeManifest: ReleaseManifest | null;
  /** The manifest an update in progress installs, if any. */
  updating: ReleaseManifest | null;
  groups: string[];
  groupKeyIds: ReadonlySet<string>;
  freeBytes: number | null;
}

export function decide(p: PolicyInput): Decision {
  const m = p.manifest;
  const a = p.activeManifest;
  const label = `${m.modelId} ${m.version}`;
  if (m.target !== "*" && !p.groups.includes(m.target)) {
    return { action: "refuse", code: "RELEASE_WRONG_TARGET", reason: `${label} targets group ${m.target}; this device is in ${p.groups.join(", ") || "no group"}` };
  }
  if (a && a.sha256 === m.sha256) return { action: "ignore", why: `${label} is already active` };
  if (p.updating && p.updating.sha256 === m.sha256) return { action: "ignore", why: `${label} is already being installed` };
  if (p.record.failed.includes(m.sha256)) {
    return { action: "refuse", code: "RELEASE_PREVIOUSLY_FAILED", reason: `${label} failed on this device before (self-test or crash loop); publish a new version` };
  }
  if (m.kind === "rollback") {
    if (p.record.lastAcceptedAt && Date.parse(m.createdAt) <= Date.parse(p.record.lastAcceptedAt)) {
      return { action: "refuse", code: "RELEASE_REPLAYED_ROLLBACK", reason: `rollback to ${m.version} was signed at ${m.createdAt}, before the installed release (${p.record.lastAcceptedAt})` };
    }
  } else if (a) {
    const c = compareSemver(m.version, a.version);
    if (c < 0) return { action: "refuse", code: "RELEASE_DOWNGRADE", reason: `${label} is older than the running ${a.version}; a downgrade needs a signed rollback` };
    if (c === 0) return { action: "refuse", code: "RELEASE_SAME_VERSION", reason: `${label} has the running version number but different bytes` };
  }
  if (m.encryption && !p.groupKeyIds.has(m.encryption.keyId)) {
    return { action: "refuse", code: "RELEASE_NO_GROUP_KEY", reason: `${label} is encrypted with group key ${m.encryption.keyId}, which this device does not hold` };
  }
  // Chunks plus the slot copy must fit, with the same again as margin for the filesystem.
  if (p.freeBytes !== null && p.freeBytes < m.size * 2) {
    return { action: "refuse", code: "DISK_FULL", reason: `${label} needs ${m.size * 2} bytes free, the data dir has ${p.freeBytes}` };
  }
  if (p.updating && Date.parse(m.createdAt) <= Date.parse(p.updating.createdAt)) {
    return { action: "ignore", why: `an update to ${p.updating.version} (newer) is in progress` };
  }
  return { action: "install" };
}
