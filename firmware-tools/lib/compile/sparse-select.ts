// Sparse storage and the measured cost model, two separate choices per FULLY_CONNECTED /
// CONV_2D whose weights have zeros:
//  - storage: the weights are stored sparse whenever the smallest encoding (R x C blocks, the
//    bitmap: 1/8 byte per weight + 1 byte per nonzero, or the bitmap's content range coded) saves
//    at least an eighth of the dense matrix's bytes, whatever the pruning pattern, so the file
//    shrinks with sparsity. The eighth keeps unpruned layers dense: the coded form beats dense
//    from a few percent zeros on, but a layer stored sparse and run dense is expanded into RAM at
//    load, where dense weights are read in place (from flash on a microcontroller). A layer that some build runs sparse keeps the smallest block encoding (the kernels
//    read blocks, not the bitmap or the coded form, which are expanded at load); convs with
//    filters other than 1x1 have no sparse kernel and are only stored sparse;
//  - execution, per build: the dense op and its sparse twin are timed on their own with the real
//    runtime builds (a one-op .erm through host/runtime, interleaved samples; the median of the
//    back-to-back ratios); a build's run bit is set only where the sparse kernel is faster. A build whose bit is clear expands the
//    blob to dense int8 weights at load and runs the dense kernels: no layer is ever slower than
//    dense in any build.

import { Opcode, opcodeName } from "../../../host/format/opcodes.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { SPARSE_RUN_ALL, SPARSE_RUN_BITS, SparseBlock } from "../../../host/format/sparse-weights.js";
import { Interpreter, BuildName } from "../../../host/runtime/runtime.js";
import type { Graph } from "./graph.js";
import { SparseEncoding, singleOpModel, smallestBlockEncoding, smallestExpandedEncoding, sparseCandidate, sparsity, toSparseOp } from "./sparse-encode.js";

export type SparseMode = "auto" | "never" | "always" | "size";

export interface SparseSelectOptions {
  /**
   * "auto": store sparse where smaller, run sparse per build where measured faster (such a layer
   * keeps the block encoding the kernels read, even where the bitmap or coded form is smaller);
   * "size": as auto, but always the smallest encoding (a layer whose smallest is the bitmap or the
   * coded form runs dense everywhere, untimed); "always": store and run sparse every layer with
   * zeros (tests, benchmarks); "never": all dense.
   */
  mode?: SparseMode;
  /** Builds to time (default both); a build not timed runs the layer dense. */
  builds?: BuildName[];
  /** Layers with fewer zero weights are stored as the size rule says but run dense everywhere, untimed (default 0.3). */
  minSparsity?: number;
  /** Store sparse only when that saves at least this fraction of the dense bytes (default 1/8; "always" ignores it). */
  minSaving?: number;
  /** A build runs sparse only if sparse takes at most this fraction of the dense time (default 0.97: a margin for timing noise). */
  maxRatio?: number;
  /** Median microseconds per run of a model in a build (default: timeModelUs); tests inject their own. */
  measure?: (model: ErmModel, build: BuildName) => number;
}

export interface EncodingChoice {
  op: number;
  opName: string;
  rows: number;
  cols: number;
  pixels: number;
  sparsity: number;
  /** The stored encoding: R x C blocks, or the bitmap or coded form (expanded at load in both builds). */
  encoding: "blocks" | "bitmap" | "coded";
  /** The block encoding's block (the smallest of the shapes tried; [1, 1] for the bitmap and coded forms). */
  block: SparseBlock;
  /** Convs with a filter other than 1x1: its size (stored sparse, always expanded at load). */
  kernel?: [number, number];
  /** Weight bytes dense (rows x cols) and in the sparse encoding. */
  denseBytes: number;
  sparseBytes: number;
  storage: "dense" | "sparse";
  /** Per build: whether it runs the sparse kernel (false: dense kernel, on weights expanded at load when stored sparse). */
  runSparse: Record<BuildName, boolean>;
  denseUs: Partial<Record<BuildName, number>>;
  sparseUs: Partial<Record<BuildName, number>>;
}

/** Median microseconds per invoke of a whole model, after warm-up; samples of at least ~1 ms. */
export function timeModelUs(model: ErmModel, build: BuildName, samples = 7): number {
  return timeModelsInterleaved([model], build, samples)[0];
}

/** Median microseconds per invoke of each model, samples taken in turn (so drift hits all alike). */
export function timeModelsInterleaved(models: ErmModel[], build: BuildName, samples = 7): number[] {
  return timeInterleavedSamples(models, build, samples).map(median);
}

/** Microseconds per invoke of each model, `samples` samples each, taken in turn after warm-up (samples of at least ~1 ms). */
export function timeInterleavedSamples(models: ErmModel[], build: BuildName, samples = 7): number[][] {
  const its = models.map((m) => Interpreter.load(writeErm(m), { build }));
  const reps = its.map((it) => {
    let n = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) it.invoke();
      const dt = performance.now() - t0;
      if (dt > 1 || n >= 1 << 16) return n;
      n *= 4;
    }
  });
  const times: number[][] = models.map(() => []);
  for (let s = 0; s < samples; s++) {
    its.forEach((it, k) => {
      const t0 = performance.now();
      for (let i = 0; i < reps[k]; i++) it.invoke();
      times[k].push(((performance.now() - t0) * 1000) / reps[k]);
    });
  }
  return times;
}

export function median(v: number[]): number {
  return v.slice().sort((a, b) => a - b)[v.length >> 1];
}

