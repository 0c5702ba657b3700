// Float graph + activation quantization -> the compiler's int8 Graph. Decides each tensor's
// storage order (4-D NCHW activations are stored NHWC; Transpose and layout-neutral Reshape only
// relabel), fuses ReLU/Clip into the producer's clamp, quantizes weights per channel and emits
// runtime ops with constants computed as TFLite Micro's Prepare does (lower-ops.ts).

import { EdgerunError } from "../../../host/format/errors.js";
import { DType, Opcode, QuantMode } from "../../../host/format/opcodes.js";
import { Graph, GraphOp } from "../compile/graph.js";
import { FGraph, FNode, numel } from "../import/onnx/float-graph.js";
import { emitNode } from "./lower-ops.js";

export interface QParam { scale: number; zp: number }

export interface LowerOptions {
  /** Float32 graph inputs and outputs (QUANTIZE / DEQUANTIZE at the edges) instead of int8. */
  floatIo?: boolean;
}

export interface LTensor { idx: number; perm: number[]; colPerm?: Int32Array }

/** Storage order of every graph I/O tensor, for hosts that feed ONNX-ordered data. */
export interface IoLayout { name: string; onnxShape: number[]; perm: number[]; dtype: string; scale: number; zeroPoint: number }

export interface Lowered { graph: Graph; layouts: IoLayout[]; tensorOf: Map<string, LTensor>; fused: Map<string, string> }

export function defaultPerm(rank: number): number[] {
  return rank === 4 ? [0, 2, 3, 1] : Array.from({ length: rank }, (_, i) => i);
}

