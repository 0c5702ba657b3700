// Magnitude pruning of an int8 Graph: zeroes weights of CONV_2D and FULLY_CONNECTED ops in place
// (nothing else is re-evaluated: biases, scales and requantization stay as quantized). Float
// graphs are pruned with the mask functions of mask.ts before quantization instead.

import { Opcode, TensorKind, DType, opcodeName } from "../../../host/format/opcodes.js";
import { EdgerunError } from "../../../host/format/errors.js";
import type { Graph } from "../compile/graph.js";
import { applyMask, checkSparsity, globalMasks, magnitudeMask, nmMask } from "./mask.js";

export type PrunePattern =
  | { kind: "unstructured" }
  | { kind: "block"; rows: number; cols: number }
  | { kind: "n:m"; n: number; m: number };

export interface PruneOptions {
  /** Fraction of weights to remove, one for all layers or per op index (ops left out are kept). */
  sparsity: number | Record<number, number>;
  /** "layer" (default): each layer loses its own fraction; "global": one threshold for all (unstructured only). */
  scope?: "layer" | "global";
  /** Default unstructured. N:M ignores `sparsity` (it is 1 - n/m). */
  pattern?: PrunePattern;
  /** Ops to prune (default: every CONV_2D and FULLY_CONNECTED with constant int8 weights). */
  ops?: number[];
}

export interface PrunedLayer { op: number; opName: string; shape: number[]; sparsityBefore: number; sparsityAfter: number }

/** A prunable op's weights as a [rows = output channels][cols] int8 matrix view, with per-row scales. */
export function weightMatrix(g: Graph, op: number): { data: Int8Array; rows: number; cols: number; rowScale?: Float32Array } | null {
  const o = g.ops[op];
  if (o.opcode !== Opcode.CONV_2D && o.opcode !== Opcode.FULLY_CONNECTED) return null;
  const t = g.tensors[o.inputs[1]];
  if (!t || t.kind !== TensorKind.CONSTANT || t.dtype !== DType.INT8 || !t.data) return null;
  const rows = t.shape[0], cols = t.data.length / rows;
  const rowScale = t.channelScales && t.channelScales.length === rows ? t.channelScales : undefined;
  return { data: new Int8Array(t.data.buffer, t.data.byteOffset, t.data.length), rows, cols, rowScale };
}

export function prunableOps(g: Graph): number[] {
  return g.ops.map((_, i) => i).filter((i) => weightMatrix(g, i) !== null);
}

function zeros(w: Int8Array): number {
  let n = 0;
  for (const v of w) if (v === 0) n++;
  return n / w.length;
}

export function pruneGraph(g: Graph, opts: PruneOptions): PrunedLayer[] {
  const ops = opts.ops ?? prunableOps(g);
  const pattern = opts.pattern ?? { kind: "unstructured" };
  const target = (op: number): number | undefined => (typeof opts.sparsity === "number" ? opts.sparsity : opts.sparsity[op]);
  const mats = ops.map((op) => {
    const m = weightMatrix(g, op);
    if (!m) throw new EdgerunError("PRUNE_BAD_LAYER", "op has no constant int8 weights to prune", { op, opName: opcodeName(g.ops[op].opcode) });
    const s = target(op);
    if (s !== undefined) checkSparsity(s, `sparsity of op ${op}`);
    return { op, m, before: zeros(m.data), s };
  });
  if (opts.scope === "global") {
    if (typeof opts.sparsity !== "number" || pattern.kind !== "unstructured") {
      throw new EdgerunError("PRUNE_BAD_PATTERN", "global pruning takes one unstructured sparsity", { actual: pattern.kind });
    }
    const masks = globalMasks(mats.map((x) => ({ weights: x.m.data, cols: x.m.cols, rowScale: x.m.rowScale })), opts.sparsity);
    mats.forEach((x, i) => applyMask(x.m.data, masks[i]));
  } else {
    for (const x of mats) {
      if (x.s === undefined && pattern.kind !== "n:m") continue;
      const { data, rows, cols, rowScale } = x.m;
      const mask = pattern.kind === "n:m" ? nmMask(data, rows, cols, pattern.n, pattern.m)
        : magnitudeMask(data, x.s!, { rows, cols, rowScale, block: pattern.kind === "block" ? [pattern.rows, pattern.cols] : undefined });
      applyMask(data, mask);
    }
  }
  return mats.map((x) => ({ op: x.op, opName: opcodeName(g.ops[x.op].opcode), shape: g.tensors[g.ops[x.op].inputs[1]].shape, sparsityBefore: x.before, sparsityAfter: zeros(x.m.data) }));
}
