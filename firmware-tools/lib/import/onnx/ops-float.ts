// Float ONNX operators -> float-graph nodes, with static shape inference. ONNX semantics are kept
// (NCHW); Gemm and MatMul become "fc" with [out, in] weights, BatchNormalization folds into the
// convolution before it (or becomes a depthwise 1x1 convolution), Identity and Dropout become
// copies that a later pass removes.

import { broadcastShapes, FixedQuant, numel } from "./float-graph.js";
import { addFloatConst, constValues, Ctx, emit, fail, input, output, shapeOf, Translator } from "./import.js";
import { attrFloat, attrInt, attrInts, attrString } from "./proto.js";
import { convOutSize, resolvePads } from "./shapes.js";

export function need(ctx: Ctx, k: number, what: string): string {
  const v = input(ctx, k);
  if (!v) fail(ctx, `${what} (input ${k}) is missing`);
  return v;
}

function spatialAttrs(ctx: Ctx, x: number[], kernel: number[]): { strides: number[]; dilations: number[]; pads: number[]; out: number[] } {
  const nd = kernel.length;
  if (nd !== 2 || x.length !== 4) fail(ctx, `only 2-D spatial ops on 4-D NCHW tensors are supported (got ${x.length}-D input)`, { actual: x });
  const strides = attrInts(ctx.node, "strides") ?? [1, 1];
  const dilations = attrInts(ctx.node, "dilations") ?? [1, 1];
  const ceil = attrInt(ctx.node, "ceil_mode", 0) === 1;
  const pads = resolvePads(attrString(ctx.node, "auto_pad", "NOTSET"), attrInts(ctx.node, "pads"), x.slice(2), kernel, strides, dilations);
  const out = [0, 1].map((i) => convOutSize(x[2 + i], kernel[i], strides[i], dilations[i], pads[i], pads[i + 2], ceil));
  if (out.some((o) => o < 1)) fail(ctx, "the output would be empty", { actual: out });
  return { strides, dilations, pads, out };
}

const conv: Translator = (ctx) => {
  const x = need(ctx, 0, "X"), w = need(ctx, 1, "W"), b = input(ctx, 2);
  convNode(ctx, x, w, b);
};

/** Emits a conv node after checking weights, bias and geometry (shared with QLinearConv/ConvInteger). */
export function convNode(ctx: Ctx, x: string, w: string, b: string | undefined, quant?: FixedQuant): void {
  if (!ctx.g.isConstant(w)) fail(ctx, "the weights must be constant");
  if (b && !ctx.g.isConstant(b)) fail(ctx, "the bias must be constant");
  const xs = shapeOf(ctx, x), ws = shapeOf(ctx, w);
  const group = attrInt(ctx.node, "group", 1);
  if (ws.length !== 4 || ws[1] * group !== xs[1] || ws[0] % group !== 0) fail(ctx, "weights do not match the input channels and group", { expected: xs[1], actual: ws });
  const a = spatialAttrs(ctx, xs, ws.slice(2));
  emit(ctx, { kind: "conv", inputs: b ? [x, w, b] : [x, w], output: output(ctx), conv: { strides: a.strides, pads: a.pads, dilations: a.dilations, group } }, [xs[0], ws[0], ...a.out], quant);
}

function pool(kind: "maxpool" | "avgpool"): Translator {
  return (ctx) => {
    if ((ctx.node.output ?? []).filter(Boolean).length > 1) fail(ctx, "the Indices output is not supported");
    const x = need(ctx, 0, "X"), xs = shapeOf(ctx, x);
    const kernel = attrInts(ctx.node, "kernel_shape");
    if (!kernel) fail(ctx, "kernel_shape is missing");
    const a = spatialAttrs(ctx, xs, kernel);
    if (a.dilations.some((d) => d !== 1)) fail(ctx, "dilated pooling is not supported");
    const countIncludePad = attrInt(ctx.node, "count_include_pad", 0) === 1;
    emit(ctx, { kind, inputs: [x], output: output(ctx), pool: { kernel, strides: a.strides, pads: a.pads, countIncludePad } }, [xs[0], xs[1], ...a.out]);
  };
}

const gap: Translator = (ctx) => {
  const x = need(ctx, 0, "X"), xs = shapeOf(ctx, x);
  if (xs.length !== 4) fail(ctx, "only 4-D NCHW input is supported", { actual: xs });
  emit(ctx, { kind: "gap", inputs: [x], output: output(ctx) }, [xs[0], xs[1], 1, 1]);
};