/** Two storage orders hold the same bytes when the non-unit dims come in the same order. */
export function sameStorage(shape: number[], a: number[], b: number[]): boolean {
  const nz = (p: number[]) => p.filter((d) => shape[d] !== 1);
  const x = nz(a), y = nz(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

export class Lowering {
  readonly out: Graph;
  readonly t = new Map<string, LTensor>();
  /** Fused activation: producer output tensor -> the activation node folded into it. */
  readonly act = new Map<FNode, FNode>();
  constructor(readonly g: FGraph, readonly q: Map<string, QParam>, readonly opts: LowerOptions) {
    this.out = new Graph(g.name);
  }

  fail(n: FNode | undefined, message: string, extra: Record<string, unknown> = {}): never {
    throw new EdgerunError("CONVERT_UNSUPPORTED", n ? `${n.name} (${n.kind}): ${message}` : message, { node: n?.name, op: n?.source[0], ...extra });
  }

  qOf(name: string): QParam {
    const p = this.q.get(name);
    if (!p) throw new EdgerunError("QUANT_MISSING_RANGE", `tensor ${name} has no quantization: the model needs calibration data`, { tensor: name as never });
    return p;
  }

  /** Declares an int8 arena tensor for float tensor `name` in storage order `perm`. */
  declare(name: string, perm: number[], p: QParam = this.qOf(name), shape = this.g.tensor(name).shape): LTensor {
    const idx = this.out.addArena(name, DType.INT8, perm.map((d) => shape[d]));
    Object.assign(this.out.tensors[idx], { scale: p.scale, zeroPoint: p.zp });
    const lt = { idx, perm };
    this.t.set(name, lt);
    return lt;
  }

  /** A fresh int8 arena tensor not tied to a float tensor. */
  temp(name: string, shape: number[], p: QParam, dtype = DType.INT8): number {
    const idx = this.out.addArena(name, dtype, shape);
    Object.assign(this.out.tensors[idx], { scale: p.scale, zeroPoint: p.zp });
    return idx;
  }

  get(name: string): LTensor {
    const lt = this.t.get(name);
    if (!lt) throw new Error(`internal: ${name} was not lowered`);
    return lt;
  }

  push(n: FNode | undefined, op: Omit<GraphOp, "scratch" | "source">): void {
    this.out.ops.push({ ...op, scratch: -1, source: n ? n.source.slice() : [] });
  }
}

export function lowerGraph(g: FGraph, q: Map<string, QParam>, opts: LowerOptions = {}): Lowered {
  const L = new Lowering(g, q, opts);
  planFusion(L);
  const layouts: IoLayout[] = [];
  for (const name of g.inputs) layouts.push(lowerInput(L, name));
  const fused = new Map<string, string>();
  for (const n of g.nodes) {
    if ([...L.act.values()].includes(n)) continue;
    emitNode(L, n);
    const a = L.act.get(n);
    if (a) fused.set(a.output, n.output);
  }
  for (const name of g.outputs) layouts.push(lowerOutput(L, name));
  return { graph: L.out, layouts, tensorOf: L.t, fused };
}

/** ReLU / Clip after conv, fc or add (single consumer, no quantization of its own) -> the producer's clamp. */
function planFusion(L: Lowering): void {
  const g = L.g;
  for (const n of g.nodes) {
    if (n.kind !== "relu" && n.kind !== "clip") continue;
    const x = n.inputs[0];
    const p = g.producer(x);
    if (!p || !["conv", "fc", "add"].includes(p.kind) || L.act.has(p)) continue;
    if (g.consumers(x).length !== 1 || g.outputs.includes(x) || g.tensor(x).quant) continue;
    L.act.set(p, n);
  }
}

/** 4-D inputs are stored NHWC only when a spatial op reads them; others keep ONNX order. */
function inputPerm(L: Lowering, name: string): number[] {
  const rank = L.g.tensor(name).shape.length;
  // Follow layout-preserving ops: an elementwise op between the input and a conv still needs NHWC.
  const keep = new Set(["add", "mul", "relu", "clip", "leakyrelu", "sigmoid", "tanh", "hardswish", "requant", "pad", "concat"]);
  const seen = new Set<string>();
  const reachesSpatial = (t: string): boolean => {
    if (seen.has(t)) return false;
    seen.add(t);
    return L.g.consumers(t).some((c) => ["conv", "maxpool", "avgpool", "gap"].includes(c.kind) || (keep.has(c.kind) && reachesSpatial(c.output)));
  };
  return rank === 4 && reachesSpatial(name) ? defaultPerm(rank) : Array.from({ length: rank }, (_, i) => i);
}

function lowerInput(L: Lowering, name: string): IoLayout {
  const t = L.g.tensor(name);
  const perm = inputPerm(L, name);
  const p = L.qOf(name);
  const type = L.g.ioTypes.get(name) ?? 1;
  const shape = perm.map((d) => t.shape[d]);
  if (type === 2) {
    const u8 = L.temp(`${name}/uint8`, shape, { scale: p.scale, zp: p.zp + 128 }, DType.UINT8);
    L.out.inputs.push(u8);
    const lt = L.declare(name, perm);
    L.push(undefined, { opcode: Opcode.QUANTIZE, inputs: [u8], outputs: [lt.idx], params: [QuantMode.U8_TO_I8, 0, p.zp + 128, p.zp, 1 << 30, 1] });
    return { name, onnxShape: t.shape, perm, dtype: "uint8", scale: p.scale, zeroPoint: p.zp + 128 };
  }
  if (L.opts.floatIo) {
    const f = L.temp(`${name}/float`, shape, { scale: 0, zp: 0 }, DType.FLOAT32);
    L.out.inputs.push(f);
    const lt = L.declare(name, perm);
    L.push(undefined, { opcode: Opcode.QUANTIZE, inputs: [f], outputs: [lt.idx], params: [QuantMode.F32_TO_I8, f32bits(p.scale), 0, p.zp, 0, 0] });
    return { name, onnxShape: t.shape, perm, dtype: "float32", scale: 0, zeroPoint: 0 };
  }
  const lt = L.declare(name, perm);
  L.out.inputs.push(lt.idx);
  return { name, onnxShape: t.shape, perm, dtype: "int8", scale: p.scale, zeroPoint: p.zp };
}

function lowerOutput(L: Lowering, name: string): IoLayout {
  const lt = L.get(name);
  const t = L.out.tensors[lt.idx];
  const onnxShape = L.g.tensor(name).shape;
  const type = L.g.ioTypes.get(name) ?? 1;
  if (L.g.tensor(name).quant?.sourceType === "int32") L.fail(undefined, `graph output ${name} is int32; edgerun's outputs are int8, uint8 or float32`);
  if (type === 2 || L.opts.floatIo) {
    const u8 = type === 2;
    const o = L.temp(`${name}/${u8 ? "uint8" : "float"}`, t.shape, u8 ? { scale: t.scale, zp: t.zeroPoint + 128 } : { scale: 0, zp: 0 }, u8 ? DType.UINT8 : DType.FLOAT32);
    const params = u8 ? [QuantMode.I8_TO_U8, 0, t.zeroPoint, t.zeroPoint + 128, 1 << 30, 1] : [QuantMode.I8_TO_F32, f32bits(t.scale), t.zeroPoint, 0, 0, 0];
    L.push(undefined, { opcode: u8 ? Opcode.QUANTIZE : Opcode.DEQUANTIZE, inputs: [lt.idx], outputs: [o], params });
    L.out.outputs.push(o);
    return { name, onnxShape, perm: lt.perm, dtype: u8 ? "uint8" : "float32", scale: u8 ? t.scale : 0, zeroPoint: u8 ? t.zeroPoint + 128 : 0 };
  }
  if (L.out.inputs.includes(lt.idx)) {
    // An input returned unchanged still needs one op (the runtime has distinct I/O buffers).
    const o = L.temp(`${name}/out`, t.shape, { scale: t.scale, zp: t.zeroPoint });
    L.push(undefined, { opcode: Opcode.RESHAPE, inputs: [lt.idx], outputs: [o], params: [] });
    L.out.outputs.push(o);
  } else L.out.outputs.push(lt.idx);
  return { name, onnxShape, perm: lt.perm, dtype: "int8", scale: t.scale, zeroPoint: t.zeroPoint };
}

export function f32bits(v: number): number {
  return new Int32Array(Float32Array.of(v).buffer)[0];
}

export function count(shape: number[]): number {
  return numel(shape);
}
