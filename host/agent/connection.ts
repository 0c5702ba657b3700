// One way to connect to a broker for the agent and the operator tools: mqtt://, mqtts://, ws://,
// wss://, with credentials and TLS client certificates. MQTT 5 first; brokers that only speak
// 3.1.1 (Aedes) refuse it with "unacceptable protocol version", and we retry once with 4.

import { readFileSync } from "node:fs";
import mqtt, { IClientOptions, MqttClient } from "mqtt";
import { EdgerunError } from "../format/errors.js";

export interface BrokerOptions {
  /** mqtt://host:port, mqtts://, ws://, wss:// */
  url: string;
  username?: string;
  password?: string;
  /** PEM files: CA to trust, client certificate and its key (TLS client authentication). */
  caPath?: string;
  certPath?: string;
  keyPath?: string;
  /** 5, 4 (3.1.1) or "auto" (5, falling back to 4). Default "auto". */
  mqttVersion?: 4 | 5 | "auto";
  /** Keep-alive interval, seconds. Default 30. */
  keepaliveS?: number;
  /** Delay between reconnect attempts, ms. Default 1000. 0 disables reconnecting. */
  reconnectMs?: number;
  /** Time allowed for the first CONNACK, ms. Default 10000. */
  connectTimeoutMs?: number;
}

export interface ConnectExtras {
  clientId: string;
  will?: { topic: string; payload: Buffer | string; retain: boolean; qos: 0 | 1 };
  /** Clean session (3.1.1) / clean start (5). Default true. */
  clean?: boolean;
  /** MQTT 5 session expiry interval, seconds (ignored on 3.1.1, where the broker decides). */
  sessionExpiryS?: number;
  /** Sees each client before it connects: a persistent session's queued messages may arrive in the same tick as CONNACK. */
  onClient?: (c: MqttClient) => void;
}