function binary(kind: "add" | "mul"): Translator {
  return (ctx) => binaryNode(ctx, kind, need(ctx, 0, "A"), need(ctx, 1, "B"));
}

export function binaryNode(ctx: Ctx, kind: "add" | "mul", a: string, b: string, quant?: FixedQuant): void {
  const shape = broadcastShapes(shapeOf(ctx, a), shapeOf(ctx, b));
  if (!shape) fail(ctx, "the operand shapes do not broadcast", { actual: [shapeOf(ctx, a), shapeOf(ctx, b)] });
  emit(ctx, { kind, inputs: [a, b], output: output(ctx) }, shape, quant);
}

function unary(kind: "relu" | "sigmoid" | "tanh" | "hardswish"): Translator {
  return (ctx) => {
    const x = need(ctx, 0, "X");
    emit(ctx, { kind, inputs: [x], output: output(ctx) }, shapeOf(ctx, x).slice());
  };
}

const leaky: Translator = (ctx) => {
  const x = need(ctx, 0, "X");
  emit(ctx, { kind: "leakyrelu", inputs: [x], output: output(ctx), alpha: Math.fround(attrFloat(ctx.node, "alpha", 0.01)) }, shapeOf(ctx, x).slice());
};

const clip: Translator = (ctx) => {
  const x = need(ctx, 0, "X");
  let min = -Infinity, max = Infinity;
  if (ctx.opset < 11) {
    min = attrFloat(ctx.node, "min", -Infinity);
    max = attrFloat(ctx.node, "max", Infinity);
  } else {
    if (input(ctx, 1)) min = constValues(ctx, input(ctx, 1), "min")[0];
    if (input(ctx, 2)) max = constValues(ctx, input(ctx, 2), "max")[0];
  }
  emit(ctx, { kind: "clip", inputs: [x], output: output(ctx), min, max }, shapeOf(ctx, x).slice());
};

const copy: Translator = (ctx) => {
  if ((ctx.node.output ?? []).filter(Boolean).length > 1) fail(ctx, "the mask output of Dropout is not supported");
  if (ctx.opType === "Dropout" && attrInt(ctx.node, "training_mode", 0) === 1) fail(ctx, "training mode is not supported");
  const x = need(ctx, 0, "input");
  emit(ctx, { kind: "reshape", inputs: [x], output: output(ctx) }, shapeOf(ctx, x).slice());
};

const flatten: Translator = (ctx) => {
  const x = need(ctx, 0, "input"), xs = shapeOf(ctx, x);
  let axis = attrInt(ctx.node, "axis", 1);
  if (axis < 0) axis += xs.length;
  if (axis < 0 || axis > xs.length) fail(ctx, "axis out of range", { actual: axis });
  emit(ctx, { kind: "reshape", inputs: [x], output: output(ctx) }, [numel(xs.slice(0, axis)), numel(xs.slice(axis))]);
};

const reshape: Translator = (ctx) => {
  const x = need(ctx, 0, "data"), xs = shapeOf(ctx, x);
  const spec = ctx.opset < 5 ? attrInts(ctx.node, "shape") ?? [] : constValues(ctx, input(ctx, 1), "shape");
  const allowZero = attrInt(ctx.node, "allowzero", 0) === 1;
  const shape = spec.map((d, i) => (d === 0 && !allowZero ? xs[i] : d));
  const known = numel(shape.filter((d) => d !== -1));
  const inferred = shape.map((d) => (d === -1 ? numel(xs) / known : d));
  if (numel(inferred) !== numel(xs) || inferred.some((d) => !Number.isInteger(d) || d < 0)) fail(ctx, "the new shape does not hold the input's elements", { expected: xs, actual: spec });
  emit(ctx, { kind: "reshape", inputs: [x], output: output(ctx) }, inferred);
};

const transpose: Translator = (ctx) => {
  const x = need(ctx, 0, "data"), xs = shapeOf(ctx, x);
  const perm = attrInts(ctx.node, "perm") ?? xs.map((_, i) => xs.length - 1 - i);
  emit(ctx, { kind: "transpose", inputs: [x], output: output(ctx), perm }, perm.map((p) => xs[p]));
};

