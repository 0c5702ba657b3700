// Float graph + edgerun's quantization of it -> a uint8 QDQ ONNX model, so onnxruntime can run
// the same quantization edgerun chose (for timing and as an oracle). The form is the one ORT's
// QDQ transformers fuse into integer kernels (QLinearConv, QGemm, QLinearAdd, ...):
//   - every quantized activation T: T -> QuantizeLinear -> DequantizeLinear -> consumers, uint8
//     with zero point = edgerun's int8 zero point + 128 (same scale, so the same real grid);
//   - conv / fc weights: int8 initializers, per output channel (axis 0), zero point 0, through
//     DequantizeLinear; the bias: edgerun's int32 bias (bias correction included) through
//     DequantizeLinear at scale inputScale x weightScale[c];
//   - a ReLU / Clip that edgerun fused into its producer stays a float op between the producer
//     and the Q of its output (ORT removes it when the zero point already clamps, as ours does).
// uint8 and not int8 activations: ORT takes slow paths (or silently runs float) with int8 QDQ.
// The graph walked is the imported float graph (BatchNormalization folded, Gemm/MatMul as fc),
// not the original ONNX nodes, since that is the graph edgerun quantized.

import { EdgerunError } from "../../../host/format/errors.js";
import { DType, TensorKind } from "../../../host/format/opcodes.js";
import type { ErmTensor } from "../../../host/format/erm-types.js";
import type { Graph } from "../compile/graph.js";
import { FGraph, FNode } from "../import/onnx/float-graph.js";
import { onnx, NodeProto, TensorProto, ODT } from "../import/onnx/proto.js";
import type { QParam } from "./lower.js";
import { roundHalfAway } from "../../../host/format/quant-params.js";

export interface QdqExportOptions {
  /** ONNX opset of the written model (13 has per-axis DequantizeLinear; 14 adds HardSwish). */
  opset?: number;
  /** Graph name written into the model (default: the float graph's). */
  name?: string;
}

type Attr = number | number[] | { f: number };

/** The model under construction: nodes and initializers in order, names kept unique by the caller. */
class QdqBuilder {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];

  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): void {
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === "number") return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
      if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
      return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v.f };
    });
    this.nodes.push({ opType, input: inputs, output: outputs, name: `${opType}_${this.nodes.length}`, attribute });
  }

  init(name: string, dataType: number, dims: number[], data: ArrayBufferView): string {
    const rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.inits.push({ name, dataType, dims, rawData });
    return name;
  }

  /** DequantizeLinear of an integer initializer (per channel along `axis` when scales has > 1 value). */
  dequantConst(name: string, values: Int8Array | Uint8Array | Int32Array, dims: number[], scales: Float32Array, zeroPoints: Int8Array | Uint8Array | Int32Array, axis?: number): string {
    const dt = values instanceof Int8Array ? ODT.INT8 : values instanceof Uint8Array ? ODT.UINT8 : ODT.INT32;
    const scalar = scales.length === 1 && axis === undefined;
    const q = this.init(`${name}/quantized`, dt, dims, values);
    const s = this.init(`${name}/scale`, ODT.FLOAT, scalar ? [] : [scales.length], scales);
    const z = this.init(`${name}/zero_point`, dt, scalar ? [] : [zeroPoints.length], zeroPoints);
    this.node("DequantizeLinear", [q, s, z], [`${name}/dq`], axis === undefined ? {} : { axis });
    return `${name}/dq`;
  }
}

/**
 * Writes the uint8 QDQ ONNX model of `g` as quantized by edgerun: `lowered` is
 * quantizeOnnx(g, ...).graph (before compileGraph rewrites it), whose tensors carry the scale and
 * zero point of every activation (named as in `g`) and the per-channel weight scales and int32
 * biases of every conv and fc.
 */