/**
 * Dense and sparse times of one layer and the median of the per-sample ratios sparse / dense
 * (each pair taken back to back, so load from other processes mostly cancels out).
 */
export function timePair(dense: ErmModel, sparse: ErmModel, build: BuildName, samples = 9): { denseUs: number; sparseUs: number; ratio: number } {
  const [d, sp] = timeInterleavedSamples([dense, sparse], build, samples);
  return { denseUs: median(d), sparseUs: median(sp), ratio: median(sp.map((t, i) => t / d[i])) };
}

/**
 * Rewrites the graph's eligible ops to FULLY_CONNECTED_SPARSE / CONV_2D_SPARSE where sparse
 * storage is smaller, with the per-build run bits the mode (and, for "auto", the measurement)
 * gives; returns one choice per examined op.
 */
export function selectEncodings(g: Graph, opts: SparseSelectOptions = {}): EncodingChoice[] {
  const mode = opts.mode ?? "auto";
  if (mode === "never") return [];
  const choices: EncodingChoice[] = [];
  g.ops.forEach((op, i) => {
    const c = sparseCandidate(op, g.tensors);
    if (!c) return;
    const s = sparsity(c.weights);
    if (s === 0) return;
    const blocks = smallestBlockEncoding(c);
    const expanded = smallestExpandedEncoding(c);
    const denseBytes = c.rows * c.cols;
    const smallest = Math.min(blocks.bytes, expanded.bytes);
    const choice: EncodingChoice = {
      op: i, opName: opcodeName(op.opcode), rows: c.rows, cols: c.cols, pixels: c.pixels, sparsity: s,
      encoding: "blocks", block: blocks.block, kernel: c.kernel,
      denseBytes, sparseBytes: smallest, storage: smallest <= denseBytes * (1 - (opts.minSaving ?? 1 / 8)) || mode === "always" ? "sparse" : "dense",
      runSparse: { simd: false, mvp: false }, denseUs: {}, sparseUs: {},
    };
    choices.push(choice);
    if (choice.storage === "dense") return;
    const expandOnly = mode === "size" && expanded.bytes < blocks.bytes;
    if (!c.kernel && !expandOnly) {
      if (mode === "always") choice.runSparse = { simd: true, mvp: true };
      else if (s >= (opts.minSparsity ?? 0.3) && blocks.bytes < denseBytes) measureRuns(op, g, choice, opts);
    }
    let run = 0;
    for (const b of ["simd", "mvp"] as const) if (choice.runSparse[b]) run |= SPARSE_RUN_BITS[b];
    // A build runs the sparse kernel: keep the blocks it reads. Otherwise the smallest encoding.
    const enc: SparseEncoding = run === 0 && expanded.bytes < blocks.bytes ? expanded.encoding : blocks.block;
    if (enc === expanded.encoding) choice.encoding = expanded.encoding;
    choice.sparseBytes = enc === expanded.encoding ? expanded.bytes : blocks.bytes;
    g.ops[i] = { ...toSparseOp(op, g.tensors, enc, run), source: op.source };
  });
  return choices;
}

/** Times the dense op and its sparse twin (run bits all set) in each build and sets choice.runSparse. */
function measureRuns(op: Graph["ops"][number], g: Graph, choice: EncodingChoice, opts: SparseSelectOptions): void {
  const dense = singleOpModel(op, g.tensors);
  const tensors = g.tensors.slice();
  const sparse = singleOpModel(toSparseOp(op, tensors, choice.block, SPARSE_RUN_ALL), tensors);
  for (const b of opts.builds ?? ["simd", "mvp"]) {
    const timed = timeBoth(dense, sparse, b, opts.measure);
    if (timed === "dense-does-not-fit") {
      choice.runSparse[b] = true; // the dense layer cannot load in this build at all; the sparse one can
      continue;
    }
    if (!timed) continue; // neither fits this build's memory: neither would the model
    const [d, sp, ratio] = timed;
    choice.denseUs[b] = d;
    choice.sparseUs[b] = sp;
    choice.runSparse[b] = ratio <= (opts.maxRatio ?? 0.97);
  }
}

/** [dense us, sparse us, sparse / dense] in build b, "dense-does-not-fit", or null when neither loads. */
function timeBoth(dense: ErmModel, sparse: ErmModel, b: BuildName, measure?: SparseSelectOptions["measure"]): [number, number, number] | "dense-does-not-fit" | null {
  const time = (m: ErmModel): number | null => {
    try {
      return measure ? measure(m, b) : timeModelUs(m, b);
    } catch (e) {
      if (e instanceof EdgerunError && e.code === "RUNTIME_OUT_OF_MEMORY") return null;
      throw e;
    }
  };
  if (measure) {
    const d = time(dense), sp = time(sparse);
    if (d === null) return sp === null ? null : "dense-does-not-fit";
    return sp === null ? null : [d, sp, sp / d];
  }
  try {
    const t = timePair(dense, sparse, b);
    return [t.denseUs, t.sparseUs, t.ratio];
  } catch (e) {
    if (!(e instanceof EdgerunError && e.code === "RUNTIME_OUT_OF_MEMORY")) throw e;
  }
  return time(dense) === null && time(sparse) !== null ? "dense-does-not-fit" : null;
}

export function isSparseOpcode(op: Opcode): boolean {
  return op === Opcode.FULLY_CONNECTED_SPARSE || op === Opcode.CONV_2D_SPARSE;
}
