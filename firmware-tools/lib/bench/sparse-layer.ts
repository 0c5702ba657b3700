// One FULLY_CONNECTED or 1x1 CONV_2D layer with seeded random int8 data and per-channel
// requantization, as a Graph: the sparse kernel tests and the sparse benchmark prune its weights
// and compare the dense and the sparse encodings of the same layer.

import { DType, Opcode } from "../../../host/format/opcodes.js";
import { quantizeMultiplier, requantBytes } from "../../../host/format/quant-params.js";
import { Graph } from "../compile/graph.js";

export interface SparseLayerSpec {
  /** "conv": a k x k CONV_2D (k, pad, dil below). */
  kind: "fc" | "conv1x1" | "conv";
  K: number; // input channels
  N: number; // output channels
  /** fc: batches; conv1x1: input height and width, stride, and an optional fused residual ADD. */
  batches?: number;
  h?: number;
  w?: number;
  stride?: number;
  residual?: boolean;
  seed?: number;
  /** conv: filter size (default 3), padding at the top and left (default 0) and dilation (default 1). */
  k?: number;
  pad?: number;
  dil?: number;
}

/** xorshift32 in [0, 1). */
export function rng(seed: number): () => number {
  let x = (seed >>> 0) || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function int8s(n: number, r: () => number, lo = -127, hi = 127): Uint8Array {
  return new Uint8Array(Int8Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1))).buffer);
}

function i32s(v: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(v).buffer);
}

export function sparseLayerGraph(s: SparseLayerSpec): { g: Graph; weights: Int8Array; op: number } {
  const r = rng(s.seed ?? 1);
  const g = new Graph(`${s.kind}_${s.K}x${s.N}`);
  const inZp = Math.floor(r() * 41) - 20, outZp = Math.floor(r() * 21) - 10;
  const stride = s.stride ?? 1;
  const inShape = s.kind === "fc" ? [s.batches ?? 1, s.K] : [1, s.h ?? 1, s.w ?? 1, s.K];
  const k = s.kind === "conv" ? s.k ?? 3 : 1, pad = s.kind === "conv" ? s.pad ?? 0 : 0, dil = s.kind === "conv" ? s.dil ?? 1 : 1;
  const outSize = (n: number) => (s.kind === "conv" ? Math.floor((n + 2 * pad - dil * (k - 1) - 1) / stride) + 1 : Math.ceil(n / stride));
  const outH = outSize(s.h ?? 1), outW = outSize(s.w ?? 1);
  const outShape = s.kind === "fc" ? [s.batches ?? 1, s.N] : [1, outH, outW, s.N];
  const x = g.addArena("input", DType.INT8, inShape);
  Object.assign(g.tensors[x], { scale: 0.05, zeroPoint: inZp });
  const wShape = s.kind === "fc" ? [s.N, s.K] : [s.N, k, k, s.K];
  const wBytes = int8s(s.N * s.K * k * k, r);
  const w = g.addConstant("weights", DType.INT8, wShape, wBytes);
  const bias = g.addConstant("bias", DType.INT32, [s.N], i32s(Array.from({ length: s.N }, () => Math.floor(r() * 4001) - 2000)));
  // Output scale near the accumulator's spread, so outputs use the int8 range without saturating.
  const qs = Array.from({ length: s.N }, () => quantizeMultiplier((0.3 + r()) / (Math.sqrt(s.K * k * k) * 40 * 16)));
  const rq = requantBytes(qs);
  const mult = g.addConstant("mult", DType.INT32, [s.N], rq.mult);
  const shift = g.addConstant("shift", DType.INT8, [s.N], rq.shift);
  const y = g.addArena("output", DType.INT8, outShape);
  Object.assign(g.tensors[y], { scale: 0.1, zeroPoint: outZp });
  const inputs = [x, w, bias, mult, shift];
  let params = [-inZp, outZp, -128, 127];
  if (s.kind !== "fc") params = [stride, stride, dil, dil, pad, pad, -inZp, outZp, -100, 127, 1];
  if (s.residual) {
    const res = g.addArena("residual", DType.INT8, outShape);
    g.inputs.push(res);
    inputs.push(res);
    const a = quantizeMultiplier(0.5), b = quantizeMultiplier(0.4), o = quantizeMultiplier(1 / (2 * 0.6 * (1 << 20)));
    params = [...params, -outZp, 5, 20, a.mult, a.shift, b.mult, b.shift, o.mult, o.shift, 2, -128, 127];
  }
  g.inputs.unshift(x);
  g.outputs = [y];
  const opcode = s.kind === "fc" ? Opcode.FULLY_CONNECTED : Opcode.CONV_2D;
  g.ops.push({ opcode, inputs, outputs: [y], params, scratch: -1, source: [0] });
  return { g, weights: new Int8Array(wBytes.buffer), op: 0 };
}

/** Seeded input bytes for every graph input of a compiled model (concatenated order). */
export function randomInputs(sizes: number[], seed: number): Uint8Array[] {
  const r = rng(seed);
  return sizes.map((n) => int8s(n, r, -128, 127));
}
