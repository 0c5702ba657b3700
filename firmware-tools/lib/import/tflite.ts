// TFLite int8 flatbuffer -> edgerun graph. Supports the int8 ops of the runtime and rejects
// anything else with the op name and index. Integer constants (multipliers, shifts,
// activation ranges) are computed here exactly as TFLite Micro computes them in Prepare.

import { EdgerunError } from "../../../host/format/errors.js";
import { DType, Opcode, QuantMode, TensorKind } from "../../../host/format/opcodes.js";
import type { ErmTensor } from "../../../host/format/erm-types.js";
import * as Q from "../../../host/format/quant-params.js";
import { Graph, GraphOp } from "../compile/graph.js";
import {
  ADD_OPTS, Activation, BUFFER, BUILTIN, CONCAT_OPTS, CONV_OPTS, DW_OPTS, FC_OPTS, FbTable, MODEL, OPERATOR, OPERATOR_CODE,
  POOL_OPTS, Padding, QUANT, REDUCER_OPTS, SOFTMAX_OPTS, SUBGRAPH, TENSOR, TflType, builtinName, rootTable,
} from "./tflite-schema.js";

const DTYPES: Partial<Record<TflType, DType>> = {
  [TflType.INT8]: DType.INT8, [TflType.UINT8]: DType.UINT8, [TflType.INT16]: DType.INT16,
  [TflType.INT32]: DType.INT32, [TflType.FLOAT32]: DType.FLOAT32,
};

interface Ctx { graph: Graph; tfl: FbTable[]; buffers: FbTable[]; opIndex: number; opName: string }

export function importTflite(bytes: Uint8Array, name = "model"): Graph {
  const model = rootTable(bytes);
  const subgraphs = model.tables(MODEL.subgraphs);
  if (subgraphs.length !== 1) throw new EdgerunError("CONVERT_UNSUPPORTED", "only single-subgraph models are supported", { actual: subgraphs.length });
  const sg = subgraphs[0];
  const codes = model.tables(MODEL.operatorCodes).map((c) => Math.max(c.int8(OPERATOR_CODE.deprecatedBuiltinCode), c.int32(OPERATOR_CODE.builtinCode)));
  const buffers = model.tables(MODEL.buffers);
  const tfl = sg.tables(SUBGRAPH.tensors);
  const graph = new Graph(name);
  tfl.forEach((t, i) => graph.tensors.push(importTensor(t, i, buffers)));
  graph.inputs = sg.int32s(SUBGRAPH.inputs);
  graph.outputs = sg.int32s(SUBGRAPH.outputs);
  sg.tables(SUBGRAPH.operators).forEach((op, index) => {
    const codeIndex = op.uint32(OPERATOR.opcodeIndex);
    if (codeIndex >= codes.length) throw new EdgerunError("TFLITE_MALFORMED", "operator code index out of range", { op: index, actual: codeIndex });
    const code = codes[codeIndex];
    const ctx: Ctx = { graph, tfl, buffers, opIndex: index, opName: builtinName(code) };
    const inputs = op.int32s(OPERATOR.inputs);
    const outputs = op.int32s(OPERATOR.outputs);
    for (const t of [...inputs, ...outputs]) {
      if (t < -1 || t >= graph.tensors.length) throw new EdgerunError("TFLITE_MALFORMED", "operator refers to a missing tensor", { op: index, opName: ctx.opName, actual: t });
    }
    const opts = op.table(OPERATOR.builtinOptions);
    graph.ops.push(importOp(ctx, code, inputs, outputs, opts));
  });
  return graph;
}

