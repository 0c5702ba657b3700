// Magnitude pruning masks over plain arrays (float weights before quantization, or int8 weights
// of a quantized graph): unstructured, blocks of R x C, and N:M along the input axis.
// A mask holds 1 for a kept weight and 0 for a pruned one. Ties break by index, so the result
// is deterministic and prunes exactly round(sparsity * count) weights (or blocks).

import { EdgerunError } from "../../../host/format/errors.js";

export type Weights = ArrayLike<number>;

/** Sparsity must be a number in [0, 1): 1 would remove a whole layer. */
export function checkSparsity(s: number, what = "sparsity"): void {
  if (typeof s !== "number" || !Number.isFinite(s) || s < 0 || s >= 1) {
    throw new EdgerunError("PRUNE_BAD_SPARSITY", `${what} must be in [0, 1)`, { expected: "0 <= s < 1", actual: s });
  }
}

/** Indices of the `count` smallest scores (ties: lower index first). */
function smallest(scores: Float64Array, count: number): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return idx.subarray(0, count);
}

export interface MaskOptions {
  /** Prune whole blocks of rows x cols weights of a [rows][cols] matrix (by the blocks' L1 norm). */
  block?: readonly [number, number];
  rows?: number;
  cols?: number;
  /** Per-row factor on |w| (per-channel scales of int8 weights), so rows compare in real units. */
  rowScale?: ArrayLike<number>;
}

function score(w: Weights, i: number, cols: number, rowScale?: ArrayLike<number>): number {
  const s = rowScale ? rowScale[Math.floor(i / cols)] : 1;
  return Math.abs(w[i]) * s;
}

/** Keeps the largest-magnitude weights (or blocks) so that `sparsity` of them are pruned. */
export function magnitudeMask(w: Weights, sparsity: number, opts: MaskOptions = {}): Uint8Array {
  checkSparsity(sparsity);
  const mask = new Uint8Array(w.length).fill(1);
  const cols = opts.cols ?? w.length;
  if (!opts.block || (opts.block[0] === 1 && opts.block[1] === 1)) {
    const scores = Float64Array.from({ length: w.length }, (_, i) => score(w, i, cols, opts.rowScale));
    for (const i of smallest(scores, Math.round(sparsity * w.length))) mask[i] = 0;
    return mask;
  }
  const [R, C] = opts.block;
  const rows = opts.rows ?? 1;
  if (rows * cols !== w.length || rows % R !== 0 || cols % C !== 0) {
    throw new EdgerunError("PRUNE_BAD_PATTERN", `a ${R}x${C} block does not tile a ${rows}x${cols} matrix`, { expected: `rows % ${R} == 0, cols % ${C} == 0`, actual: [rows, cols] });
  }
  const perRow = cols / C;
  const scores = new Float64Array((rows / R) * perRow);
  for (let i = 0; i < w.length; i++) {
    const r = Math.floor(i / cols), c = i % cols;
    scores[Math.floor(r / R) * perRow + Math.floor(c / C)] += score(w, i, cols, opts.rowScale);
  }
  for (const b of smallest(scores, Math.round(sparsity * scores.length))) {
    const g = Math.floor(b / perRow), k = b % perRow;
    for (let r = 0; r < R; r++) mask.fill(0, (g * R + r) * cols + k * C, (g * R + r) * cols + k * C + C);
  }
  return mask;
}

/** N:M sparsity: in every run of m consecutive inputs of a row, keep the n largest (2:4 = 50%). */
export function nmMask(w: Weights, rows: number, cols: number, n: number, m: number): Uint8Array {
  if (!Number.isInteger(n) || !Number.isInteger(m) || m < 1 || n < 0 || n > m) {
    throw new EdgerunError("PRUNE_BAD_PATTERN", "N:M needs integers 0 <= N <= M", { actual: `${n}:${m}` });
  }
  if (rows * cols !== w.length || cols % m !== 0) {
    throw new EdgerunError("PRUNE_BAD_PATTERN", `the input axis (${cols}) is not a multiple of M = ${m}`, { expected: `cols % ${m} == 0`, actual: cols });
  }
  const mask = new Uint8Array(w.length);
  const idx = new Array<number>(m);
  for (let start = 0; start < w.length; start += m) {
    for (let j = 0; j < m; j++) idx[j] = start + j;
    idx.sort((a, b) => Math.abs(w[b]) - Math.abs(w[a]) || a - b);
    for (let j = 0; j < n; j++) mask[idx[j]] = 1;
  }
  return mask;
}

/**
 * One magnitude threshold across several layers (global pruning): scores are |w| times the
 * layer's per-row scale; returns one mask per layer, pruning `sparsity` of all weights together.
 */
export function globalMasks(layers: { weights: Weights; cols: number; rowScale?: ArrayLike<number> }[], sparsity: number): Uint8Array[] {
  checkSparsity(sparsity);
  const total = layers.reduce((a, l) => a + l.weights.length, 0);
  const scores = new Float64Array(total);
  let p = 0;
  for (const l of layers) for (let i = 0; i < l.weights.length; i++) scores[p++] = score(l.weights, i, l.cols, l.rowScale);
  const flat = new Uint8Array(total).fill(1);
  for (const i of smallest(scores, Math.round(sparsity * total))) flat[i] = 0;
  const out: Uint8Array[] = [];
  p = 0;
  for (const l of layers) {
    out.push(flat.slice(p, p + l.weights.length));
    p += l.weights.length;
  }
  return out;
}

/** Zeroes the pruned weights in place; returns the array. */
export function applyMask<T extends { [i: number]: number; length: number }>(w: T, mask: Uint8Array): T {
  for (let i = 0; i < w.length; i++) if (!mask[i]) w[i] = 0;
  return w;
}
