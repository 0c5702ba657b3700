// The agent's configuration file (JSON). Every field is checked once here, with the field named
// in the error; relative paths are resolved against the config file's folder.

import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { EdgerunError } from "../format/errors.js";
import { keyIdOf, loadPublicKey } from "../format/release-manifest.js";
import { groupKeyId, parseGroupKey } from "../format/model-crypto.js";
import { checkName } from "../format/topics.js";
import { BrokerOptions, checkBrokerUrl } from "./connection.js";

export interface AgentConfig {
  deviceId: string;
  broker: BrokerOptions;
  /** Pinned Ed25519 public keys by key id: releases signed by anything else are refused. */
  publicKeys: Map<string, KeyObject>;
  /** AES-256 group keys by key id, for encrypted releases. */
  groupKeys: Map<string, Uint8Array>;
  groups: string[];
  dataDir: string;
  /** Local HTTP inference API; port 0 picks a free port; null disables it. */
  api: { host: string; port: number; token?: string } | null;
  inference: { cacheEntries: number; topOnly: boolean; build: "simd" | "mvp" | "auto" };
  telemetry: { intervalMs: number; bufferMessages: number };
  update: { chunkTimeoutMs: number; maxChunkAttempts: number; inflightChunks: number; maxBootAttempts: number; confirmAfterMs: number };
}

type Raw = Record<string, unknown>;

function fail(field: string, why: string, actual?: unknown): never {
  throw new EdgerunError("AGENT_BAD_CONFIG", `config field ${field} ${why}`, { field, actual });
}

function obj(v: unknown, field: string): Raw {
  if (v === undefined) return {};
  if (!v || typeof v !== "object" || Array.isArray(v)) fail(field, "must be an object", v);
  return v as Raw;
}

function str(v: unknown, field: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== "string" || v.length === 0) fail(field, "must be a non-empty string", v);
  return v;
}

function int(v: unknown, field: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) fail(field, `must be an integer in ${min}..${max}`, v);
  return v as number;
}

export function loadAgentConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new EdgerunError("AGENT_CONFIG_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new EdgerunError("AGENT_BAD_CONFIG", `${path} is not JSON: ${(e as Error).message}`, { path });
  }
  return parseAgentConfig(raw, dirname(resolve(path)));
}

export function parseAgentConfig(raw: unknown, baseDir: string): AgentConfig {
  const r = obj(raw, "(root)");
  const at = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p));
  const deviceId = str(r.deviceId, "deviceId")!;
  try { checkName("device id", deviceId); } catch (e) { fail("deviceId", (e as EdgerunError).message, deviceId); }
  const b = obj(r.broker, "broker");
  const url = str(b.url, "broker.url")!;
  try { checkBrokerUrl(url); } catch (e) { fail("broker.url", (e as EdgerunError).message, url); }
  const version = b.mqttVersion ?? "auto";
  if (version !== 4 && version !== 5 && version !== "auto") fail("broker.mqttVersion", "must be 4, 5 or \"auto\"", version);
  const broker: BrokerOptions = {
    url, mqttVersion: version as 4 | 5 | "auto",
    username: str(b.username, "broker.username", true), password: str(b.password, "broker.password", true),
    caPath: at(str(b.ca, "broker.ca", true)), certPath: at(str(b.cert, "broker.cert", true)), keyPath: at(str(b.key, "broker.key", true)),
    keepaliveS: int(b.keepaliveS, "broker.keepaliveS", 30, 1, 3600), reconnectMs: int(b.reconnectMs, "broker.reconnectMs", 1000, 100, 600_000),
    connectTimeoutMs: int(b.connectTimeoutMs, "broker.connectTimeoutMs", 10_000, 100, 600_000),
  };
  const groups = r.groups === undefined ? [] : Array.isArray(r.groups) ? r.groups : fail("groups", "must be a list of group names", r.groups);
  groups.forEach((g, i) => { try { checkName("group", g as string); } catch (e) { fail(`groups[${i}]`, (e as EdgerunError).message, g); } });
  return {
    deviceId, broker, groups: groups as string[],
    publicKeys: loadKeys(r.publicKeys, at),
    groupKeys: loadGroupKeys(r.groupKeys, at),
    dataDir: at(str(r.dataDir, "dataDir"))!,
    api: parseApi(r.api),
    inference: parseInference(obj(r.inference, "inference")),
    telemetry: (() => { const t = obj(r.telemetry, "telemetry"); return { intervalMs: int(t.intervalMs, "telemetry.intervalMs", 10_000, 50, 86_400_000), bufferMessages: int(t.bufferMessages, "telemetry.bufferMessages", 1000, 1, 1_000_000) }; })(),
    update: parseUpdate(obj(r.update, "update")),
  };
}

