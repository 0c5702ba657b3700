// Lowering of the weight-carrying and spatial nodes: conv (regular and depthwise), fc, pools and
// global average pooling. Constants follow TFLite Micro's Prepare (see host/format/quant-params.ts).

import { DType, Opcode } from "../../../host/format/opcodes.js";
import * as Q from "../../../host/format/quant-params.js";
import { FNode, numel } from "../import/onnx/float-graph.js";
import { Lowering, QParam, sameStorage } from "./lower.js";
import { emitElementwise } from "./lower-elem.js";
import { quantizeBias, quantizeWeights } from "./weights.js";

const NHWC = [0, 2, 3, 1];

export function emitNode(L: Lowering, n: FNode): void {
  switch (n.kind) {
    case "conv": return conv(L, n);
    case "fc": return fc(L, n);
    case "maxpool": case "avgpool": return pool(L, n);
    case "gap": return gap(L, n);
    default: return emitElementwise(L, n);
  }
}

/** The clamp of a fused ReLU/Clip (or none) on the output's quantization. */
export function actRange(act: FNode | undefined, p: QParam): [number, number] {
  if (!act) return [-128, 127];
  if (act.kind === "relu") {
    const r = Q.activationRange("relu", p.scale, p.zp);
    return [r.actMin, r.actMax];
  }
  return clampRange(act.min ?? -Infinity, act.max ?? Infinity, p);
}

export function clampRange(min: number, max: number, p: QParam): [number, number] {
  const q = (v: number) => p.zp + Q.roundHalfAway(Math.fround(Math.fround(v) / Math.fround(p.scale)));
  const lo = Number.isFinite(min) ? Math.max(-128, Math.min(127, q(min))) : -128;
  const hi = Number.isFinite(max) ? Math.min(127, Math.max(-128, q(max))) : 127;
  return [lo, Math.max(lo, hi)];
}

/** Input of a spatial op: NHWC storage, batch 1. */
function spatialInput(L: Lowering, n: FNode): { idx: number; shape: number[]; q: QParam } {
  const name = n.inputs[0];
  const lt = L.get(name);
  const shape = L.g.tensor(name).shape;
  if (shape.length !== 4 || !sameStorage(shape, lt.perm, NHWC)) L.fail(n, "the input is not an NCHW activation (a Transpose before it does not fold away)", { actual: lt.perm });
  if (shape[0] !== 1) L.fail(n, `batch ${shape[0]} is not supported by the runtime's spatial ops (batch 1)`);
  return { idx: lt.idx, shape, q: L.qOf(name) };
}

function i32const(L: Lowering, name: string, v: Int32Array): number {
  return L.out.addConstant(name, DType.INT32, [v.length], new Uint8Array(v.buffer.slice(0)));
}

function conv(L: Lowering, n: FNode): void {
  const x = spatialInput(L, n);
  const act = L.act.get(n);
  const outName = act ? act.output : n.output;
  const outQ = L.qOf(outName);
  const wt = L.g.tensor(n.inputs[1]), bt = n.inputs[2] ? L.g.tensor(n.inputs[2]) : undefined;
  const [O, Cg, KH, KW] = wt.shape, C = x.shape[1];
  const { strides, pads, dilations, group } = n.conv!;
  const depthwise = group > 1 && group === C && Cg === 1;
  if (group !== 1 && !depthwise) L.fail(n, `grouped convolution (group ${group} of ${C} channels) is not supported; only regular and depthwise`);
  const w = quantizeWeights(wt, O, bt?.data, x.q.scale);
  const filter = new Int8Array(O * KH * KW * Cg);
  for (let o = 0; o < O; o++) for (let c = 0; c < Cg; c++) for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
    const v = w.ints[((o * Cg + c) * KH + ky) * KW + kx];
    if (depthwise) filter[(ky * KW + kx) * O + o] = v;
    else filter[((o * KH + ky) * KW + kx) * Cg + c] = v;
  }
  const g = L.out;
  const fIdx = g.addConstant(`${n.output}/filter`, DType.INT8, depthwise ? [1, KH, KW, O] : [O, KH, KW, Cg], new Uint8Array(filter.buffer));
  Object.assign(g.tensors[fIdx], { channelScales: w.scales, quantAxis: depthwise ? 3 : 0 });
  const bias = quantizeBias(bt, O, x.q.scale, w.scales);
  const [mult, shift] = multipliers(L, n.output, x.q.scale, w.scales, outQ.scale);
  const [lo, hi] = actRange(act, outQ);
  const y = L.declare(outName, NHWC);
  L.push(n, {
    opcode: depthwise ? Opcode.DEPTHWISE_CONV_2D : Opcode.CONV_2D, inputs: [x.idx, fIdx, i32const(L, `${n.output}/bias`, bias), mult, shift], outputs: [y.idx],
    params: [strides[0], strides[1], dilations[0], dilations[1], pads[0], pads[1], -x.q.zp, outQ.zp, lo, hi, depthwise ? O / C : 1],
  });
}

/** Per-channel requantization constants: QuantizeMultiplier(inScale x wScale / outScale). */
function multipliers(L: Lowering, name: string, inScale: number, wScales: Float32Array, outScale: number): [number, number] {
  const q = Q.requantBytes(Array.from(wScales, (ws) => Q.quantizeMultiplier((Math.fround(inScale) * ws) / Math.fround(outScale))));
  return [L.out.addConstant(`${name}/multipliers`, DType.INT32, [wScales.length], q.mult),
    L.out.addConstant(`${name}/shifts`, DType.INT8, [wScales.length], q.shift)];
}

