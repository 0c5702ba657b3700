// The device agent: boots the last good model, serves it (HTTP and MQTT), follows its device and
// group release topics, installs updates through the update state machine, publishes a retained
// status (last will "offline") and periodic telemetry. A bad update never stops serving.

import type { IPublishPacket, MqttClient } from "mqtt";
import { join } from "node:path";
import { readEnvelopeUnverified, ReleaseManifest } from "../format/release-manifest.js";
import { parseTopic, topics } from "../format/topics.js";
import { TelemetryReporter } from "../telemetry/reporter.js";
import type { AgentConfig } from "./config.js";
import { connectPersistent, endAsync } from "./connection.js";
import { handleChunk } from "./handlers/chunk.js";
import type { AgentContext } from "./handlers/context.js";
import { handleInfer } from "./handlers/infer.js";
import { handleRelease } from "./handlers/release.js";
import { InferenceApi } from "./http-api.js";
import { LoadedModel, ModelStore } from "./model-store.js";
import { InferenceService } from "./serving.js";
import { DeviceStatus, offlineStatus, STATUS_SCHEMA, withPercent } from "./status.js";
import { Outcome, Updater, UpdateEvent } from "./update/machine.js";

export type AgentLog = (event: Record<string, unknown>) => void;
const STATUS_THROTTLE_MS = 200;
const MAX_WARNINGS = 5;

export class Agent {
  readonly service: InferenceService;
  readonly store: ModelStore;
  readonly updater: Updater;
  readonly telemetry: TelemetryReporter;
  private api: InferenceApi | null = null;
  private getClient: (() => MqttClient) | null = null;
  private mqttVersion: 4 | 5 | null = null;
  private lastResult: Outcome | null = null;
  private phase: { phase: string; version: string } | null = null;
  private selfTestUs: number | null = null;
  private warnings: DeviceStatus["warnings"] = [];
  private statusTimer?: NodeJS.Timeout;
  private confirmTimer?: NodeJS.Timeout;
  private lastStatusMs = 0;
  private stopped = false;
  readonly ctx: AgentContext;

  private constructor(readonly config: AgentConfig, private readonly log: AgentLog) {
    this.service = new InferenceService(config.inference);
    this.store = new ModelStore(config.dataDir, config.publicKeys, config.groupKeys, config.inference.build);
    this.updater = new Updater(this.store, { ...config.update, groups: config.groups, keys: config.publicKeys, groupKeyIds: new Set(config.groupKeys.keys()) }, {
      chunkIo: {
        subscribe: (h) => this.client()?.subscribe(topics.chunk(h), { qos: 1 }),
        unsubscribe: (h) => this.client()?.unsubscribe(topics.chunk(h)),
        requestRepair: (h, reason) => this.client()?.publish(topics.chunkRequest(h), JSON.stringify({ deviceId: config.deviceId, reason }), { qos: 0 }),
        connected: () => this.client()?.connected ?? false,
      },
      onEvent: (e) => this.onUpdateEvent(e),
      activate: (loaded, us) => this.activate(loaded, us),
      activeManifest: () => this.service.model?.manifest ?? null,
    });
    this.telemetry = new TelemetryReporter({ deviceId: config.deviceId, intervalMs: config.telemetry.intervalMs, bufferMessages: config.telemetry.bufferMessages, dir: join(config.dataDir, "telemetry") }, this.service);
    this.ctx = { updater: this.updater, service: this.service, client: () => this.client(), warn: (c, m) => this.warn(c, m), counters: { unexpectedChunks: 0, unknownTopics: 0 } };
  }

  static async start(config: AgentConfig, log: AgentLog = () => undefined): Promise<Agent> {
    const a = new Agent(config, log);
    await a.boot();
    return a;
  }

  private client(): MqttClient | null {
    return this.getClient?.() ?? null;
  }

  get apiUrl(): string | null {
    return this.api?.url ?? null;
  }

  private async boot(): Promise<void> {
    const b = this.store.boot(this.config.update.maxBootAttempts);
    if (b.loaded) this.service.setModel(b.loaded);
    if (b.rolledBack) {
      this.lastResult = { outcome: "rolled-back", version: b.rolledBack.to ?? undefined, code: b.rolledBack.code, reason: `rolled back from ${b.rolledBack.from} to ${b.rolledBack.to ?? "no model"}: ${b.rolledBack.reason}`, at: new Date().toISOString() };
      this.log({ event: "rolled-back", ...b.rolledBack });
    }
    this.log({ event: "boot", version: b.loaded?.manifest.version ?? null });
    this.scheduleConfirm();
    if (this.config.api) {
      this.api = new InferenceApi(this.config.api, this.service, () => this.status());
      await this.api.start();
    }
    this.updater.resume();
    this.getClient = connectPersistent(this.config.broker, {
      clientId: `edgerun-agent-${this.config.deviceId}`,
      will: { topic: topics.status(this.config.deviceId), payload: Buffer.from(offlineStatus(this.config.deviceId, this.config.groups)), retain: true, qos: 1 },
    }, (c, version) => this.wire(c, version));
    this.telemetry.start(this.client()!);
    this.log({ event: "ready", api: this.apiUrl });
  }

