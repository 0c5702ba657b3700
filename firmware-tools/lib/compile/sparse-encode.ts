// Sparse rewriting of single ops: which FULLY_CONNECTED / CONV_2D ops can take sparse weights,
// the dense matrix view of their weights, the rewrite to FULLY_CONNECTED_SPARSE / CONV_2D_SPARSE,
// and one-op models of a layer (the cost model times them with the real runtime builds).

import { DType, Opcode, TensorKind } from "../../../host/format/opcodes.js";
import type { ErmModel, ErmOp, ErmTensor } from "../../../host/format/erm-types.js";
import { SPARSE_KIND_BITMAP, SPARSE_KIND_CODED, SPARSE_RUN_ALL, SPARSE_RUN_BITS, SparseBlock, bitmapBytes, blockFits, encodeBitmap, encodeCoded, encodeSparse, sparseHeader } from "../../../host/format/sparse-weights.js";

/**
 * A sparse encoding: R x C blocks (the sparse kernels read them), or the bitmap or its entropy
 * coded form (both always expanded at load).
 */
export type SparseEncoding = SparseBlock | "bitmap" | "coded";

/** Encodings no kernel reads: stored only, expanded at load (run bits 0). */
export function expandOnlyEncoding(enc: SparseEncoding): enc is "bitmap" | "coded" {
  return enc === "bitmap" || enc === "coded";
}

/**
 * How a layer's weights are stored, as the compress report and inspect print it: "dense", or
 * "sparse <form>, runs sparse: simd+mvp" / "sparse <form>, expanded at load" (form: "4x8 blocks",
 * "bitmap", "coded"; runs: the builds that run the sparse kernel).
 */
export function encodingLabel(form: string | null, runs: string[]): string {
  if (form === null) return "dense";
  return runs.length ? `sparse ${form}, runs sparse: ${runs.join("+")}` : `sparse ${form}, expanded at load`;
}

/** The stored encoding of a FULLY_CONNECTED_SPARSE / CONV_2D_SPARSE op's weights (from the blob header and the run bits). */
export function storedEncodingLabel(op: ErmOp, tensors: ErmTensor[]): string {
  const w = tensors[op.inputs[1]];
  if ((op.opcode !== Opcode.FULLY_CONNECTED_SPARSE && op.opcode !== Opcode.CONV_2D_SPARSE) || !w?.data) return "dense";
  const h = sparseHeader(w.data);
  const form = h.kind === SPARSE_KIND_BITMAP ? "bitmap" : h.kind === SPARSE_KIND_CODED ? "coded" : `${h.blockRows}x${h.blockCols} blocks`;
  const bits = op.params[op.params.length - 1];
  return encodingLabel(form, (["simd", "mvp"] as const).filter((b) => bits & SPARSE_RUN_BITS[b]));
}

/** The weight matrix of an op that has a sparse twin: rows = output channels, cols = input channels. */
export interface SparseCandidate {
  rows: number;
  cols: number;
  /** Output pixels (FC: batches). */
  pixels: number;
  weights: Int8Array;
  /**
   * A CONV_2D with a filter other than 1x1: the matrix is [outC][kH * kW * inC] (the filter's OHWI
   * order) and the sparse op carries the filter size; stored sparse only, expanded at load.
   */
  kernel?: [kH: number, kW: number];
}

/** FULLY_CONNECTED or CONV_2D (any filter; with or without a fused ADD) with constant int8 weights. */
export function sparseCandidate(op: ErmOp, tensors: ErmTensor[]): SparseCandidate | null {
  const w = tensors[op.inputs[1]];
  if (!w || w.kind !== TensorKind.CONSTANT || w.dtype !== DType.INT8 || !w.data) return null;
  const weights = new Int8Array(w.data.buffer, w.data.byteOffset, w.data.length);
  const outElems = tensors[op.outputs[0]].shape.reduce((a, b) => a * b, 1);
  if (op.opcode === Opcode.FULLY_CONNECTED && w.shape.length === 2) {
    const [rows, cols] = w.shape;
    if (rows > 65535 || cols > 65535) return null;
    return { rows, cols, pixels: outElems / rows, weights };
  }
  if (op.opcode === Opcode.CONV_2D && w.shape.length === 4) {
    const [strideH, strideW, , , padTop, padLeft] = op.params;
    if (strideH < 1 || strideW < 1 || op.params[10] !== 1) return null;
    const [rows, kH, kW, inC] = w.shape;
    const cols = kH * kW * inC;
    if (rows > 65535 || cols > 65535) return null;
    if (kH === 1 && kW === 1 && padTop === 0 && padLeft === 0) return { rows, cols, pixels: outElems / rows, weights };
    return { rows, cols, pixels: outElems / rows, weights, kernel: [kH, kW] };
  }
  return null;
}

export function sparsity(w: Int8Array): number {
  let z = 0;
  for (const v of w) if (v === 0) z++;
  return w.length ? z / w.length : 0;
}

/**
 * The largest block (rows x cols of the encoding) whose all-zero blocks hold every zero weight
 * the 1x1 blocks would drop, i.e. the pruning pattern the weights already have (4x8 after
 * block pruning, 1x1 after unstructured pruning).
 */
export function naturalBlock(c: SparseCandidate): SparseBlock {
  const zeros = c.weights.length * sparsity(c.weights);
  const tries: SparseBlock[] = [[8, 8], [4, 8], [4, 4], [1, 8], [4, 1], [1, 4], [2, 2]];
  for (const b of tries) {
    if (!blockFits(c.rows, c.cols, b)) continue;
    if (zerosInEmptyBlocks(c, b) >= zeros * 0.98) return b;
  }
  return [1, 1];
}