function importTensor(t: FbTable, index: number, buffers: FbTable[]): ErmTensor {
  const type = t.int8(TENSOR.type) as TflType;
  const shape = t.int32s(TENSOR.shape);
  const name = t.string(TENSOR.name) || `tensor${index}`;
  const dtype = DTYPES[type];
  const q = t.table(TENSOR.quantization);
  const scales = q ? q.float32s(QUANT.scale) : [];
  const zps = q ? q.int64s(QUANT.zeroPoint) : [];
  const bufIndex = t.uint32(TENSOR.buffer);
  const data = bufIndex > 0 && bufIndex < buffers.length ? buffers[bufIndex].bytes(BUFFER.data) : new Uint8Array(0);
  const tensor: ErmTensor = {
    name, dtype: dtype ?? (0 as DType), shape, kind: data.length ? TensorKind.CONSTANT : TensorKind.ARENA, flags: 0,
    zeroPoint: zps[0] ?? 0, scale: scales[0] ?? 0, arenaOffset: 0, data: data.length ? data.slice() : undefined,
  };
  if (scales.length > 1) {
    tensor.channelScales = Float32Array.from(scales);
    tensor.quantAxis = q!.int32(QUANT.quantizedDimension);
  }
  if (shape.some((d) => d < 0)) throw new EdgerunError("CONVERT_DYNAMIC_SHAPE", `tensor ${name} has a dynamic shape`, { tensor: index, actual: shape });
  return tensor;
}

function fail(ctx: Ctx, message: string, extra: Record<string, unknown> = {}): never {
  throw new EdgerunError("CONVERT_UNSUPPORTED", message, { op: ctx.opIndex, opName: ctx.opName, ...extra });
}

function expectType(ctx: Ctx, t: number, dtype: DType, what: string): ErmTensor {
  const tensor = ctx.graph.tensors[t];
  if (!tensor || tensor.dtype !== dtype) fail(ctx, `${what} must be ${DType[dtype]}`, { tensor: t, actual: tensor ? DType[tensor.dtype] ?? "unsupported" : "missing" });
  return tensor;
}

function activation(ctx: Ctx, act: number, out: ErmTensor): [number, number] {
  const names: Record<number, Q.FusedActivation> = { [Activation.NONE]: "none", [Activation.RELU]: "relu", [Activation.RELU6]: "relu6", [Activation.RELU_N1_TO_1]: "relu_n1_to_1" };
  const a = names[act];
  if (!a) fail(ctx, `fused activation ${Activation[act] ?? act} is not supported`);
  const r = Q.activationRange(a, out.scale, out.zeroPoint);
  return [r.actMin, r.actMax];
}

/** TFLite's padding rule: SAME pads (total) / 2 before, VALID pads nothing. */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number, padding: Padding): { out: number; before: number } {
  const eff = (kernel - 1) * dilation + 1;
  const out = padding === Padding.SAME ? Math.ceil(inSize / stride) : Math.floor((inSize - eff + stride) / stride);
  const total = Math.max(0, (out - 1) * stride + eff - inSize);
  return { out, before: Math.floor(total / 2) };
}

function multipliers(ctx: Ctx, input: ErmTensor, weights: ErmTensor, output: ErmTensor, channels: number): [number, number] {
  const scales = weights.channelScales ?? Float32Array.of(weights.scale);
  if (scales.length !== 1 && scales.length !== channels) fail(ctx, "weight scales do not match the output channels", { expected: channels, actual: scales.length });
  const q = Q.requantBytes(Array.from(scales, (ws) => Q.quantizeMultiplier((input.scale * ws) / output.scale)));
  const g = ctx.graph;
  return [g.addConstant(`${output.name}/multipliers`, DType.INT32, [scales.length], q.mult),
    g.addConstant(`${output.name}/shifts`, DType.INT8, [scales.length], q.shift)];
}

