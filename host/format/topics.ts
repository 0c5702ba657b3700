// MQTT topic layout, all under one versioned prefix (docs/mqtt-protocol.md). Builders and the
// one parser live here so the agent and the operator tools never spell a topic by hand.

import { EdgerunError } from "./errors.js";

export const TOPIC_PREFIX = "edgerun/v1";

/** Device ids and group names become topic levels: no wildcards, separators or control characters. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkName(kind: "device id" | "group", name: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new EdgerunError("TOPIC_BAD_NAME", `${kind} must be 1-64 characters of A-Z a-z 0-9 . _ - (starting with a letter or digit), got ${JSON.stringify(name)}`, { actual: name });
  }
  return name;
}

export const topics = {
  groupRelease: (group: string) => `${TOPIC_PREFIX}/groups/${checkName("group", group)}/release`,
  groupHistory: (group: string, version: string) => `${TOPIC_PREFIX}/groups/${checkName("group", group)}/history/${version}`,
  groupHistoryAll: (group: string) => `${TOPIC_PREFIX}/groups/${checkName("group", group)}/history/+`,
  deviceRelease: (id: string) => `${TOPIC_PREFIX}/devices/${checkName("device id", id)}/release`,
  status: (id: string) => `${TOPIC_PREFIX}/devices/${checkName("device id", id)}/status`,
  statusAll: () => `${TOPIC_PREFIX}/devices/+/status`,
  telemetry: (id: string) => `${TOPIC_PREFIX}/devices/${checkName("device id", id)}/telemetry`,
  telemetryAll: () => `${TOPIC_PREFIX}/devices/+/telemetry`,
  infer: (id: string) => `${TOPIC_PREFIX}/devices/${checkName("device id", id)}/infer`,
  inferReplies: (clientId: string) => `${TOPIC_PREFIX}/replies/${clientId}`,
  chunk: (sha256: string) => `${TOPIC_PREFIX}/chunks/${checkHash(sha256)}`,
  chunkRequest: (sha256: string) => `${TOPIC_PREFIX}/chunk-requests/${checkHash(sha256)}`,
  chunkRequestAll: () => `${TOPIC_PREFIX}/chunk-requests/+`,
};

function checkHash(h: string): string {
  if (!/^[0-9a-f]{64}$/.test(h)) throw new EdgerunError("TOPIC_BAD_HASH", `not a sha256 hex digest: ${JSON.stringify(h)}`, { actual: h });
  return h;
}

export type ParsedTopic =
  | { kind: "group-release"; group: string }
  | { kind: "group-history"; group: string; version: string }
  | { kind: "device-release"; device: string }
  | { kind: "status"; device: string }
  | { kind: "telemetry"; device: string }
  | { kind: "infer"; device: string }
  | { kind: "chunk"; sha256: string }
  | { kind: "chunk-request"; sha256: string }
  | { kind: "unknown"; topic: string };

export function parseTopic(topic: string): ParsedTopic {
  const p = topic.split("/");
  if (p.length < 4 || `${p[0]}/${p[1]}` !== TOPIC_PREFIX) return { kind: "unknown", topic };
  const [, , area, name, leaf, extra] = p;
  if (area === "chunks" && p.length === 4 && /^[0-9a-f]{64}$/.test(name)) return { kind: "chunk", sha256: name };
  if (area === "chunk-requests" && p.length === 4 && /^[0-9a-f]{64}$/.test(name)) return { kind: "chunk-request", sha256: name };
  if (area === "groups" && leaf === "release" && p.length === 5) return { kind: "group-release", group: name };
  if (area === "groups" && leaf === "history" && p.length === 6) return { kind: "group-history", group: name, version: extra };
  if (area === "devices" && p.length === 5) {
    if (leaf === "release") return { kind: "device-release", device: name };
    if (leaf === "status") return { kind: "status", device: name };
    if (leaf === "telemetry") return { kind: "telemetry", device: name };
    if (leaf === "infer") return { kind: "infer", device: name };
  }
  return { kind: "unknown", topic };
}