export function exportQdq(g: FGraph, lowered: Graph, opts: QdqExportOptions = {}): Uint8Array {
  const byName = new Map(lowered.tensors.map((t) => [t.name, t]));
  const act = activationQuant(g, lowered);
  const b = new QdqBuilder();
  const raw = (t: string) => (act.has(t) && g.outputs.includes(t) ? `${t}/float` : t);
  const deq = (t: string) => (!act.has(t) ? raw(t) : g.outputs.includes(t) ? t : `${t}/dq`);
  const qdq = (t: string) => {
    const p = act.get(t);
    if (!p) return;
    const s = b.init(`${t}/scale`, ODT.FLOAT, [], Float32Array.of(p.scale));
    const z = b.init(`${t}/zero_point`, ODT.UINT8, [], Uint8Array.of(p.zp + 128));
    b.node("QuantizeLinear", [raw(t), s, z], [`${t}/q`]);
    b.node("DequantizeLinear", [`${t}/q`, s, z], [deq(t)]);
  };
  const alias = emptyPads(g, act);
  const ctx: EmitCtx = { g, b, act, byName, ref: (t) => (g.isConstant(t) ? floatConst(b, g, t) : deq(alias.get(t) ?? t)) };
  g.inputs.forEach(qdq);
  for (const n of g.nodes) {
    if (alias.has(n.output)) continue;
    emitNode(ctx, n, raw(n.output));
    qdq(n.output);
  }
  const info = (name: string) => ({ name, type: { tensorType: { elemType: ODT.FLOAT, shape: { dim: g.tensor(name).shape.map((d) => ({ dimValue: d })) } } } });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "edgerun",
    opsetImport: [{ domain: "", version: opts.opset ?? (g.nodes.some((n) => n.kind === "hardswish") ? 14 : 13) }],
    graph: { name: opts.name ?? g.name, node: b.nodes, initializer: b.inits, input: g.inputs.map(info), output: g.outputs.map(info) },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Scale and zero point of every float activation edgerun quantized (int8 arena tensors named as in g). */
function activationQuant(g: FGraph, lowered: Graph): Map<string, QParam> {
  const q = new Map<string, QParam>();
  for (const t of lowered.tensors) {
    if (t.kind !== TensorKind.ARENA || t.dtype !== DType.INT8 || !g.tensors.has(t.name) || g.isConstant(t.name)) continue;
    q.set(t.name, { scale: t.scale, zp: t.zeroPoint });
  }
  for (const name of [...g.inputs, ...g.outputs]) {
    if (!q.has(name)) throw new EdgerunError("QDQ_MISSING_QUANT", `graph input/output ${name} has no int8 quantization in the lowered graph (float or uint8 I/O is not exported)`, { tensor: name as never });
  }
  return q;
}

/**
 * Pads of zero width (PyTorch puts one before AveragePool) become aliases of their input: ORT
 * keeps a QDQ Pad as a float op between DequantizeLinear and QuantizeLinear, a cost the model
 * does not need. Kept when the pad requantizes or produces a graph output.
 */
function emptyPads(g: FGraph, act: Map<string, QParam>): Map<string, string> {
  const alias = new Map<string, string>();
  for (const n of g.nodes) {
    if (n.kind !== "pad" || n.pads!.some((p) => p !== 0) || g.outputs.includes(n.output)) continue;
    const a = act.get(n.inputs[0]), o = act.get(n.output);
    if (a && o && a.scale === o.scale && a.zp === o.zp) alias.set(n.output, alias.get(n.inputs[0]) ?? n.inputs[0]);
  }
  return alias;
}

interface EmitCtx {
  g: FGraph;
  b: QdqBuilder;
  act: Map<string, QParam>;
  byName: Map<string, ErmTensor>;
  /** The name a consumer reads for tensor t (its DequantizeLinear output when quantized). */
  ref: (t: string) => string;
}

function fail(n: FNode, message: string): never {
  throw new EdgerunError("QDQ_UNSUPPORTED", `${n.name} (${n.kind}): ${message}`, { node: n.name, op: n.source[0] });
}

function emitNode(c: EmitCtx, n: FNode, out: string): void {
  const { b, g } = c;
  const x = () => c.ref(n.inputs[0]);
  switch (n.kind) {
    case "conv": {
      const [, , KH, KW] = g.tensor(n.inputs[1]).shape;
      const { strides, pads, dilations, group } = n.conv!;
      const [w, bias] = weightsAndBias(c, n);
      return b.node("Conv", [x(), w, bias], [out], { kernel_shape: [KH, KW], strides, pads, dilations, group });
    }
    case "fc": {
      if (g.tensor(n.inputs[0]).shape.length !== 2) fail(n, "fully connected on a rank-3+ input is not exported (Gemm takes 2-D inputs)");
      const [w, bias] = weightsAndBias(c, n);
      return b.node("Gemm", [x(), w, bias], [out], { transB: 1 });
    }
    case "maxpool": case "avgpool": {
      const p = n.pool!;
      const attrs: Record<string, Attr> = { kernel_shape: p.kernel, strides: p.strides, pads: p.pads };
      if (n.kind === "avgpool") attrs.count_include_pad = p.countIncludePad ? 1 : 0;
      return b.node(n.kind === "maxpool" ? "MaxPool" : "AveragePool", [x()], [out], attrs);
    }
    case "gap": return b.node("GlobalAveragePool", [x()], [out]);
    case "add": case "mul": return b.node(n.kind === "add" ? "Add" : "Mul", n.inputs.map((i) => operand(c, n, i)), [out]);
    case "relu": return b.node("Relu", [x()], [out]);
    case "clip": {
      const lo = b.init(`${out}/min`, ODT.FLOAT, [], Float32Array.of(n.min ?? -3.4e38));
      const hi = b.init(`${out}/max`, ODT.FLOAT, [], Float32Array.of(n.max ?? 3.4e38));
      return b.node("Clip", [x(), lo, hi], [out]);
    }
    case "leakyrelu": return b.node("LeakyRelu", [x()], [out], { alpha: { f: n.alpha ?? 0.01 } });
    case "sigmoid": return b.node("Sigmoid", [x()], [out]);
    case "tanh": return b.node("Tanh", [x()], [out]);
    case "hardswish": return b.node("HardSwish", [x()], [out]);
    case "softmax": {
      const rank = g.tensor(n.output).shape.length;
      // Opset < 13 normalized over all dims from axis on; equal to opset 13 only on the last axis.
      if (n.legacy && n.axis !== rank - 1 && g.tensor(n.output).shape.slice(n.axis! + 1).some((d) => d !== 1)) fail(n, "a pre-opset-13 Softmax over several dimensions is not exported");
      return b.node("Softmax", [x()], [out], { axis: n.axis! });
    }
    case "concat": return b.node("Concat", n.inputs.map((i) => operand(c, n, i)), [out], { axis: n.axis! });
    case "reshape": {
      const shape = b.init(`${out}/shape`, ODT.INT64, [g.tensor(n.output).shape.length], BigInt64Array.from(g.tensor(n.output).shape, BigInt));
      return b.node("Reshape", [x(), shape], [out]);
    }
    case "transpose": return b.node("Transpose", [x()], [out], { perm: n.perm! });
    case "pad": {
      const pads = b.init(`${out}/pads`, ODT.INT64, [n.pads!.length], BigInt64Array.from(n.pads!, BigInt));
      const value = b.init(`${out}/value`, ODT.FLOAT, [], Float32Array.of(n.padValue ?? 0));
      return b.node("Pad", [x(), pads, value], [out]);
    }
    case "requant": return fail(n, "the float graph holds a requantization (a pre-quantized model); export float models only");
  }
}

/** int8 per-channel weights and int32 bias, each through DequantizeLinear on axis 0. */
function weightsAndBias(c: EmitCtx, n: FNode): [string, string] {
  const wt = c.g.tensor(n.inputs[1]);
  const lw = c.byName.get(`${n.output}/${n.kind === "conv" ? "filter" : "weights"}`);
  const lb = c.byName.get(`${n.output}/bias`);
  const inQ = c.act.get(n.inputs[0]);
  if (!lw?.channelScales || !lb?.data || !inQ) fail(n, "the lowered graph has no quantized weights, bias or input quantization for this node");
  const scales = lw.channelScales, O = wt.shape[0], per = wt.data!.length / O;
  if (scales.length !== O) fail(n, `${scales.length} weight scales for ${O} output channels`);
  // Same rounding as quantizeWeights (lib/quantize/weights.ts) at the scales edgerun chose.
  const ints = Int8Array.from(wt.data!, (v, i) => Math.max(-127, Math.min(127, Math.round(v / scales[Math.floor(i / per)]))));
  // Named per node, not per weight tensor: a weight shared by two nodes would clash otherwise.
  const w = c.b.dequantConst(`${n.output}/weights`, ints, wt.shape, scales, new Int8Array(O), 0);
  const bias = new Int32Array(lb.data.buffer.slice(lb.data.byteOffset, lb.data.byteOffset + lb.data.byteLength));
  const bScales = Float32Array.from(scales, (s) => Math.fround(Math.fround(inQ.scale) * s));
  const bq = c.b.dequantConst(`${n.output}/bias`, bias, [O], bScales, new Int32Array(O), 0);
  return [w, bq];
}

/** A constant operand of add/mul/concat: uint8 at the quantization edgerun gave it, else float. */
function operand(c: EmitCtx, n: FNode, name: string): string {
  const t = c.g.tensor(name);
  if (!t.data) return c.ref(name);
  const lc = c.byName.get(`${n.output}/${name}`);
  if (!lc || !(lc.scale > 0)) return floatConst(c.b, c.g, name);
  const ints = Uint8Array.from(t.data, (v) => Math.max(0, Math.min(255, roundHalfAway(v / lc.scale) + lc.zeroPoint + 128)));
  return c.b.dequantConst(`${n.output}/${name}`, ints, t.shape, Float32Array.of(lc.scale), Uint8Array.of(lc.zeroPoint + 128));
}

function floatConst(b: QdqBuilder, g: FGraph, name: string): string {
  if (!b.inits.some((i) => i.name === name)) b.init(name, ODT.FLOAT, g.tensor(name).shape, g.tensor(name).data!);
  return name;
}
