// The measured cost model: for each FULLY_CONNECTED / unpadded 1x1 CONV_2D whose weights have
// zeros, time the dense op and its sparse twin on their own, with the real runtime builds (a
// one-op .erm through host/runtime, interleaved samples, medians), and keep the sparse encoding
// only where it is faster in every build asked for: a layer is never slower than dense.
// The encoding's block shape is the pattern the weights already have (naturalBlock): 4x8 after
// block pruning, 1x1 after unstructured pruning.

import { Opcode, opcodeName } from "../../../host/format/opcodes.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { EdgerunError } from "../../../host/format/errors.js";
import type { SparseBlock } from "../../../host/format/sparse-weights.js";
import { Interpreter, BuildName } from "../../../host/runtime/runtime.js";
import type { Graph } from "./graph.js";
import { naturalBlock, singleOpModel, sparseCandidate, sparsity, toSparseOp } from "./sparse-encode.js";

export type SparseMode = "auto" | "never" | "always";

export interface SparseSelectOptions {
  mode?: SparseMode;
  /** Builds the sparse kernel must not be slower in (default both). */
  builds?: BuildName[];
  /** Layers with fewer zero weights stay dense without being timed (default 0.3). */
  minSparsity?: number;
  /** Sparse must take at most this fraction of the dense time (default 0.97: a margin for timing noise). */
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
  block: SparseBlock;
  denseUs: Partial<Record<BuildName, number>>;
  sparseUs: Partial<Record<BuildName, number>>;
  chosen: "dense" | "sparse";
}

/** Median microseconds per invoke of a whole model, after warm-up; samples of at least ~1 ms. */
export function timeModelUs(model: ErmModel, build: BuildName, samples = 7): number {
  return timeInterleaved([model], build, samples)[0];
}

/** Median microseconds per invoke of each model, samples taken in turn (so drift hits all alike). */
export function timeInterleaved(models: ErmModel[], build: BuildName, samples = 7): number[] {
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
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

/**
 * Rewrites the graph's eligible ops to FULLY_CONNECTED_SPARSE / CONV_2D_SPARSE where the mode
 * (and, for "auto", the measurement) says so; returns one choice per examined op.
 */
export function selectEncodings(g: Graph, opts: SparseSelectOptions = {}): EncodingChoice[] {
  const mode = opts.mode ?? "auto";
  if (mode === "never") return [];
  const builds = opts.builds ?? ["simd", "mvp"];
  const measure = opts.measure;
  const choices: EncodingChoice[] = [];
  g.ops.forEach((op, i) => {
    const c = sparseCandidate(op, g.tensors);
    if (!c) return;
    const s = sparsity(c.weights);
    if (s === 0 || (mode === "auto" && s < (opts.minSparsity ?? 0.3))) return;
    const block = naturalBlock(c);
    const choice: EncodingChoice = { op: i, opName: opcodeName(op.opcode), rows: c.rows, cols: c.cols, pixels: c.pixels, sparsity: s, block, denseUs: {}, sparseUs: {}, chosen: "sparse" };
    const sparseOp = () => toSparseOp(op, g.tensors, block);
    if (mode === "auto") {
      const dense = singleOpModel(op, g.tensors);
      const tensors = g.tensors.slice();
      const sparse = singleOpModel(toSparseOp(op, tensors, block), tensors);
      for (const b of builds) {
        const timed = timeBoth(dense, sparse, b, measure);
        if (!timed) continue; // the layer alone does not fit this build's memory: neither would the model
        const [d, sp] = timed;
        choice.denseUs[b] = d;
        choice.sparseUs[b] = sp;
        if (sp > d * (opts.maxRatio ?? 0.97)) choice.chosen = "dense";
      }
    }
    if (choice.chosen === "sparse") g.ops[i] = { ...sparseOp(), source: op.source };
    choices.push(choice);
  });
  return choices;
}

function timeBoth(dense: ErmModel, sparse: ErmModel, b: BuildName, measure?: SparseSelectOptions["measure"]): [number, number] | null {
  try {
    return measure ? [measure(dense, b), measure(sparse, b)] : (timeInterleaved([dense, sparse], b) as [number, number]);
  } catch (e) {
    if (e instanceof EdgerunError && e.code === "RUNTIME_OUT_OF_MEMORY") return null;
    throw e;
  }
}

export function isSparseOpcode(op: Opcode): boolean {
  return op === Opcode.FULLY_CONNECTED_SPARSE || op === Opcode.CONV_2D_SPARSE;
}