export function checkBrokerUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EdgerunError("BROKER_BAD_URL", `not a URL: ${url}`, { actual: url });
  }
  if (!["mqtt:", "mqtts:", "ws:", "wss:", "tcp:", "ssl:"].includes(u.protocol)) {
    throw new EdgerunError("BROKER_BAD_URL", `unsupported scheme ${u.protocol} (use mqtt://, mqtts://, ws:// or wss://)`, { actual: url });
  }
  return u;
}

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EdgerunError("BROKER_TLS_FILE", `cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
}

export function clientOptions(b: BrokerOptions, x: ConnectExtras, version: 4 | 5): IClientOptions {
  return {
    clientId: x.clientId,
    protocolVersion: version,
    username: b.username,
    password: b.password,
    ca: readPem(b.caPath, "CA certificate"),
    cert: readPem(b.certPath, "client certificate"),
    key: readPem(b.keyPath, "client key"),
    keepalive: b.keepaliveS ?? 30,
    reconnectPeriod: b.reconnectMs ?? 1000,
    connectTimeout: b.connectTimeoutMs ?? 10_000,
    clean: x.clean ?? true,
    // The callers re-subscribe on every connect themselves (the set they need changes while offline).
    resubscribe: false,
    will: x.will,
    rejectUnauthorized: true,
    ...(version === 5 && x.sessionExpiryS !== undefined ? { properties: { sessionExpiryInterval: x.sessionExpiryS } } : {}),
  };
}

/**
 * Connects and resolves once the first CONNACK arrives. Later disconnects are handled by mqtt.js
 * reconnecting every reconnectMs; callers listen to "connect" to re-subscribe.
 */
export async function connectBroker(b: BrokerOptions, x: ConnectExtras): Promise<MqttClient> {
  checkBrokerUrl(b.url);
  const wanted = b.mqttVersion ?? "auto";
  const first = wanted === "auto" ? 5 : wanted;
  try {
    return await connectOnce(b, x, first);
  } catch (e) {
    if (wanted === "auto" && e instanceof EdgerunError && e.code === "BROKER_PROTOCOL_VERSION") return connectOnce(b, x, 4);
    throw e;
  }
}

function connectOnce(b: BrokerOptions, x: ConnectExtras, version: 4 | 5): Promise<MqttClient> {
  const timeoutMs = (b.connectTimeoutMs ?? 10_000) + 500;
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(b.url, clientOptions(b, x, version));
    x.onClient?.(client);
    let lastError: Error | undefined;
    const fail = (err: EdgerunError) => {
      clearTimeout(timer);
      client.removeAllListeners("connect");
      client.end(true);
      reject(err);
    };
    const timer = setTimeout(() => fail(new EdgerunError("BROKER_UNREACHABLE", `no answer from ${b.url} within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ""}`, { url: b.url, timeoutMs })), timeoutMs);
    client.on("error", (e: Error & { code?: string | number }) => {
      lastError = e;
      if (e.code === 1 || e.code === 132) fail(new EdgerunError("BROKER_PROTOCOL_VERSION", `${b.url} does not accept MQTT ${version === 5 ? "5" : "3.1.1"}`, { url: b.url }));
      else if (e.code === 4 || e.code === 5 || e.code === 134 || e.code === 135) fail(new EdgerunError("BROKER_NOT_AUTHORIZED", `${b.url} refused the credentials: ${e.message}`, { url: b.url }));
    });
    client.once("connect", () => {
      clearTimeout(timer);
      resolve(client);
    });
  });
}

/**
 * For long-lived clients (the agent): connects without waiting and keeps reconnecting. With
 * "auto", a broker that refuses MQTT 5 gets a new client speaking 3.1.1; onClient sees each one.
 */
export function connectPersistent(b: BrokerOptions, x: ConnectExtras, onClient: (c: MqttClient, version: 4 | 5) => void): () => MqttClient {
  checkBrokerUrl(b.url);
  const wanted = b.mqttVersion ?? "auto";
  let client = start(wanted === "auto" ? 5 : wanted);
  function start(version: 4 | 5): MqttClient {
    const c = mqtt.connect(b.url, clientOptions(b, x, version));
    c.on("error", (e: Error & { code?: string | number }) => {
      if (wanted === "auto" && version === 5 && (e.code === 1 || e.code === 132) && c === client) {
        c.end(true);
        client = start(4);
      }
    });
    onClient(c, version);
    return c;
  }
  return () => client;
}

/** Promise twin of publish with a bound on the wait for PUBACK. */
export function publishAsync(client: MqttClient, topic: string, payload: Buffer | string, opts: { qos: 0 | 1; retain?: boolean; properties?: Record<string, unknown> }, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new EdgerunError("BROKER_PUBLISH_TIMEOUT", `no PUBACK for ${topic} within ${timeoutMs} ms`, { topic, timeoutMs })), timeoutMs);
    client.publish(topic, payload, opts as never, (err) => {
      clearTimeout(timer);
      if (err) reject(new EdgerunError("BROKER_PUBLISH_FAILED", `publish to ${topic} failed: ${err.message}`, { topic }));
      else resolve();
    });
  });
}

export function subscribeAsync(client: MqttClient, topics: string[], qos: 0 | 1 = 1, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new EdgerunError("BROKER_SUBSCRIBE_TIMEOUT", `no SUBACK within ${timeoutMs} ms`, { topics, timeoutMs })), timeoutMs);
    client.subscribe(topics, { qos }, (err, granted) => {
      clearTimeout(timer);
      const refused = granted?.find((g) => g.qos === 128 || g.qos > 2);
      if (err) reject(new EdgerunError("BROKER_SUBSCRIBE_FAILED", `subscribe failed: ${err.message}`, { topics }));
      else if (refused) reject(new EdgerunError("BROKER_NOT_AUTHORIZED", `the broker refused the subscription to ${refused.topic}`, { topic: refused.topic }));
      else resolve();
    });
  });
}

/** Waits for UNSUBACK: brokers such as Aedes may apply a later SUBSCRIBE before an unacknowledged UNSUBSCRIBE. */
export function unsubscribeAsync(client: MqttClient, topics: string[], timeoutMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs); // not acknowledged: the caller goes on, nothing depends on it
    client.unsubscribe(topics, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function endAsync(client: MqttClient, force = false, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.end(true);
      resolve();
    }, timeoutMs);
    client.end(force, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
