// Options shared by the fleet commands: broker connection (URL, credentials, TLS client
// certificates, MQTT version), durations and canary sizes. Parsers throw usage errors (exit 2).

import { Command, InvalidArgumentError } from "commander";
import type { BrokerOptions } from "../../host/agent/connection.js";

export function addBrokerOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--broker <url>", "broker URL: mqtt://, mqtts://, ws:// or wss://")
    .option("--username <name>", "broker user name")
    .option("--password <secret>", "broker password (or set EDGERUN_MQTT_PASSWORD)")
    .option("--tls-ca <file>", "CA certificate (PEM) to trust for mqtts:// and wss://")
    .option("--tls-cert <file>", "client certificate (PEM) for TLS client authentication")
    .option("--tls-key <file>", "client certificate's private key (PEM)")
    .option("--mqtt-version <v>", "4 (3.1.1), 5 or auto", parseMqttVersion, "auto" as const);
}

export interface BrokerFlags { broker: string; username?: string; password?: string; tlsCa?: string; tlsCert?: string; tlsKey?: string; mqttVersion: 4 | 5 | "auto" }

export function brokerOptionsFrom(o: BrokerFlags): BrokerOptions {
  return {
    url: o.broker, username: o.username, password: o.password ?? process.env.EDGERUN_MQTT_PASSWORD,
    caPath: o.tlsCa, certPath: o.tlsCert, keyPath: o.tlsKey, mqttVersion: o.mqttVersion, reconnectMs: 1000, connectTimeoutMs: 10_000,
  };
}

export function parseMqttVersion(v: string): 4 | 5 | "auto" {
  if (v === "4" || v === "3.1.1") return 4;
  if (v === "5") return 5;
  if (v === "auto") return "auto";
  throw new InvalidArgumentError(`expected 4, 5 or auto, got "${v}"`);
}

/** 500ms, 30s, 5m, 1h, or plain milliseconds. */
export function parseDurationMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`expected a duration such as 500ms, 30s or 5m, got "${v}"`);
  const mul = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "ms") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * mul);
}

export function parseCanary(v: string): { count?: number; percent?: number } {
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`expected a device count (3) or a percent (10%), got "${v}"`);
  const n = Number(m[1]);
  if (m[2]) {
    if (n <= 0 || n > 100) throw new InvalidArgumentError(`a canary percent must be in (0, 100], got ${v}`);
    return { percent: n };
  }
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`a canary count must be a positive integer, got ${v}`);
  return { count: n };
}

export function parseFraction(v: string): number {
  const pct = v.trim().endsWith("%");
  const n = Number(pct ? v.trim().slice(0, -1) : v);
  const f = pct ? n / 100 : n;
  if (!Number.isFinite(f) || f < 0 || f > 1) throw new InvalidArgumentError(`expected a fraction 0..1 or a percent such as 5%, got "${v}"`);
  return f;
}

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port 0..65535, got "${v}"`);
  return n;
}