function fc(L: Lowering, n: FNode): void {
  const xName = n.inputs[0];
  const x = L.get(xName), xShape = L.g.tensor(xName).shape;
  const identity = xShape.map((_, i) => i);
  if (!x.colPerm && !sameStorage(xShape, x.perm, identity)) L.fail(n, "the input's layout does not match the weights (a Transpose or NCHW flatten does not fold away)");
  const act = L.act.get(n);
  const outName = act ? act.output : n.output;
  const outQ = L.qOf(outName), inQ = L.qOf(xName);
  const wt = L.g.tensor(n.inputs[1]), bt = n.inputs[2] ? L.g.tensor(n.inputs[2]) : undefined;
  const [N, K] = wt.shape;
  const w = quantizeWeights(wt, N, bt?.data, inQ.scale);
  let ints = w.ints;
  if (x.colPerm) {
    // The input is an NHWC tensor flattened in storage order: reorder the weight columns to match.
    const cp = x.colPerm;
    ints = new Int8Array(N * K);
    for (let o = 0; o < N; o++) for (let j = 0; j < K; j++) ints[o * K + j] = w.ints[o * K + cp[j]];
  }
  const g = L.out;
  const wIdx = g.addConstant(`${n.output}/weights`, DType.INT8, [N, K], new Uint8Array(ints.buffer));
  Object.assign(g.tensors[wIdx], { channelScales: w.scales, quantAxis: 0 });
  const bias = quantizeBias(bt, N, inQ.scale, w.scales);
  const [mult, shift] = multipliers(L, n.output, inQ.scale, w.scales, outQ.scale);
  const [lo, hi] = actRange(act, outQ);
  const outShape = L.g.tensor(outName).shape;
  const y = L.declare(outName, outShape.map((_, i) => i));
  L.push(n, { opcode: Opcode.FULLY_CONNECTED, inputs: [x.idx, wIdx, i32const(L, `${n.output}/bias`, bias), mult, shift], outputs: [y.idx], params: [-inQ.zp, outQ.zp, lo, hi] });
}

function pool(L: Lowering, n: FNode): void {
  const x = spatialInput(L, n);
  const { kernel, strides, pads, countIncludePad } = n.pool!;
  let input = x.idx, [pt, pl] = pads;
  if (n.kind === "avgpool" && countIncludePad && pads.some((p) => p > 0)) {
    // ONNX counts the padding in the average; the runtime's average excludes it: pad explicitly.
    const [, C, H, W] = x.shape;
    const padded = L.temp(`${n.output}/padded`, [1, H + pads[0] + pads[2], W + pads[1] + pads[3], C], x.q);
    L.push(n, { opcode: Opcode.PAD, inputs: [x.idx], outputs: [padded], params: [0, pads[0], pads[1], 0, 0, pads[2], pads[3], 0, x.q.zp] });
    input = padded;
    pt = pl = 0;
  }
  withInputQuant(L, n, x.q, (out) => L.push(n, {
    opcode: n.kind === "maxpool" ? Opcode.MAX_POOL_2D : Opcode.AVERAGE_POOL_2D, inputs: [input], outputs: [out],
    params: [strides[0], strides[1], kernel[0], kernel[1], pt, pl, -128, 127],
  }), NHWC);
}

/**
 * Ops whose output must keep the input's quantization (pools, pad, reshape): writes into a tensor
 * with the input's parameters and requantizes when the model gave the output its own.
 */
export function withInputQuant(L: Lowering, n: FNode, inQ: QParam, emit: (out: number) => void, perm: number[]): void {
  const outQ = L.q.get(n.output) ?? inQ;
  if (outQ.scale === inQ.scale && outQ.zp === inQ.zp) {
    emit(L.declare(n.output, perm, inQ).idx);
    return;
  }
  const shape = L.g.tensor(n.output).shape;
  const tmp = L.temp(`${n.output}/same_quant`, perm.map((d) => shape[d]), inQ);
  emit(tmp);
  requantOp(L, n, tmp, inQ, L.declare(n.output, perm, outQ).idx, outQ);
}

export function requantOp(L: Lowering, n: FNode | undefined, from: number, inQ: QParam, to: number, outQ: QParam): void {
  const m = Q.requantizeParams(inQ.scale, outQ.scale);
  L.push(n, { opcode: Opcode.QUANTIZE, inputs: [from], outputs: [to], params: [1, 0, inQ.zp, outQ.zp, m.mult, m.shift] });
}

function gap(L: Lowering, n: FNode): void {
  const name = n.inputs[0];
  const lt = L.get(name), shape = L.g.tensor(name).shape;
  if (!sameStorage(shape, lt.perm, NHWC)) L.fail(n, "the input is not an NCHW activation");
  const inQ = L.qOf(name), outQ = L.qOf(n.output);
  const m = Q.quantizeMultiplier(Math.fround(inQ.scale) / Math.fround(outQ.scale));
  const y = L.declare(n.output, NHWC);
  void numel;
  L.push(n, { opcode: Opcode.MEAN, inputs: [lt.idx], outputs: [y.idx], params: [0b0110, inQ.zp, outQ.zp, m.mult, m.shift] });
}