const concat: Translator = (ctx) => {
  const ins = (ctx.node.input ?? []).filter(Boolean);
  const shapes = ins.map((i) => shapeOf(ctx, i));
  let axis = attrInt(ctx.node, "axis", 1);
  if (axis < 0) axis += shapes[0].length;
  const out = shapes[0].slice();
  out[axis] = shapes.reduce((s, sh) => s + sh[axis], 0);
  if (shapes.some((s) => s.length !== out.length || s.some((d, i) => i !== axis && d !== out[i]))) fail(ctx, "inputs differ outside the concatenation axis", { actual: shapes });
  emit(ctx, { kind: "concat", inputs: ins, output: output(ctx), axis }, out);
};

const pad: Translator = (ctx) => {
  const x = need(ctx, 0, "data"), xs = shapeOf(ctx, x);
  const mode = attrString(ctx.node, "mode", "constant");
  if (mode !== "constant") fail(ctx, `pad mode ${mode} is not supported (constant only)`);
  const pads = ctx.opset < 11 ? attrInts(ctx.node, "pads") ?? attrInts(ctx.node, "paddings") ?? [] : constValues(ctx, input(ctx, 1), "pads");
  const value = ctx.opset < 11 ? attrFloat(ctx.node, "value", 0) : input(ctx, 2) ? constValues(ctx, input(ctx, 2), "constant_value")[0] : 0;
  if (input(ctx, 3)) fail(ctx, "the axes input is not supported");
  if (pads.length !== 2 * xs.length || pads.some((p) => p < 0)) fail(ctx, "pads must be non-negative, two per dimension", { actual: pads });
  emit(ctx, { kind: "pad", inputs: [x], output: output(ctx), pads, padValue: value }, xs.map((d, i) => d + pads[i] + pads[i + xs.length]));
};

const softmax: Translator = (ctx) => {
  const x = need(ctx, 0, "input"), xs = shapeOf(ctx, x);
  const legacy = ctx.opset < 13;
  let axis = attrInt(ctx.node, "axis", legacy ? 1 : -1);
  if (axis < 0) axis += xs.length;
  if (axis < 0 || axis >= xs.length) fail(ctx, "axis out of range", { actual: axis });
  emit(ctx, { kind: "softmax", inputs: [x], output: output(ctx), axis, legacy }, xs.slice());
};

const gemm: Translator = (ctx) => {
  const a = need(ctx, 0, "A"), b = need(ctx, 1, "B"), c = input(ctx, 2);
  if (attrInt(ctx.node, "transA", 0) !== 0) fail(ctx, "transA is not supported");
  if (!ctx.g.isConstant(b)) fail(ctx, "B must be constant");
  const as = shapeOf(ctx, a), bs = shapeOf(ctx, b);
  const transB = attrInt(ctx.node, "transB", 0) === 1;
  const alpha = attrFloat(ctx.node, "alpha", 1), beta = attrFloat(ctx.node, "beta", 1);
  const [K, N] = transB ? [bs[1], bs[0]] : [bs[0], bs[1]];
  if (as.length !== 2 || as[1] !== K) fail(ctx, "A and B do not multiply", { expected: K, actual: as });
  const w = weightsNK(ctx.g.tensor(b).data!, K, N, transB, alpha);
  const inputs = [a, addFloatConst(ctx, `${output(ctx)}/weights`, [N, K], w)];
  if (c) {
    if (!ctx.g.isConstant(c)) fail(ctx, "C must be constant");
    const cs = shapeOf(ctx, c), cv = ctx.g.tensor(c).data!;
    if (numel(cs) !== 1 && numel(cs) !== N && !(numel(cs) === N * as[0] && as[0] === 1)) fail(ctx, "C must broadcast as one bias per output column", { actual: cs });
    const bias = Float32Array.from({ length: N }, (_, n) => beta * cv[numel(cs) === 1 ? 0 : n]);
    inputs.push(addFloatConst(ctx, `${output(ctx)}/bias`, [N], bias));
  }
  emit(ctx, { kind: "fc", inputs, output: output(ctx) }, [as[0], N]);
};

/** Weights as [N][K] (the runtime's fully-connected layout), scaled by alpha. */
export function weightsNK(src: Float32Array, K: number, N: number, transposed: boolean, alpha: number): Float32Array {
  const w = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) w[n * K + k] = alpha * (transposed ? src[n * K + k] : src[k * N + n]);
  return w;
}