  private wire(c: MqttClient, version: 4 | 5): void {
    c.on("connect", () => {
      if (this.stopped) return;
      this.mqttVersion = version;
      this.telemetry.start(c);
      const subs = [topics.deviceRelease(this.config.deviceId), topics.infer(this.config.deviceId), ...this.config.groups.map(topics.groupRelease)];
      c.subscribe(subs, { qos: 1 });
      this.updater.onConnect();
      this.publishStatus(true);
      void this.telemetry.flush();
      this.log({ event: "connected", mqttVersion: version });
    });
    c.on("message", (topic: string, payload: Buffer, packet: IPublishPacket) => this.route(topic, payload, packet));
    c.on("offline", () => this.log({ event: "offline" }));
  }

  private route(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const t = parseTopic(topic);
    const id = this.config.deviceId;
    if (t.kind === "chunk") return handleChunk(this.ctx, t.sha256, payload);
    if (t.kind === "device-release" && t.device === id) return handleRelease(this.ctx, topic, payload);
    if (t.kind === "group-release" && this.config.groups.includes(t.group)) return handleRelease(this.ctx, topic, payload);
    if (t.kind === "infer" && t.device === id) return handleInfer(this.ctx, payload, packet);
    this.ctx.counters.unknownTopics++;
    this.warn("MQTT_UNKNOWN_TOPIC", `ignored a message on ${topic}, which this agent does not handle`);
  }

  private warn(code: string, message: string): void {
    this.warnings = [...this.warnings, { code, message, at: new Date().toISOString() }].slice(-MAX_WARNINGS);
    this.log({ event: "warning", code, message });
    this.publishStatus();
  }

  private onUpdateEvent(e: UpdateEvent): void {
    if (e.type === "phase") {
      this.phase = e.phase === "idle" ? null : { phase: e.phase, version: e.version };
      this.log({ event: "phase", phase: e.phase, version: e.version });
      this.publishStatus(true);
    } else if (e.type === "progress") {
      this.publishStatus();
    } else if (e.type === "downloaded") {
      this.log({ event: "downloaded", version: e.version, ...e.progress });
    } else {
      this.lastResult = e.result;
      if (e.result.outcome !== "installed") this.phase = null;
      this.log({ event: "outcome", ...e.result });
      this.publishStatus(true);
    }
  }

  private activate(loaded: LoadedModel, selfTestUs: number): void {
    this.service.setModel(loaded);
    this.selfTestUs = selfTestUs || this.selfTestUs;
    this.scheduleConfirm();
  }

  private scheduleConfirm(): void {
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    if (this.store.readRecord().confirmed) return;
    this.confirmTimer = setTimeout(() => {
      this.store.confirm();
      this.log({ event: "confirmed", version: this.service.model?.manifest.version });
      this.publishStatus(true);
    }, this.config.update.confirmAfterMs);
  }

  status(): DeviceStatus {
    const m = this.service.model;
    const r = this.store.readRecord();
    let previous: DeviceStatus["previous"] = null;
    if (r.previous) {
      try {
        const pm: ReleaseManifest = readEnvelopeUnverified(r.previous.envelope);
        previous = { version: pm.version, sha256: pm.sha256 };
      } catch { /* shown as none */ }
    }
    return {
      schema: STATUS_SCHEMA, deviceId: this.config.deviceId, state: "online", ts: new Date().toISOString(), groups: this.config.groups, mqttVersion: this.mqttVersion,
      active: m ? { modelId: m.manifest.modelId, version: m.manifest.version, sha256: m.manifest.sha256, slot: m.slot, confirmed: r.confirmed } : null,
      previous,
      update: this.phase ? { ...this.phase, progress: withPercent(this.updater.progress()) } : null,
      lastResult: this.lastResult, selfTestUs: this.selfTestUs, api: this.apiUrl, warnings: this.warnings,
    };
  }

  /** Retained status; progress updates are throttled, phase changes and outcomes go at once. */
  publishStatus(now = false): void {
    const c = this.client();
    if (!c?.connected || this.stopped) return;
    const wait = STATUS_THROTTLE_MS - (Date.now() - this.lastStatusMs);
    if (!now && wait > 0) {
      this.statusTimer ??= setTimeout(() => { this.statusTimer = undefined; this.publishStatus(true); }, wait);
      return;
    }
    this.lastStatusMs = Date.now();
    c.publish(topics.status(this.config.deviceId), JSON.stringify(this.status()), { qos: 1, retain: true });
  }

  /** Graceful stop: retained "offline" status, then disconnect. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const c = this.client();
    if (c?.connected) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 2000);
        c.publish(topics.status(this.config.deviceId), offlineStatus(this.config.deviceId, this.config.groups), { qos: 1, retain: true }, () => { clearTimeout(t); r(); });
      });
    }
    this.stopped = true;
    this.updater.stop();
    this.telemetry.stop();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    if (c) await endAsync(c, true, 2000);
    await this.api?.stop();
  }
}
