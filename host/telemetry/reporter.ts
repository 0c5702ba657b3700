// Periodic telemetry: every intervalMs one message (counters, mergeable latency histogram,
// throughput, model, memory, cache hit rate, drift) goes into the disk buffer first, then is
// sent in order with QoS 1 and deleted after its PUBACK. Offline, messages wait on disk.

import type { MqttClient } from "mqtt";
import { publishAsync } from "../agent/connection.js";
import type { InferenceService } from "../agent/serving.js";
import { topics } from "../format/topics.js";
import { DiskBuffer } from "./disk-buffer.js";

export const TELEMETRY_SCHEMA = "edgerun.telemetry/1";

export interface TelemetryMessage {
  schema: typeof TELEMETRY_SCHEMA;
  deviceId: string;
  /** Per device, increasing across restarts (kept with the disk buffer). */
  seq: number;
  ts: string;
  intervalMs: number;
  model: { id: string; version: string } | null;
  inferences: number;
  errors: number;
  throughputPerS: number;
  latencyUs: { p50: number; p99: number; histogram: string };
  memory: { rssBytes: number; heapUsedBytes: number; wasmBytes: number; workingRamBytes: number };
  cache: { hits: number; misses: number; hitRate: number | null };
  drift: { psi: number; samples: number } | null;
  buffer: { queued: number; dropped: number };
}

export interface ReporterOptions { deviceId: string; intervalMs: number; bufferMessages: number; dir: string; publishTimeoutMs?: number }

export class TelemetryReporter {
  readonly buffer: DiskBuffer;
  private timer?: NodeJS.Timeout;
  private client: MqttClient | null = null;
  private flushing = false;
  private lastMs = Date.now();
  sent = 0;

  constructor(private readonly o: ReporterOptions, private readonly service: InferenceService) {
    this.buffer = new DiskBuffer(o.dir, o.bufferMessages);
  }

  /** Starts the timer once; later calls only point the reporter at a new client. */
  start(client: MqttClient): void {
    this.client = client;
    this.timer ??= setInterval(() => this.report(), this.o.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Builds one message from the window since the last one and queues it on disk. */
  report(): void {
    const now = Date.now();
    const w = this.service.takeWindow();
    const m = this.service.model;
    const intervalMs = Math.max(1, now - this.lastMs);
    this.lastMs = now;
    const mem = process.memoryUsage();
    const rt = m?.interpreter.memory;
    const lookups = w.cacheHits + w.cacheMisses;
    const msg: Omit<TelemetryMessage, "seq"> = {
      schema: TELEMETRY_SCHEMA, deviceId: this.o.deviceId, ts: new Date(now).toISOString(), intervalMs,
      model: m ? { id: m.manifest.modelId, version: m.manifest.version } : null,
      inferences: w.inferences, errors: w.errors, throughputPerS: Number(((w.inferences * 1000) / intervalMs).toFixed(3)),
      latencyUs: { p50: w.p50Us, p99: w.p99Us, histogram: w.latencyHistogram },
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, wasmBytes: rt?.linearMemoryBytes ?? 0, workingRamBytes: rt?.workingRamBytes ?? 0 },
      cache: { hits: w.cacheHits, misses: w.cacheMisses, hitRate: lookups ? Number((w.cacheHits / lookups).toFixed(4)) : null },
      drift: w.drift,
      buffer: { queued: this.buffer.size, dropped: this.buffer.dropped },
    };
    try {
      this.buffer.push((seq) => JSON.stringify({ ...msg, seq }));
    } catch {
      return; // disk full: this window is lost, serving goes on; the drop shows as a gap in seq
    }
    void this.flush();
  }

  /** Sends buffered messages in order while connected; stops at the first failure. */
  async flush(): Promise<void> {
    if (this.flushing || !this.client) return;
    this.flushing = true;
    try {
      for (let next = this.buffer.peek(); next && this.client.connected; next = this.buffer.peek()) {
        await publishAsync(this.client, topics.telemetry(this.o.deviceId), next.payload, { qos: 1 }, this.o.publishTimeoutMs ?? 10_000);
        this.buffer.remove(next.seq);
        this.sent++;
      }
    } catch {
      /* offline or no PUBACK in time: the message stays on disk for the next flush */
    } finally {
      this.flushing = false;
    }
  }
}