function importOp(ctx: Ctx, code: number, ins: number[], outs: number[], opts: FbTable | null): GraphOp {
  const g = ctx.graph;
  const T = (i: number) => g.tensors[i];
  const source = [ctx.opIndex];
  const o = opts ?? new FbTable(null as never, 0);
  const opt = (f: (t: FbTable) => number, d: number) => (opts ? f(o) : d);
  switch (code) {
    case BUILTIN.CONV_2D:
    case BUILTIN.DEPTHWISE_CONV_2D: {
      const dw = code === BUILTIN.DEPTHWISE_CONV_2D;
      const F = dw ? DW_OPTS : CONV_OPTS;
      const [x, w, y] = [expectType(ctx, ins[0], DType.INT8, "input"), expectType(ctx, ins[1], DType.INT8, "filter"), expectType(ctx, outs[0], DType.INT8, "output")];
      if (w.kind !== TensorKind.CONSTANT) fail(ctx, "filter must be a constant");
      if (w.zeroPoint !== 0) fail(ctx, "filter must be symmetric (zero point 0)");
      if (ins[2] !== undefined && ins[2] >= 0) expectType(ctx, ins[2], DType.INT32, "bias");
      const strideH = opt((t) => t.int32(F.strideH), 1), strideW = opt((t) => t.int32(F.strideW), 1);
      const dilH = opt((t) => t.int32(F.dilationH, 1), 1), dilW = opt((t) => t.int32(F.dilationW, 1), 1);
      const padding = opt((t) => t.int8(F.padding), 0) as Padding;
      const ph = samePadding(x.shape[1], w.shape[1], strideH, dilH, padding);
      const pw = samePadding(x.shape[2], w.shape[2], strideW, dilW, padding);
      if (ph.out !== y.shape[1] || pw.out !== y.shape[2]) fail(ctx, "output shape does not match the padding rule", { expected: [ph.out, pw.out], actual: y.shape });
      const [lo, hi] = activation(ctx, opt((t) => t.int8(F.activation), 0), y);
      const dm = dw ? Math.max(1, opt((t) => t.int32(DW_OPTS.depthMultiplier, 1), 1)) : 1;
      const [mult, shift] = multipliers(ctx, x, w, y, y.shape[3]);
      return {
        opcode: dw ? Opcode.DEPTHWISE_CONV_2D : Opcode.CONV_2D, inputs: [ins[0], ins[1], ins[2] ?? -1, mult, shift], outputs: [outs[0]],
        params: [strideH, strideW, dilH, dilW, ph.before, pw.before, -x.zeroPoint, y.zeroPoint, lo, hi, dm], scratch: -1, source,
      };
    }
    case BUILTIN.FULLY_CONNECTED: {
      const [x, w, y] = [expectType(ctx, ins[0], DType.INT8, "input"), expectType(ctx, ins[1], DType.INT8, "weights"), expectType(ctx, outs[0], DType.INT8, "output")];
      if (w.kind !== TensorKind.CONSTANT || w.shape.length !== 2) fail(ctx, "weights must be a constant [out, in] matrix");
      if (w.zeroPoint !== 0) fail(ctx, "weights must be symmetric (zero point 0)");
      if (opt((t) => t.int8(FC_OPTS.weightsFormat), 0) !== 0) fail(ctx, "shuffled weights format is not supported");
      if (ins[2] !== undefined && ins[2] >= 0) expectType(ctx, ins[2], DType.INT32, "bias");
      const [lo, hi] = activation(ctx, opt((t) => t.int8(FC_OPTS.activation), 0), y);
      const [mult, shift] = multipliers(ctx, x, w, y, w.shape[0]);
      return { opcode: Opcode.FULLY_CONNECTED, inputs: [ins[0], ins[1], ins[2] ?? -1, mult, shift], outputs: [outs[0]], params: [-x.zeroPoint, y.zeroPoint, lo, hi], scratch: -1, source };
    }
    case BUILTIN.AVERAGE_POOL_2D:
    case BUILTIN.MAX_POOL_2D: {
      const [x, y] = [expectType(ctx, ins[0], DType.INT8, "input"), expectType(ctx, outs[0], DType.INT8, "output")];
      if (x.scale !== y.scale || x.zeroPoint !== y.zeroPoint) fail(ctx, "pooling must keep the quantization of its input");
      if (!opts) fail(ctx, "pooling options are missing");
      const fh = o.int32(POOL_OPTS.filterH), fw = o.int32(POOL_OPTS.filterW);
      const sh = o.int32(POOL_OPTS.strideH), sw = o.int32(POOL_OPTS.strideW);
      const padding = o.int8(POOL_OPTS.padding) as Padding;
      const ph = samePadding(x.shape[1], fh, sh, 1, padding), pw = samePadding(x.shape[2], fw, sw, 1, padding);
      const [lo, hi] = activation(ctx, o.int8(POOL_OPTS.activation), y);
      return { opcode: code === BUILTIN.MAX_POOL_2D ? Opcode.MAX_POOL_2D : Opcode.AVERAGE_POOL_2D, inputs: [ins[0]], outputs: [outs[0]], params: [sh, sw, fh, fw, ph.before, pw.before, lo, hi], scratch: -1, source };
    }
    case BUILTIN.ADD: {
      const [a, b, y] = [expectType(ctx, ins[0], DType.INT8, "input 1"), expectType(ctx, ins[1], DType.INT8, "input 2"), expectType(ctx, outs[0], DType.INT8, "output")];
      const [lo, hi] = activation(ctx, opt((t) => t.int8(ADD_OPTS.activation), 0), y);
      const p = Q.addParams(a.scale, a.zeroPoint, b.scale, b.zeroPoint, y.scale, y.zeroPoint, lo, hi);
      return { opcode: Opcode.ADD, inputs: [ins[0], ins[1]], outputs: [outs[0]], params: addWords(p), scratch: -1, source };
    }
    case BUILTIN.RESHAPE:
      return { opcode: Opcode.RESHAPE, inputs: [ins[0]], outputs: [outs[0]], params: [], scratch: -1, source };
    case BUILTIN.SOFTMAX: {
      const [x, y] = [expectType(ctx, ins[0], DType.INT8, "input"), expectType(ctx, outs[0], DType.INT8, "output")];
      if (Math.abs(y.scale - 1 / 256) > 1e-9 || y.zeroPoint !== -128) fail(ctx, "int8 softmax output must have scale 1/256 and zero point -128", { actual: [y.scale, y.zeroPoint] });
      const p = Q.softmaxParams(opt((t) => t.float32(SOFTMAX_OPTS.beta, 1), 1), x.scale);
      return { opcode: Opcode.SOFTMAX, inputs: [ins[0]], outputs: [outs[0]], params: [p.inputMult, p.inputLeftShift, p.diffMin], scratch: -1, source };
    }
    case BUILTIN.QUANTIZE:
    case BUILTIN.DEQUANTIZE:
      return quantizeOp(ctx, code, ins, outs);
    case BUILTIN.MEAN:
      return meanOp(ctx, ins, outs, opts);
    case BUILTIN.CONCATENATION:
      return concatOp(ctx, ins, outs, opts);
    case BUILTIN.PAD:
    case BUILTIN.PADV2:
      return padOp(ctx, ins, outs);
    default:
      fail(ctx, `operator ${builtinName(code)} (op ${ctx.opIndex}) is not supported by edgerun`);
  }
}

