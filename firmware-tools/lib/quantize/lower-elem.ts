// Lowering of the elementwise and data-movement nodes: add, mul, the activations, softmax,
// concat, reshape, transpose, pad and requant. Layout rules: an op keeps its input's storage
// order; Transpose only relabels (its output gets a new storage order); Reshape only relabels
// when the bytes are already in the new shape's order, or when its 2-D result feeds fully
// connected layers whose weight columns can be reordered instead.

import { DType, Opcode } from "../../../host/format/opcodes.js";
import * as Q from "../../../host/format/quant-params.js";
import { addWords } from "../import/tflite.js";
import { FNode, numel } from "../import/onnx/float-graph.js";
import { toStorage } from "./tensor-util.js";
import { Lowering, QParam, f32bits, sameStorage } from "./lower.js";
import { actRange, clampRange, requantOp, withInputQuant } from "./lower-ops.js";

export function emitElementwise(L: Lowering, n: FNode): void {
  switch (n.kind) {
    case "add": case "mul": return binary(L, n);
    case "relu": case "clip": case "leakyrelu": return leaky(L, n);
    case "sigmoid": case "tanh": return sigmoidTanh(L, n);
    case "hardswish": return hardSwish(L, n);
    case "softmax": return softmax(L, n);
    case "concat": return concat(L, n);
    case "reshape": return reshape(L, n);
    case "transpose": return transpose(L, n);
    case "pad": return pad(L, n);
    case "requant": return requant(L, n);
    default: L.fail(n, "unexpected node kind");
  }
}

/** Operand of a broadcasting op, stored in the output's order with the output's rank. */
function operand(L: Lowering, n: FNode, name: string, outShape: number[], outPerm: number[]): { idx: number; q: QParam } {
  const t = L.g.tensor(name);
  const padded = [...new Array(outShape.length - t.shape.length).fill(1), ...t.shape];
  const stored = outPerm.map((d) => padded[d]);
  if (t.data) {
    const q = constQuant(L, name);
    const vals = toStorage(t.quant?.ints ? Array.from(t.quant.ints, (v) => v + q.zp) : Array.from(t.data, (v) => Q.roundHalfAway(v / q.scale) + q.zp), padded, outPerm);
    const idx = L.out.addConstant(`${n.output}/${name}`, DType.INT8, stored, new Uint8Array(Int8Array.from(vals, (v) => Math.max(-128, Math.min(127, v))).buffer));
    Object.assign(L.out.tensors[idx], { scale: q.scale, zeroPoint: q.zp });
    return { idx, q };
  }
  const lt = L.get(name);
  const off = outShape.length - t.shape.length;
  const mine = lt.perm.map((d) => d + off).filter((d) => padded[d] !== 1);
  const want = outPerm.filter((d) => padded[d] !== 1);
  if (mine.length !== want.length || mine.some((d, i) => d !== want[i])) L.fail(n, `operand ${name} is stored in an order that does not broadcast against the other operand`);
  const cur = L.out.tensors[lt.idx].shape;
  if (cur.length === stored.length && cur.every((d, i) => d === stored[i])) return { idx: lt.idx, q: L.qOf(name) };
  const q = L.qOf(name);
  const r = L.temp(`${n.output}/${name}/bcast`, stored, q);
  L.push(n, { opcode: Opcode.RESHAPE, inputs: [lt.idx], outputs: [r], params: [] });
  return { idx: r, q };
}

/** Quantization of a constant used as an activation: the model's own, else its min/max. */
function constQuant(L: Lowering, name: string): QParam {
  const given = L.q.get(name);
  if (given) return given;
  const t = L.g.tensor(name);
  if (t.quant && t.quant.sourceType !== "int32") return { scale: t.quant.scale[0], zp: t.quant.zeroPoint[0] };
  let lo = 0, hi = 0;
  for (const v of t.data!) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return rangeToQ(lo, hi);
}

export function rangeToQ(lo: number, hi: number): QParam {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  const scale = Math.fround(Math.max((hi - lo) / 255, 1e-8));
  const zp = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zp };
}

function outPermFor(L: Lowering, n: FNode): number[] {
  const outShape = L.g.tensor(n.output).shape;
  for (const i of n.inputs) {
    if (!L.g.isConstant(i) && L.g.tensor(i).shape.length === outShape.length) return L.get(i).perm;
  }
  const r = outShape.length;
  return r === 4 ? [0, 2, 3, 1] : Array.from({ length: r }, (_, i) => i);
}

