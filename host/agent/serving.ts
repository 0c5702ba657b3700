// Inference on the device: one loaded model at a time (swapped atomically on activation), an
// optional LRU result cache keyed by the input's hash, top-class-only answers, and the window
// counters telemetry reads. Shared by the HTTP API and the MQTT request handler.

import { createHash } from "node:crypto";
import { EdgerunError } from "../format/errors.js";
import { calibrationOf, DriftMeter } from "../telemetry/drift.js";
import { encodeHistogram, LatencyHistogram, newLatencyHistogram, recordLatencyUs } from "../telemetry/histogram.js";
import type { LoadedModel } from "./model-store.js";

export interface TopClass { index: number; label?: string; score: number }
export interface InferResult { outputs?: Uint8Array[]; top?: TopClass; latencyUs: number; cached: boolean; modelId: string; version: string }

export interface WindowStats {
  inferences: number;
  errors: number;
  cacheHits: number;
  cacheMisses: number;
  latencyHistogram: string;
  p50Us: number;
  p99Us: number;
  drift: { psi: number; samples: number } | null;
}

export class InferenceService {
  private loaded: LoadedModel | null = null;
  private readonly cache = new Map<string, { outputs: Uint8Array[]; top?: TopClass }>();
  private hist: LatencyHistogram = newLatencyHistogram();
  private drift: DriftMeter | null = null;
  private counts = { inferences: 0, errors: 0, cacheHits: 0, cacheMisses: 0 };

  constructor(private readonly opts: { cacheEntries: number; topOnly: boolean }) {}

  get model(): LoadedModel | null {
    return this.loaded;
  }

  setModel(m: LoadedModel | null): void {
    this.loaded = m;
    this.cache.clear();
    const cal = m ? calibrationOf(m.model.meta) : null;
    const signed = m?.model.tensors[m.model.inputs[0]]?.dtype === 1;
    this.drift = cal ? new DriftMeter(cal, signed) : null;
  }

  /** Total input bytes (all graph inputs concatenated). */
  inputBytes(): number {
    return this.loaded ? this.loaded.interpreter.inputs.reduce((a, v) => a + v.length, 0) : 0;
  }

  infer(input: Uint8Array, wantTop = false): InferResult {
    const m = this.loaded;
    if (!m) {
      this.counts.errors++;
      throw new EdgerunError("INFER_NO_MODEL", "no model is installed on this device yet");
    }
    const t0 = process.hrtime.bigint();
    const topOnly = this.opts.topOnly || wantTop;
    try {
      const key = this.opts.cacheEntries > 0 ? createHash("sha1").update(m.manifest.sha256).update(input).digest("base64") : "";
      let hit = key ? this.cache.get(key) : undefined;
      const cached = hit !== undefined;
      if (hit) {
        this.cache.delete(key); // re-insert: Map order is the LRU order
        this.cache.set(key, hit);
        this.counts.cacheHits++;
      } else {
        if (key) this.counts.cacheMisses++;
        hit = this.run(m, input);
        if (key) {
          this.cache.set(key, hit);
          if (this.cache.size > this.opts.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
        }
      }
      const latencyUs = Number(process.hrtime.bigint() - t0) / 1000;
      recordLatencyUs(this.hist, latencyUs);
      this.counts.inferences++;
      return { outputs: topOnly ? undefined : hit.outputs, top: hit.top, latencyUs, cached, modelId: m.manifest.modelId, version: m.manifest.version };
    } catch (e) {
      this.counts.errors++;
      throw e;
    }
  }

  private run(m: LoadedModel, input: Uint8Array): { outputs: Uint8Array[]; top?: TopClass } {
    const views = m.interpreter.inputs;
    const need = views.reduce((a, v) => a + v.length, 0);
    if (input.length !== need) throw new EdgerunError("INFER_BAD_INPUT", `the model takes ${need} input bytes, got ${input.length}`, { expected: need, actual: input.length });
    this.drift?.observe(input.subarray(0, views[0].length));
    let off = 0;
    const outs = m.interpreter.run(...views.map((v) => input.subarray(off, (off += v.length))));
    const outputs = outs.map((o) => o.slice()); // the runtime's views change on the next run
    return { outputs, top: topOf(outputs[0], m.model.tensors[m.model.outputs[0]]?.dtype === 1, m.model.meta.labels) };
  }

  /** Counters since the last call (then reset): what one telemetry message carries. */
  takeWindow(): WindowStats {
    const h = this.hist;
    const w: WindowStats = { ...this.counts, latencyHistogram: encodeHistogram(h), p50Us: h.totalCount ? h.getValueAtPercentile(50) : 0, p99Us: h.totalCount ? h.getValueAtPercentile(99) : 0, drift: this.drift?.take() ?? null };
    this.hist = newLatencyHistogram();
    this.counts = { inferences: 0, errors: 0, cacheHits: 0, cacheMisses: 0 };
    return w;
  }
}

function topOf(out: Uint8Array | undefined, signed: boolean, labels?: string[]): TopClass | undefined {
  if (!out || out.length === 0) return undefined;
  let best = 0, bestV = -Infinity;
  for (let i = 0; i < out.length; i++) {
    const v = signed ? (out[i] << 24) >> 24 : out[i];
    if (v > bestV) { bestV = v; best = i; }
  }
  return { index: best, label: labels?.[best], score: bestV };
}