const matmul: Translator = (ctx) => {
  const a = need(ctx, 0, "A"), b = need(ctx, 1, "B");
  if (!ctx.g.isConstant(b)) fail(ctx, "B must be constant (a matrix of weights)");
  const as = shapeOf(ctx, a), bs = shapeOf(ctx, b);
  if (bs.length !== 2 || as.length < 2 || as[as.length - 1] !== bs[0]) fail(ctx, "only [..., K] x [K, N] with a 2-D constant B is supported", { actual: [as, bs] });
  const w = weightsNK(ctx.g.tensor(b).data!, bs[0], bs[1], false, 1);
  const inputs = [a, addFloatConst(ctx, `${output(ctx)}/weights`, [bs[1], bs[0]], w)];
  emit(ctx, { kind: "fc", inputs, output: output(ctx) }, [...as.slice(0, -1), bs[1]]);
};

const batchnorm: Translator = (ctx) => {
  if ((ctx.node.output ?? []).filter(Boolean).length > 1 || attrInt(ctx.node, "training_mode", 0) === 1) fail(ctx, "training mode is not supported");
  const x = need(ctx, 0, "X"), xs = shapeOf(ctx, x);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((k) => constValues(ctx, input(ctx, k), ["", "scale", "B", "mean", "var"][k]));
  const eps = attrFloat(ctx.node, "epsilon", 1e-5);
  const C = xs[1];
  const mul = Float32Array.from({ length: C }, (_, c) => scale[c] / Math.sqrt(variance[c] + eps));
  const add = Float32Array.from({ length: C }, (_, c) => bias[c] - mean[c] * mul[c]);
  const prod = ctx.g.producer(x);
  if (prod && prod.kind === "conv" && ctx.g.consumers(x).length === 1 && !ctx.g.outputs.includes(x)) {
    foldIntoConv(ctx, prod, mul, add);
    return;
  }
  if (xs.length !== 4) fail(ctx, "only 4-D NCHW input is supported (or a BatchNormalization after a Conv)", { actual: xs });
  const w = addFloatConst(ctx, `${output(ctx)}/bn_weights`, [C, 1, 1, 1], mul);
  const b = addFloatConst(ctx, `${output(ctx)}/bn_bias`, [C], add);
  emit(ctx, { kind: "conv", inputs: [x, w, b], output: output(ctx), conv: { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: C } }, xs.slice());
};

/** conv(x) * mul + add per output channel == conv with scaled weights and bias. */
function foldIntoConv(ctx: Ctx, conv: { inputs: string[]; output: string; source: number[] }, mul: Float32Array, add: Float32Array): void {
  const g = ctx.g;
  const wt = g.tensor(conv.inputs[1]);
  const O = wt.shape[0], per = numel(wt.shape) / O;
  const w = Float32Array.from(wt.data!, (v, i) => v * mul[Math.floor(i / per)]);
  const oldB = conv.inputs[2] ? g.tensor(conv.inputs[2]).data! : new Float32Array(O);
  const b = Float32Array.from({ length: O }, (_, o) => oldB[o] * mul[o] + add[o]);
  const out = output(ctx);
  conv.inputs = [conv.inputs[0], addFloatConst(ctx, `${out}/folded_weights`, wt.shape, w), addFloatConst(ctx, `${out}/folded_bias`, [O], b)];
  const oldOut = conv.output;
  conv.output = out;
  conv.source.push(ctx.index);
  g.tensors.set(out, { ...g.tensor(oldOut), name: out });
  g.tensors.delete(oldOut);
}

export const FLOAT_OPS: Record<string, Translator> = {
  Conv: conv, Gemm: gemm, MatMul: matmul, BatchNormalization: batchnorm,
  MaxPool: pool("maxpool"), AveragePool: pool("avgpool"), GlobalAveragePool: gap,
  Add: binary("add"), Mul: binary("mul"),
  Relu: unary("relu"), Sigmoid: unary("sigmoid"), Tanh: unary("tanh"), HardSwish: unary("hardswish"), LeakyRelu: leaky, Clip: clip,
  Identity: copy, Dropout: copy, Flatten: flatten, Reshape: reshape, Transpose: transpose, Concat: concat, Pad: pad, Softmax: softmax,
};
