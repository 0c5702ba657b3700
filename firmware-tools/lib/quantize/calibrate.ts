// Calibration: runs the float graph over the calibration samples and collects, per activation
// tensor, min/max (pass 1) and a 2048-bin histogram over that range (pass 2), plus the mean of
// every tensor (bias correction). Ranges per method: minmax, percentile (clip the tails), mse
// (the clipping that minimizes the expected quantization error over the histogram) and entropy
// (the clipping whose 255-level quantized histogram is closest to the clipped one in KL divergence,
// TensorRT's calibrator made asymmetric).

import { FGraph, numel } from "../import/onnx/float-graph.js";
import { runFloat } from "./float-exec.js";

export type CalibMethod = "minmax" | "percentile" | "mse" | "entropy";
export const CALIB_METHODS: CalibMethod[] = ["minmax", "percentile", "mse", "entropy"];
const BINS = 2048;

export interface TensorStats { min: number; max: number; hist: Float64Array; count: number; mean: Float64Array }

export type Sample = Record<string, Float32Array>;

/** The statistics of one tensor's values (what collectStats gathers per tensor over a calibration set). */
export function statsOf(values: ArrayLike<number>): TensorStats {
  const st: TensorStats = { min: Infinity, max: -Infinity, hist: new Float64Array(BINS), count: values.length, mean: new Float64Array(0) };
  for (let i = 0; i < values.length; i++) { st.min = Math.min(st.min, values[i]); st.max = Math.max(st.max, values[i]); }
  const w = (st.max - st.min) / BINS || 1;
  for (let i = 0; i < values.length; i++) st.hist[Math.min(BINS - 1, Math.floor((values[i] - st.min) / w))]++;
  return st;
}

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
  return method === "entropy" ? entropyRange(st) : mseRange(st);
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

/** Shrink factors: MSE tries 1 - k/80 down to 0.25; entropy 80 geometric steps down to 1/16 (as TensorRT, 128 of 2048 bins). */
const MSE_SHRINK = Array.from({ length: 60 }, (_, k) => 1 - (k + 1) / 80);
const KL_SHRINK = Array.from({ length: 80 }, (_, k) => Math.pow(1 / 16, (k + 1) / 80));

/** The candidate range (both ends shrunk towards 0 by each factor) of least cost; the widest on ties. */
function shrinkSearch(st: TensorStats, factors: number[], cost: (lo: number, hi: number) => number): [number, number] {
  let best: [number, number] = [Math.min(0, st.min), Math.max(0, st.max)];
  let bestCost = cost(best[0], best[1]);
  for (const f of factors) {
    const lo = Math.min(0, st.min) * f, hi = Math.max(0, st.max) * f;
    const c = cost(lo, hi);
    if (c < bestCost) {
      bestCost = c;
      best = [lo, hi];
    }
  }
  return best;
}

function mseRange(st: TensorStats): [number, number] {
  return shrinkSearch(st, MSE_SHRINK, (lo, hi) => quantMse(st, lo, hi));
}

function entropyRange(st: TensorStats): [number, number] {
  return shrinkSearch(st, KL_SHRINK, (lo, hi) => quantKl(st, lo, hi));
}

/**
 * KL(P || Q) for the range [lo, hi]: P is the histogram's bins inside the range with the mass
 * outside folded into the two edge bins (what clipping does), Q the inside bins alone merged
 * into 255 levels and spread back evenly over each level's non-empty bins (what int8 keeps). A
 * range that clips much pays in the edge bins, one that is too wide in coarse levels.
 */
export function quantKl(st: TensorStats, lo: number, hi: number): number {
  const w = (st.max - st.min) / BINS;
  if (!(w > 0)) return 0;
  const b0 = Math.max(0, Math.min(BINS - 1, Math.floor((Math.min(lo, 0) - st.min) / w)));
  const b1 = Math.max(b0 + 1, Math.min(BINS, Math.ceil((Math.max(hi, 0) - st.min) / w)));
  const n = b1 - b0;
  const inside = st.hist.subarray(b0, b1);
  const p = Float64Array.from(inside);
  for (let b = 0; b < b0; b++) p[0] += st.hist[b];
  for (let b = b1; b < BINS; b++) p[n - 1] += st.hist[b];
  const q = new Float64Array(n);
  // The bin holding 0 is exact in int8 (the zero point), so it is a level of its own: otherwise
  // the spike of exact zeros after a ReLU, smeared over its level, would favour the narrowest range.
  const zb = Math.floor((0 - st.min) / w) - b0;
  if (zb >= 0 && zb < n) q[zb] = inside[zb];
  const levels = Math.min(255, n);
  for (let j = 0; j < levels; j++) {
    const s = Math.floor((j * n) / levels), e = Math.floor(((j + 1) * n) / levels);
    let mass = 0, used = 0;
    for (let b = s; b < e; b++) if (b !== zb && inside[b] > 0) { mass += inside[b]; used++; }
    for (let b = s; b < e; b++) if (b !== zb && inside[b] > 0) q[b] = mass / used;
  }
  let sp = 0, sq = 0;
  for (let b = 0; b < n; b++) { sp += p[b]; sq += q[b]; }
  if (sp === 0 || sq === 0) return 0;
  let kl = 0;
  for (let b = 0; b < n; b++) {
    if (p[b] === 0) continue;
    const pb = p[b] / sp;
    // An edge bin holding only clipped mass has no inside count to stand for it: a small floor
    // keeps the divergence finite and the penalty large.
    const qb = Math.max(q[b] / sq, 1e-10);
    kl += pb * Math.log(pb / qb);
  }
  return kl;
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