function loadKeys(v: unknown, at: (p: string | undefined) => string | undefined): Map<string, KeyObject> {
  if (!Array.isArray(v) || v.length === 0) fail("publicKeys", "must list at least one pinned public key (PEM text or a file path)", v);
  const out = new Map<string, KeyObject>();
  v.forEach((k, i) => {
    const s = str(k, `publicKeys[${i}]`)!;
    let pem: string | Buffer = s;
    if (!s.includes("-----BEGIN")) {
      try { pem = readFileSync(at(s)!); } catch (e) { fail(`publicKeys[${i}]`, `cannot be read: ${(e as NodeJS.ErrnoException).code}`, s); }
    }
    try {
      const key = loadPublicKey(pem);
      out.set(keyIdOf(key), key);
    } catch (e) {
      fail(`publicKeys[${i}]`, (e as EdgerunError).message, s.slice(0, 40));
    }
  });
  return out;
}

function loadGroupKeys(v: unknown, at: (p: string | undefined) => string | undefined): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (v === undefined) return out;
  if (!Array.isArray(v)) fail("groupKeys", "must be a list of key files (64 hex digits each)", v);
  v.forEach((k, i) => {
    const s = str(k, `groupKeys[${i}]`)!;
    try {
      const key = parseGroupKey(/^[0-9a-fA-F]{64}$/.test(s) ? s : readFileSync(at(s)!, "utf8"));
      out.set(groupKeyId(key), key);
    } catch (e) {
      fail(`groupKeys[${i}]`, e instanceof EdgerunError ? e.message : `cannot be read: ${(e as NodeJS.ErrnoException).code}`, s.slice(0, 40));
    }
  });
  return out;
}

function parseApi(v: unknown): AgentConfig["api"] {
  if (v === null || v === false) return null;
  const a = obj(v, "api");
  const host = str(a.host, "api.host", true) ?? "127.0.0.1";
  return { host, port: int(a.port, "api.port", 8080, 0, 65535), token: str(a.token, "api.token", true) };
}

function parseInference(i: Raw): AgentConfig["inference"] {
  const build = i.build ?? "auto";
  if (build !== "simd" && build !== "mvp" && build !== "auto") fail("inference.build", "must be simd, mvp or auto", build);
  if (i.topOnly !== undefined && typeof i.topOnly !== "boolean") fail("inference.topOnly", "must be true or false", i.topOnly);
  return { cacheEntries: int(i.cacheEntries, "inference.cacheEntries", 0, 0, 1_000_000), topOnly: (i.topOnly as boolean) ?? false, build };
}

function parseUpdate(u: Raw): AgentConfig["update"] {
  return {
    chunkTimeoutMs: int(u.chunkTimeoutMs, "update.chunkTimeoutMs", 15_000, 50, 3_600_000),
    maxChunkAttempts: int(u.maxChunkAttempts, "update.maxChunkAttempts", 10, 1, 1000),
    inflightChunks: int(u.inflightChunks, "update.inflightChunks", 4, 1, 64),
    maxBootAttempts: int(u.maxBootAttempts, "update.maxBootAttempts", 3, 1, 100),
    confirmAfterMs: int(u.confirmAfterMs, "update.confirmAfterMs", 30_000, 0, 86_400_000),
  };
}