export function addWords(p: Q.AddParamsValues): number[] {
  return [p.in1Offset, p.in2Offset, p.leftShift, p.in1Mult, p.in1Shift, p.in2Mult, p.in2Shift, p.outMult, p.outShift, p.outOffset, p.actMin, p.actMax];
}

const f32bits = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0];

function quantizeOp(ctx: Ctx, code: number, ins: number[], outs: number[]): GraphOp {
  const x = ctx.graph.tensors[ins[0]], y = ctx.graph.tensors[outs[0]];
  const source = [ctx.opIndex];
  const op = code === BUILTIN.QUANTIZE ? Opcode.QUANTIZE : Opcode.DEQUANTIZE;
  let params: number[];
  if (x.dtype === DType.FLOAT32 && y.dtype === DType.INT8) params = [QuantMode.F32_TO_I8, f32bits(y.scale), 0, y.zeroPoint, 0, 0];
  else if (x.dtype === DType.INT8 && y.dtype === DType.FLOAT32) params = [QuantMode.I8_TO_F32, f32bits(x.scale), x.zeroPoint, 0, 0, 0];
  else if ((x.dtype === DType.INT8 || x.dtype === DType.UINT8) && (y.dtype === DType.INT8 || y.dtype === DType.UINT8) && !(x.dtype === DType.UINT8 && y.dtype === DType.UINT8)) {
    const m = Q.quantizeMultiplier(x.scale / y.scale);
    const mode = x.dtype === DType.UINT8 ? QuantMode.U8_TO_I8 : y.dtype === DType.UINT8 ? QuantMode.I8_TO_U8 : QuantMode.I8_TO_I8;
    params = [mode, 0, x.zeroPoint, y.zeroPoint, m.mult, m.shift];
  } else fail(ctx, `${DType[x.dtype] ?? "unsupported"} -> ${DType[y.dtype] ?? "unsupported"} is not supported`);
  return { opcode: op, inputs: [ins[0]], outputs: [outs[0]], params, scratch: -1, source };
}

