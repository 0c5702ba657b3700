// The float reference executor: runs a float graph (ONNX semantics, NCHW) in plain TypeScript.
// It feeds calibration, is the float baseline for per-layer SQNR, and folds constants during
// import. A tensor that carries a pre-quantized model's quantization is fake-quantized after it
// is computed (round half to even, as ONNX QuantizeLinear), so a QDQ/QOperator graph computes what
// the quantized model means.

import { EdgerunError } from "../../../host/format/errors.js";
import { FGraph, FNode, FTensor, numel } from "../import/onnx/float-graph.js";
import { strides } from "./tensor-util.js";

type Get = (name: string) => Float32Array;

export function runFloat(g: FGraph, inputs: Record<string, Float32Array>, onTensor?: (name: string, v: Float32Array) => void): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const name of g.inputs) {
    const v = inputs[name];
    const t = g.tensor(name);
    if (!v || v.length !== numel(t.shape)) throw new EdgerunError("QUANT_BAD_INPUT", `input ${name} needs ${numel(t.shape)} values`, { expected: numel(t.shape), actual: v?.length ?? 0 });
    const fq = fakeQuant(t, v);
    values.set(name, fq);
    onTensor?.(name, fq);
  }
  const get: Get = (name) => {
    const v = values.get(name) ?? g.tensors.get(name)?.data;
    if (!v) throw new Error(`internal: ${name} has no value yet`);
    return v;
  };
  for (const n of g.nodes) {
    const out = fakeQuant(g.tensor(n.output), evalNode(g, n, get));
    values.set(n.output, out);
    onTensor?.(n.output, out);
  }
  return values;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function fakeQuant(t: FTensor, v: Float32Array): Float32Array {
  const q = t.quant;
  if (!q || q.sourceType === "int32" || t.data) return v;
  const s = q.scale[0], zp = q.zeroPoint[0];
  return Float32Array.from(v, (x) => (Math.min(127, Math.max(-128, roundHalfEven(x / s) + zp)) - zp) * s);
}

export function evalNode(g: FGraph, n: FNode, get: Get): Float32Array {
  const shapeOf = (name: string) => g.tensor(name).shape;
  const x = get(n.inputs[0]);
  const outShape = shapeOf(n.output);
  switch (n.kind) {
    case "conv": return conv(x, shapeOf(n.inputs[0]), get(n.inputs[1]), shapeOf(n.inputs[1]), n.inputs[2] ? get(n.inputs[2]) : undefined, outShape, n);
    case "fc": return fc(x, get(n.inputs[1]), shapeOf(n.inputs[1]), n.inputs[2] ? get(n.inputs[2]) : undefined);
    case "maxpool": case "avgpool": return pool(x, shapeOf(n.inputs[0]), outShape, n);
    case "gap": return gap(x, shapeOf(n.inputs[0]));
    case "add": case "mul": return binary(n.kind, x, shapeOf(n.inputs[0]), get(n.inputs[1]), shapeOf(n.inputs[1]), outShape);
    case "relu": return x.map((v) => Math.max(0, v));
    case "clip": return x.map((v) => Math.min(n.max ?? Infinity, Math.max(n.min ?? -Infinity, v)));
    case "leakyrelu": return x.map((v) => (v >= 0 ? v : v * (n.alpha ?? 0.01)));
    case "sigmoid": return x.map((v) => 1 / (1 + Math.exp(-v)));
    case "tanh": return x.map((v) => Math.tanh(v));
    case "hardswish": return x.map((v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)));
    case "reshape": case "requant": return x.slice();
    case "transpose": return transpose(x, shapeOf(n.inputs[0]), n.perm!);
    case "concat": return concat(n.inputs.map(get), n.inputs.map(shapeOf), n.axis!);
    case "pad": return pad(x, shapeOf(n.inputs[0]), outShape, n.pads!, n.padValue ?? 0);
    case "softmax": return softmax(x, shapeOf(n.inputs[0]), n.axis!, n.legacy ?? false);
  }
}

function conv(x: Float32Array, xs: number[], w: Float32Array, ws: number[], b: Float32Array | undefined, ys: number[], n: FNode): Float32Array {
  const [N, C, H, W] = xs, [O, Cg, KH, KW] = ws, [, , OH, OW] = ys;
  const { strides: [sh, sw], pads: [pt, pl], dilations: [dh, dw], group } = n.conv!;
  const Og = O / group;
  const y = new Float32Array(N * O * OH * OW);
  for (let b0 = 0; b0 < N; b0++) for (let o = 0; o < O; o++) {
    const gi = Math.floor(o / Og);
    for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      let acc = b ? b[o] : 0;
      for (let c = 0; c < Cg; c++) for (let ky = 0; ky < KH; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= H) continue;
        for (let kx = 0; kx < KW; kx++) {
          const ix = ox * sw - pl + kx * dw;
          if (ix < 0 || ix >= W) continue;
          acc += x[((b0 * C + gi * Cg + c) * H + iy) * W + ix] * w[((o * Cg + c) * KH + ky) * KW + kx];
        }
      }
      y[((b0 * O + o) * OH + oy) * OW + ox] = acc;
    }
  }
  return y;
}