function zerosInEmptyBlocks(c: SparseCandidate, [R, C]: SparseBlock): number {
  let n = 0;
  for (let g = 0; g < c.rows; g += R) {
    for (let b = 0; b < c.cols; b += C) {
      let empty = true;
      for (let r = 0; r < R && empty; r++) for (let k = 0; k < C && empty; k++) empty = c.weights[(g + r) * c.cols + b + k] === 0;
      if (empty) n += R * C;
    }
  }
  return n;
}

/**
 * The smallest encoding of the weights: the natural block and the few shapes the kernels run
 * well, whichever stores fewest bytes (4x8-pruned weights: 4x8; scattered weights: 1x1).
 */
export function smallestBlockEncoding(c: SparseCandidate): { block: SparseBlock; bytes: number } {
  const tries: SparseBlock[] = [naturalBlock(c), [1, 1], [4, 8], [4, 4], [1, 4], [1, 8]];
  let best: { block: SparseBlock; bytes: number } | null = null;
  for (const b of tries) {
    if (!blockFits(c.rows, c.cols, b) || (best && best.block[0] === b[0] && best.block[1] === b[1])) continue;
    const bytes = encodeSparse(c.weights, c.rows, c.cols, b).length;
    if (!best || bytes < best.bytes) best = { block: b, bytes };
  }
  return best!;
}

/** Bytes of the weights in the bitmap encoding. */
export function bitmapEncodingBytes(c: SparseCandidate): number {
  let nz = 0;
  for (const v of c.weights) if (v !== 0) nz++;
  return bitmapBytes(c.rows, c.cols, nz);
}

/** The smaller of the two encodings expanded at load: the bitmap, or its entropy-coded form (the bitmap on a tie). */
export function smallestExpandedEncoding(c: SparseCandidate): { encoding: "bitmap" | "coded"; bytes: number } {
  const bitmap = bitmapEncodingBytes(c);
  const coded = encodeCoded(c.weights, c.rows, c.cols).length;
  return coded < bitmap ? { encoding: "coded", bytes: coded } : { encoding: "bitmap", bytes: bitmap };
}

/** The blob of an encoding. */
export function encodeWeights(c: SparseCandidate, enc: SparseEncoding): Uint8Array {
  if (enc === "bitmap") return encodeBitmap(c.weights, c.rows, c.cols);
  if (enc === "coded") return encodeCoded(c.weights, c.rows, c.cols);
  return encodeSparse(c.weights, c.rows, c.cols, enc);
}

/**
 * The op rewritten to its sparse twin with the given encoding and run bits (SPARSE_RUN_*: the
 * builds that run the sparse kernel; the others expand the weights at load); appends the blob as
 * a new constant. A conv with a filter other than 1x1 gets its filter size before the run bits;
 * it and the bitmap and coded encodings have no sparse kernel, so their run bits must be 0.
 */
export function toSparseOp(op: ErmOp, tensors: ErmTensor[], enc: SparseEncoding, run = SPARSE_RUN_ALL): ErmOp {
  const c = sparseCandidate(op, tensors);
  if (!c) throw new Error("toSparseOp: not a sparse candidate");
  if (run !== 0 && (expandOnlyEncoding(enc) || c.kernel)) throw new Error("toSparseOp: the bitmap and coded encodings and k x k convolutions are expanded at load (run bits 0)");
  const blob = encodeWeights(c, enc);
  const w = tensors[op.inputs[1]];
  const suffix = expandOnlyEncoding(enc) ? enc : `${enc[0]}x${enc[1]}`;
  tensors.push({ name: `${w.name}/sparse${suffix}`, dtype: DType.INT8, shape: [blob.length], kind: TensorKind.CONSTANT, flags: 0, zeroPoint: 0, scale: 0, arenaOffset: 0, data: blob });
  const inputs = op.inputs.slice();
  inputs[1] = tensors.length - 1;
  const opcode = op.opcode === Opcode.FULLY_CONNECTED ? Opcode.FULLY_CONNECTED_SPARSE : Opcode.CONV_2D_SPARSE;
  return { ...op, opcode, inputs, params: [...op.params, ...(c.kernel ?? []), run] };
}

/**
 * A one-op model running `op` on its own (inputs and output in the arena, weights and constants
 * copied), for timing and tests. A fused residual becomes an extra graph input.
 */
export function singleOpModel(op: ErmOp, tensors: ErmTensor[]): ErmModel {
  const out: ErmTensor[] = [];
  const map = new Map<number, number>();
  let arena = 0;
  const take = (t: number): number => {
    if (t < 0) return -1;
    if (map.has(t)) return map.get(t)!;
    const src = tensors[t];
    const copy: ErmTensor = { ...src, flags: 0 };
    if (src.kind === TensorKind.ARENA) {
      copy.arenaOffset = arena;
      arena += (src.shape.reduce((a, b) => a * b, 1) * (src.dtype === DType.INT32 ? 4 : 1) + 15) & ~15;
    }
    out.push(copy);
    map.set(t, out.length - 1);
    return out.length - 1;
  };
  const inputs = op.inputs.map(take);
  const outputs = op.outputs.map(take);
  const graphInputs = inputs.filter((t) => t >= 0 && out[t].kind === TensorKind.ARENA);
  return {
    tensors: out, ops: [{ ...op, inputs, outputs, scratch: -1 }], inputs: graphInputs, outputs,
    plan: { arenaBytes: arena + 16 }, meta: { name: "layer", version: "0.0.0" }, golden: [],
  };
}
