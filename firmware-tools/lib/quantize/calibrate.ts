// Calibration: runs the float graph over the calibration samples and collects, per activation
// tensor, min/max (pass 1) and a 2048-bin histogram over that range (pass 2), plus the mean of
// every tensor (bias correction). Ranges per method: minmax, percentile (clip the tails) and mse
// (the clipping that minimizes the expected quantization error over the histogram).

import { FGraph, numel } from "../import/onnx/float-graph.js";
import { runFloat } from "./float-exec.js";

export type CalibMethod = "minmax" | "percentile" | "mse";
export const CALIB_METHODS: CalibMethod[] = ["minmax", "percentile", "mse"];
const BINS = 2048;

export interface TensorStats { min: number; max: number; hist: Float64Array; count: number; mean: Float64Array }

export type Sample = Record<string, Float32Array>;

export function collectStats(g: FGraph, samples: Sample[]): Map<string, TensorStats> {
  const stats = new Map<string, TensorStats>();
  for (const s of samples) {
    runFloat(g, s, (name, v) => {
      let st = stats.get(name);
      if (!st) stats.set(name, (st = { min: Infinity, max: -Infinity, hist: new Float64Array(BINS), count: 0, mean: new Float64Array(v.length) }));
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x < st.min) st.min = x;
        if (x > st.max) st.max = x;
        st.mean[i] += x / samples.length;
      }
    });
  }
  for (const s of samples) {
    runFloat(g, s, (name, v) => {
      const st = stats.get(name)!;
      const w = (st.max - st.min) / BINS || 1;
      for (let i = 0; i < v.length; i++) st.hist[Math.min(BINS - 1, Math.floor((v[i] - st.min) / w))]++;
      st.count += v.length;
    });
  }
  return stats;
}

/** The range [lo, hi] a method picks for one tensor (always containing 0). */
export function rangeFor(st: TensorStats, method: CalibMethod, percentile = 99.99): [number, number] {
  if (method === "minmax" || st.max <= st.min) return [Math.min(0, st.min), Math.max(0, st.max)];
  if (method === "percentile") {
    const tail = ((100 - percentile) / 100) * st.count;
    return [Math.min(0, edge(st, tail, false)), Math.max(0, edge(st, tail, true))];
  }
  return mseRange(st);
}

/** The value below (or above, `fromTop`) which `tail` samples lie. */
function edge(st: TensorStats, tail: number, fromTop: boolean): number {
  const w = (st.max - st.min) / BINS;
  let acc = 0;
  for (let k = 0; k < BINS; k++) {
    const b = fromTop ? BINS - 1 - k : k;
    acc += st.hist[b];
    if (acc > tail) return fromTop ? st.min + (b + 1) * w : st.min + b * w;
  }
  return fromTop ? st.max : st.min;
}

/** Expected squared error of int8 quantization of the histogram with the range [lo, hi]. */
export function quantMse(st: TensorStats, lo: number, hi: number): number {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  const step = (hi - lo) / 255 || 1e-12;
  const w = (st.max - st.min) / BINS;
  let err = 0;
  for (let b = 0; b < BINS; b++) {
    const n = st.hist[b];
    if (!n) continue;
    const x = st.min + (b + 0.5) * w;
    const c = Math.min(hi, Math.max(lo, x));
    err += n * ((x - c) ** 2 + (step * step) / 12);
  }
  return err / st.count;
}

function mseRange(st: TensorStats): [number, number] {
  let best: [number, number] = [Math.min(0, st.min), Math.max(0, st.max)];
  let bestErr = quantMse(st, best[0], best[1]);
  for (let k = 1; k <= 60; k++) {
    const f = 1 - k / 80; // shrink both ends towards 0 by up to 75%
    const lo = Math.min(0, st.min) * f, hi = Math.max(0, st.max) * f;
    const e = quantMse(st, lo, hi);
    if (e < bestErr) {
      bestErr = e;
      best = [lo, hi];
    }
  }
  return best;
}

/** Per-input statistics for drift checks on devices (shape documented in docs/model-format.md). */
export function inputHistogram(values: Float32Array[], scale: number, zp: number): { proportions: number[]; min: number; max: number; mean: number; std: number } {
  const counts = new Array<number>(32).fill(0);
  let n = 0, sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (const v of values) for (const x of v) {
    const q = Math.max(-128, Math.min(127, Math.round(x / scale) + zp));
    counts[(q + 128) >> 3]++;
    n++; sum += x; sq += x * x;
    min = Math.min(min, x); max = Math.max(max, x);
  }
  const mean = sum / n;
  return { proportions: counts.map((c) => c / n), min, max, mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
}

export { numel };