function binary(L: Lowering, n: FNode): void {
  const outShape = L.g.tensor(n.output).shape, perm = outPermFor(L, n);
  const a = operand(L, n, n.inputs[0], outShape, perm), b = operand(L, n, n.inputs[1], outShape, perm);
  const act = L.act.get(n);
  const outName = act ? act.output : n.output;
  const o = L.qOf(outName);
  const [lo, hi] = actRange(act, o);
  const y = L.declare(outName, perm, o, outShape);
  const params = n.kind === "add" ? addWords(Q.addParams(a.q.scale, a.q.zp, b.q.scale, b.q.zp, o.scale, o.zp, lo, hi)) : Q.mulParams(a.q.scale, a.q.zp, b.q.scale, b.q.zp, o.scale, o.zp, lo, hi);
  L.push(n, { opcode: n.kind === "add" ? Opcode.ADD : Opcode.MUL, inputs: [a.idx, b.idx], outputs: [y.idx], params });
}

/** Standalone ReLU (alpha 0), Clip (alpha 1 and a clamp) and LeakyRelu: all one LEAKY_RELU. */
function leaky(L: Lowering, n: FNode): void {
  const x = L.get(n.inputs[0]), i = L.qOf(n.inputs[0]), o = L.qOf(n.output);
  const alpha = n.kind === "relu" ? 0 : n.kind === "clip" ? 1 : n.alpha ?? 0.01;
  const [lo, hi] = n.kind === "clip" ? clampRange(n.min ?? -Infinity, n.max ?? Infinity, o) : [-128, 127];
  const y = L.declare(n.output, x.perm, o);
  L.push(n, { opcode: Opcode.LEAKY_RELU, inputs: [x.idx], outputs: [y.idx], params: Q.leakyReluParams(i.scale, i.zp, o.scale, o.zp, alpha, lo, hi) });
}

/** An op with a fixed output quantization; requantized when the model gave the output another. */
function fixedOut(L: Lowering, n: FNode, fixed: QParam, emit: (out: number) => void, perm: number[]): void {
  const given = L.q.get(n.output) ?? fixed;
  if (given.scale === fixed.scale && given.zp === fixed.zp) {
    emit(L.declare(n.output, perm, fixed).idx);
    return;
  }
  const shape = L.g.tensor(n.output).shape;
  const tmp = L.temp(`${n.output}/fixed_quant`, perm.map((d) => shape[d]), fixed);
  emit(tmp);
  requantOp(L, n, tmp, fixed, L.declare(n.output, perm, given).idx, given);
}

export const SIGMOID_Q: QParam = { scale: 1 / 256, zp: -128 };
export const TANH_Q: QParam = { scale: 1 / 128, zp: 0 };

function sigmoidTanh(L: Lowering, n: FNode): void {
  const x = L.get(n.inputs[0]), i = L.qOf(n.inputs[0]);
  const params = Q.sigmoidTanhParams(i.scale, i.zp);
  fixedOut(L, n, n.kind === "sigmoid" ? SIGMOID_Q : TANH_Q, (out) => L.push(n, { opcode: n.kind === "sigmoid" ? Opcode.LOGISTIC : Opcode.TANH, inputs: [x.idx], outputs: [out], params }), x.perm);
}

function hardSwish(L: Lowering, n: FNode): void {
  const x = L.get(n.inputs[0]), i = L.qOf(n.inputs[0]), o = L.qOf(n.output);
  const y = L.declare(n.output, x.perm, o);
  L.push(n, { opcode: Opcode.HARD_SWISH, inputs: [x.idx], outputs: [y.idx], params: Q.hardSwishParams(i.scale, i.zp, o.scale, o.zp) });
}

function softmax(L: Lowering, n: FNode): void {
  const name = n.inputs[0], x = L.get(name), shape = L.g.tensor(name).shape, r = shape.length;
  const reduced = n.legacy ? Array.from({ length: r - n.axis! }, (_, k) => n.axis! + k) : [n.axis!];
  // The reduced dims must be the innermost stored dims (unit dims aside): the runtime reduces the last.
  const nz = x.perm.filter((d) => shape[d] !== 1);
  const tail = nz.slice(nz.length - reduced.filter((d) => shape[d] !== 1).length);
  if (!reduced.filter((d) => shape[d] !== 1).every((d) => tail.includes(d))) L.fail(n, "the softmax axis is not the innermost stored dimension");
  const depth = numel(reduced.map((d) => shape[d])), outer = numel(shape) / depth;
  const p = Q.softmaxParams(1, L.qOf(name).scale);
  const flat = L.temp(`${n.output}/rows`, [outer, depth], L.qOf(name));
  L.push(n, { opcode: Opcode.RESHAPE, inputs: [x.idx], outputs: [flat], params: [] });
  const rows = L.temp(`${n.output}/softmax_rows`, [outer, depth], SIGMOID_Q);
  L.push(n, { opcode: Opcode.SOFTMAX, inputs: [flat], outputs: [rows], params: [p.inputMult, p.inputLeftShift, p.diffMin] });
  fixedOut(L, n, SIGMOID_Q, (out) => L.push(n, { opcode: Opcode.RESHAPE, inputs: [rows], outputs: [out], params: [] }), x.perm);
}

