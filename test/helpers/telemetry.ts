// Telemetry fixtures: well-formed edgerun.telemetry/1 messages with real HdrHistograms, built the
// way the agent builds them (host/telemetry), and a store filled with windows for report tests.

import { encodeHistogram, newLatencyHistogram, recordLatencyUs } from "../../host/telemetry/histogram.js";
import { TELEMETRY_SCHEMA, TelemetryMessage } from "../../host/telemetry/reporter.js";

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function latencies(n: number, baseUs: number, spreadUs: number, rand: () => number): number[] {
  return Array.from({ length: n }, () => baseUs + rand() * spreadUs + (rand() < 0.02 ? spreadUs * 10 : 0));
}

export function histogramOf(xs: number[]): string {
  const h = newLatencyHistogram();
  xs.forEach((x) => recordLatencyUs(h, x));
  return encodeHistogram(h);
}

export interface WindowSpec { deviceId: string; seq: number; tsMs: number; version?: string; latenciesUs: number[]; errors?: number; psi?: number | null }

export function telemetryMessage(s: WindowSpec): TelemetryMessage {
  return {
    schema: TELEMETRY_SCHEMA, deviceId: s.deviceId, seq: s.seq, ts: new Date(s.tsMs).toISOString(), intervalMs: 1000,
    model: s.version === undefined ? { id: "digits", version: "1.0.0" } : { id: "digits", version: s.version },
    inferences: s.latenciesUs.length, errors: s.errors ?? 0, throughputPerS: s.latenciesUs.length,
    latencyUs: { p50: 0, p99: 0, histogram: histogramOf(s.latenciesUs) },
    memory: { rssBytes: 1, heapUsedBytes: 1, wasmBytes: 1, workingRamBytes: 1 },
    cache: { hits: 0, misses: 0, hitRate: null },
    drift: s.psi === null || s.psi === undefined ? null : { psi: s.psi, samples: 1000 },
    buffer: { queued: 0, dropped: 0 },
  };
}