function fc(x: Float32Array, w: Float32Array, ws: number[], b: Float32Array | undefined): Float32Array {
  const [N, K] = ws, M = x.length / K;
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) for (let o = 0; o < N; o++) {
    let acc = b ? b[o] : 0;
    for (let k = 0; k < K; k++) acc += x[m * K + k] * w[o * K + k];
    y[m * N + o] = acc;
  }
  return y;
}

function pool(x: Float32Array, xs: number[], ys: number[], n: FNode): Float32Array {
  const [N, C, H, W] = xs, [, , OH, OW] = ys;
  const { kernel: [KH, KW], strides: [sh, sw], pads: [pt, pl, pb, pr], countIncludePad } = n.pool!;
  const y = new Float32Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let acc = n.kind === "maxpool" ? -Infinity : 0, count = 0, padded = 0;
    for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
      const iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
      if (iy < H + pb && ix < W + pr && iy >= -pt && ix >= -pl) padded++;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const v = x[(p * H + iy) * W + ix];
      acc = n.kind === "maxpool" ? Math.max(acc, v) : acc + v;
      count++;
    }
    y[(p * OH + oy) * OW + ox] = n.kind === "maxpool" ? acc : acc / (countIncludePad ? padded : count);
  }
  return y;
}

function gap(x: Float32Array, xs: number[]): Float32Array {
  const [N, C, H, W] = xs, hw = H * W;
  return Float32Array.from({ length: N * C }, (_, p) => {
    let s = 0;
    for (let i = 0; i < hw; i++) s += x[p * hw + i];
    return s / hw;
  });
}

/** Index of the broadcast operand element for each output element. */
export function broadcastIndex(inShape: number[], outShape: number[]): Int32Array {
  const r = outShape.length, padded = [...new Array(r - inShape.length).fill(1), ...inShape];
  const st = strides(padded), total = numel(outShape);
  const idx = new Int32Array(total);
  const os = strides(outShape);
  for (let i = 0; i < total; i++) {
    let k = 0;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(i / os[d]) % outShape[d];
      if (padded[d] !== 1) k += c * st[d];
    }
    idx[i] = k;
  }
  return idx;
}

function binary(kind: "add" | "mul", a: Float32Array, as: number[], b: Float32Array, bs: number[], ys: number[]): Float32Array {
  const ia = broadcastIndex(as, ys), ib = broadcastIndex(bs, ys);
  return Float32Array.from(ia, (k, i) => (kind === "add" ? a[k] + b[ib[i]] : a[k] * b[ib[i]]));
}

export function transpose(x: Float32Array, xs: number[], perm: number[]): Float32Array {
  const ys = perm.map((p) => xs[p]), xst = strides(xs), yst = strides(ys);
  const y = new Float32Array(x.length);
  for (let i = 0; i < y.length; i++) {
    let k = 0;
    for (let d = 0; d < ys.length; d++) k += (Math.floor(i / yst[d]) % ys[d]) * xst[perm[d]];
    y[i] = x[k];
  }
  return y;
}

function concat(xs: Float32Array[], shapes: number[][], axis: number): Float32Array {
  const outer = numel(shapes[0].slice(0, axis));
  const parts = shapes.map((s) => numel(s.slice(axis)));
  const y = new Float32Array(outer * parts.reduce((a, b) => a + b, 0));
  let o = 0;
  for (let i = 0; i < outer; i++) xs.forEach((x, k) => { y.set(x.subarray(i * parts[k], (i + 1) * parts[k]), o); o += parts[k]; });
  return y;
}

function pad(x: Float32Array, xs: number[], ys: number[], pads: number[], value: number): Float32Array {
  const y = new Float32Array(numel(ys)).fill(value);
  const xst = strides(xs), yst = strides(ys), r = xs.length;
  for (let i = 0; i < x.length; i++) {
    let k = 0;
    for (let d = 0; d < r; d++) k += (Math.floor(i / xst[d]) % xs[d] + pads[d]) * yst[d];
    y[k] = x[i];
  }
  return y;
}

function softmax(x: Float32Array, xs: number[], axis: number, legacy: boolean): Float32Array {
  // legacy: one row = all dims from axis on; otherwise rows run along `axis` only.
  const outer = numel(xs.slice(0, axis)), inner = legacy ? 1 : numel(xs.slice(axis + 1));
  const depth = legacy ? numel(xs.slice(axis)) : xs[axis];
  const y = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const at = (k: number) => (o * depth + k) * inner + i;
    let m = -Infinity, s = 0;
    for (let k = 0; k < depth; k++) m = Math.max(m, x[at(k)]);
    for (let k = 0; k < depth; k++) s += Math.exp(x[at(k)] - m);
    for (let k = 0; k < depth; k++) y[at(k)] = Math.exp(x[at(k)] - m) / s;
  }
  return y;
}