function constInts(ctx: Ctx, t: number, what: string): number[] {
  const c = ctx.graph.tensors[t];
  if (!c || c.kind !== TensorKind.CONSTANT || c.dtype !== DType.INT32 || !c.data) fail(ctx, `${what} must be a constant int32 tensor`, { tensor: t });
  return Array.from(new Int32Array(c.data.slice().buffer));
}

function meanOp(ctx: Ctx, ins: number[], outs: number[], opts: FbTable | null): GraphOp {
  const x = expectType(ctx, ins[0], DType.INT8, "input"), y = expectType(ctx, outs[0], DType.INT8, "output");
  const axes = constInts(ctx, ins[1], "axes").map((a) => (a < 0 ? a + x.shape.length : a));
  if (axes.some((a) => a < 0 || a >= x.shape.length)) fail(ctx, "axis out of range", { actual: axes });
  void opts?.bool(REDUCER_OPTS.keepDims);
  const mask = axes.reduce((m, a) => m | (1 << a), 0);
  const m = Q.quantizeMultiplier(x.scale / y.scale);
  return { opcode: Opcode.MEAN, inputs: [ins[0]], outputs: [outs[0]], params: [mask, x.zeroPoint, y.zeroPoint, m.mult, m.shift], scratch: -1, source: [ctx.opIndex] };
}

function concatOp(ctx: Ctx, ins: number[], outs: number[], opts: FbTable | null): GraphOp {
  const y = expectType(ctx, outs[0], DType.INT8, "output");
  let axis = opts ? opts.int32(CONCAT_OPTS.axis) : 0;
  if (axis < 0) axis += y.shape.length;
  if (opts && opts.int8(CONCAT_OPTS.activation) !== Activation.NONE) fail(ctx, "fused activation on concatenation is not supported");
  const inv = Math.fround(1 / y.scale);
  const params = [axis];
  for (const i of ins) {
    const x = expectType(ctx, i, DType.INT8, "input");
    const same = x.scale === y.scale && x.zeroPoint === y.zeroPoint;
    const scale = Math.fround(x.scale * inv);
    params.push(same ? 0 : 1, f32bits(scale), f32bits(Math.fround(-x.zeroPoint * scale)));
  }
  return { opcode: Opcode.CONCATENATION, inputs: ins, outputs: [outs[0]], params, scratch: -1, source: [ctx.opIndex] };
}

function padOp(ctx: Ctx, ins: number[], outs: number[]): GraphOp {
  const x = expectType(ctx, ins[0], DType.INT8, "input"), y = expectType(ctx, outs[0], DType.INT8, "output");
  const pads = constInts(ctx, ins[1], "paddings");
  if (pads.length !== x.shape.length * 2 || pads.some((p) => p < 0)) fail(ctx, "paddings must be non-negative [rank, 2]", { actual: pads });
  let value = y.zeroPoint;
  if (ins[2] !== undefined && ins[2] >= 0) {
    const c = ctx.graph.tensors[ins[2]];
    if (!c.data || c.dtype !== DType.INT8) fail(ctx, "pad value must be a constant int8");
    value = new Int8Array(c.data.buffer, c.data.byteOffset, 1)[0];
  }
  const before = [0, 0, 0, 0], after = [0, 0, 0, 0];
  for (let d = 0; d < x.shape.length; d++) { before[d] = pads[2 * d]; after[d] = pads[2 * d + 1]; }
  return { opcode: Opcode.PAD, inputs: [ins[0]], outputs: [outs[0]], params: [...before, ...after, value], scratch: -1, source: [ctx.opIndex] };
}