function concat(L: Lowering, n: FNode): void {
  const outShape = L.g.tensor(n.output).shape, perm = outPermFor(L, n), o = L.qOf(n.output);
  const ins = n.inputs.map((i) => operand(L, n, i, outShape, perm));
  const params = [perm.indexOf(n.axis!)];
  for (const x of ins) {
    const same = x.q.scale === o.scale && x.q.zp === o.zp;
    const r = Q.concatRequantParams(x.q.scale, x.q.zp, o.scale);
    params.push(same ? 0 : 1, f32bits(r.scale), f32bits(r.bias));
  }
  const y = L.declare(n.output, perm, o);
  L.push(n, { opcode: Opcode.CONCATENATION, inputs: ins.map((x) => x.idx), outputs: [y.idx], params });
}

function reshape(L: Lowering, n: FNode): void {
  const name = n.inputs[0], x = L.get(name), xs = L.g.tensor(name).shape, ys = L.g.tensor(n.output).shape;
  const identity = ys.map((_, i) => i);
  const inQ = L.qOf(name);
  const emitTo = (out: number) => L.push(n, { opcode: Opcode.RESHAPE, inputs: [x.idx], outputs: [out], params: [] });
  if (sameStorage(xs, x.perm, xs.map((_, i) => i))) return withInputQuant(L, n, inQ, emitTo, ys.length === 4 && !x.colPerm ? identityOr4(L, n) : identity);
  const fcOnly = L.g.consumers(n.output).every((c) => c.kind === "fc" && c.inputs[0] === n.output) && !L.g.outputs.includes(n.output);
  if (ys.length === 2 && ys[0] === xs[0] && fcOnly) {
    // Flatten of an NHWC-stored tensor into fully connected layers: storage column j holds
    // ONNX column colPerm[j]; the fc lowering reorders its weights instead of moving data.
    const inner = xs.slice(1), perm = x.perm.slice(1).map((d) => d - 1);
    const colPerm = Int32Array.from(toStorage(Array.from({ length: numel(inner) }, (_, k) => k), inner, perm));
    withInputQuant(L, n, inQ, emitTo, identity);
    L.get(n.output).colPerm = colPerm;
    return;
  }
  L.fail(n, "a Reshape/Flatten of an NCHW tensor that feeds something other than fully connected layers does not fold away");
}

/** A 4-D reshape result keeps ONNX order (identity), unless it is consumed as NCHW by spatial ops. */
function identityOr4(L: Lowering, n: FNode): number[] {
  const ys = L.g.tensor(n.output).shape;
  const nhwc = [0, 2, 3, 1];
  // ONNX order == NHWC bytes only when C == 1 or H == W == 1.
  return sameStorage(ys, nhwc, [0, 1, 2, 3]) ? nhwc : [0, 1, 2, 3];
}

function transpose(L: Lowering, n: FNode): void {
  const name = n.inputs[0], x = L.get(name), perm = n.perm!;
  const inv = perm.map((_, i) => perm.indexOf(i));
  // Output storage dim j is input storage dim j: same bytes, new labels.
  const yPerm = x.perm.map((d) => inv[d]);
  withInputQuant(L, n, L.qOf(name), (out) => L.push(n, { opcode: Opcode.RESHAPE, inputs: [x.idx], outputs: [out], params: [] }), yPerm);
}

function pad(L: Lowering, n: FNode): void {
  const name = n.inputs[0], x = L.get(name), r = L.g.tensor(name).shape.length;
  if (r > 4) L.fail(n, "pad of more than 4 dimensions");
  const inQ = L.qOf(name);
  const before = [0, 0, 0, 0], after = [0, 0, 0, 0];
  x.perm.forEach((d, j) => { before[j] = n.pads![d]; after[j] = n.pads![r + d]; });
  const value = Math.max(-128, Math.min(127, inQ.zp + Q.roundHalfAway((n.padValue ?? 0) / inQ.scale)));
  withInputQuant(L, n, inQ, (out) => L.push(n, { opcode: Opcode.PAD, inputs: [x.idx], outputs: [out], params: [...before, ...after, value] }), x.perm);
}

function requant(L: Lowering, n: FNode): void {
  const name = n.inputs[0], x = L.get(name), i = L.qOf(name), o = L.qOf(n.output);
  const y = L.declare(n.output, x.perm, o);
  if (i.scale === o.scale && i.zp === o.zp) L.push(n, { opcode: Opcode.RESHAPE, inputs: [x.idx], outputs: [y.idx], params: [] });
  else requantOp(L, n, x.idx, i, y.idx, o);
}
