// ONNX model -> float intermediate graph (float-graph.ts). Walks the nodes in order, keeps
// constants (initializers, Constant nodes, inputs the caller binds) as float arrays with their
// integer values where quantized, infers every shape statically, folds nodes whose inputs are all
// constant, and rejects anything else with the op type, node name and index.

import { EdgerunError } from "../../../../host/format/errors.js";
import { FGraph, FNode, FTensor } from "./float-graph.js";
import { decodeModel, ModelProto, NodeProto, ODT, TensorProto, tensorDims, tensorValues, valueInfoShape } from "./proto.js";
import { FLOAT_OPS } from "./ops-float.js";
import { QUANT_OPS } from "./ops-quant.js";
import { evalNode } from "../../quantize/float-exec.js";
import { foldQuantizeIntoProducers, dropIdentities } from "./cleanup.js";

export interface OnnxImportOptions {
  /** Graph inputs to freeze as constants (the node tests feed weights as inputs). */
  bind?: Record<string, TensorProto>;
}

/** A constant as ONNX gave it: dims, values and element type (before any dequantization). */
export interface RawConst { dims: number[]; values: number[]; dtype: number }

export interface Ctx {
  g: FGraph;
  raw: Map<string, RawConst>;
  /** ONNX element type of each graph input and value (for uint8 vs int8). */
  dtypes: Map<string, number>;
  opset: number;
  node: NodeProto;
  index: number;
  opType: string;
  name: string;
}

export type Translator = (ctx: Ctx) => void;

export function fail(ctx: Pick<Ctx, "index" | "opType" | "name">, message: string, extra: Record<string, unknown> = {}): never {
  throw new EdgerunError("CONVERT_UNSUPPORTED", `${ctx.opType} node ${JSON.stringify(ctx.name)} (index ${ctx.index}): ${message}`, { op: ctx.index, opName: ctx.opType, node: ctx.name, ...extra });
}

export function importOnnx(bytes: Uint8Array, name = "model", opts: OnnxImportOptions = {}): FGraph {
  return importOnnxModel(decodeModel(bytes), name, opts);
}

export function importOnnxModel(model: ModelProto, name: string, opts: OnnxImportOptions = {}): FGraph {
  const graph = model.graph;
  if (!graph) throw new EdgerunError("ONNX_MALFORMED", "the model has no graph");
  const opset = (model.opsetImport ?? []).filter((o) => !o.domain || o.domain === "ai.onnx").map((o) => Number(o.version ?? 0))[0] ?? 13;
  const g = new FGraph(name);
  const raw = new Map<string, RawConst>();
  const dtypes = new Map<string, number>();
  const addConst = (t: TensorProto, tname: string) => {
    const rc = { dims: tensorDims(t), values: tensorValues(t), dtype: t.dataType ?? 0 };
    raw.set(tname, rc);
    dtypes.set(tname, rc.dtype);
    g.tensors.set(tname, { name: tname, shape: rc.dims, data: Float32Array.from(rc.values) });
  };
  for (const t of graph.initializer ?? []) addConst(t, t.name ?? "");
  for (const v of graph.input ?? []) {
    const vname = v.name ?? "";
    if (raw.has(vname)) continue;
    const bound = opts.bind?.[vname];
    if (bound) { addConst(bound, vname); continue; }
    const { shape, dtype } = valueInfoShape(v);
    // A symbolic batch dimension runs with batch 1, as devices infer one sample at a time.
    if (shape.length > 1 && shape[0] < 0) shape[0] = 1;
    if (shape.some((d) => d < 0)) throw new EdgerunError("CONVERT_DYNAMIC_SHAPE", `graph input ${vname} has a dynamic shape; export the model with fixed dimensions`, { tensor: vname as never, actual: shape });
    if (![ODT.FLOAT, ODT.UINT8, ODT.INT8].includes(dtype as never)) throw new EdgerunError("CONVERT_UNSUPPORTED", `graph input ${vname} has element type ${dtype}`, { actual: dtype });
    dtypes.set(vname, dtype);
    g.tensors.set(vname, { name: vname, shape });
    g.inputs.push(vname);
  }
  (graph.node ?? []).forEach((node, index) => translateNode(g, raw, dtypes, opset, node, index));
  g.outputs = (graph.output ?? []).map((o) => o.name ?? "");
  for (const i of g.inputs) g.ioTypes.set(i, dtypes.get(i) ?? ODT.FLOAT);
  for (const o of graph.output ?? []) g.ioTypes.set(o.name ?? "", valueInfoShape(o).dtype || ODT.FLOAT);
  for (const o of g.outputs) {
    if (!g.tensors.has(o)) throw new EdgerunError("ONNX_MALFORMED", `graph output ${o} is never produced`);
    if (g.isConstant(o)) throw new EdgerunError("CONVERT_UNSUPPORTED", `graph output ${o} is a constant`);
  }
  foldQuantizeIntoProducers(g);
  dropIdentities(g);
  return g;
}

function translateNode(g: FGraph, raw: Map<string, RawConst>, dtypes: Map<string, number>, opset: number, node: NodeProto, index: number): void {
  const opType = node.opType ?? "";
  const ctx: Ctx = { g, raw, dtypes, opset, node, index, opType, name: node.name || `${opType}_${index}` };
  if (opType === "Constant") {
    const t = node.attribute?.find((a) => a.name === "value")?.t;
    if (!t) fail(ctx, "only tensor-valued Constant nodes are supported");
    const out = node.output?.[0] ?? "";
    const rc = { dims: tensorDims(t), values: tensorValues(t), dtype: t.dataType ?? 0 };
    raw.set(out, rc);
    dtypes.set(out, rc.dtype);
    g.tensors.set(out, { name: out, shape: rc.dims, data: Float32Array.from(rc.values) });
    return;
  }
  const tr = FLOAT_OPS[opType] ?? QUANT_OPS[opType];
  if (!tr) fail(ctx, `operator ${opType} is not supported by edgerun`);
  for (const i of node.input ?? []) if (i && !g.tensors.has(i)) fail(ctx, `input ${i} is not defined before this node`);
  const before = g.nodes.length;
  tr(ctx);
  // Nodes whose inputs are all constant are evaluated now (shape arithmetic, folded weights).
  for (let k = before; k < g.nodes.length; k++) {
    const n = g.nodes[k];
    if (n.inputs.every((i) => g.isConstant(i))) {
      const out = g.tensor(n.output);
      out.data = evalNode(g, n, (t) => g.tensor(t).data!);
      g.nodes.splice(k, 1);
      k--;
    }
  }
}

/** Adds a node and its output tensor (shape computed by the translator). */
export function emit(ctx: Ctx, node: Omit<FNode, "name" | "source">, shape: number[], quant?: FTensor["quant"]): FNode {
  const n: FNode = { ...node, name: ctx.name, source: [ctx.index] };
  ctx.g.nodes.push(n);
  ctx.g.tensors.set(n.output, { name: n.output, shape, quant });
  return n;
}

/** Registers a new constant tensor (float values in ONNX layout). */
export function addFloatConst(ctx: Ctx, name: string, shape: number[], data: Float32Array, quant?: FTensor["quant"]): string {
  ctx.g.tensors.set(name, { name, shape, data, quant });
  return name;
}

export function input(ctx: Ctx, k: number): string | undefined {
  const v = ctx.node.input?.[k];
  return v ? v : undefined;
}

export function output(ctx: Ctx, k = 0): string {
  const o = ctx.node.output?.[k];
  if (!o) fail(ctx, `output ${k} is missing`);
  return o;
}

export function constValues(ctx: Ctx, name: string | undefined, what: string): number[] {
  if (!name) fail(ctx, `${what} is missing`);
  const r = ctx.raw.get(name);
  if (r) return r.values;
  const t = ctx.g.tensors.get(name);
  if (t?.data) return Array.from(t.data);
  fail(ctx, `${what} must be a constant`, { tensor: name as never });
}

export function shapeOf(ctx: Ctx, name: string): number[] {
  return ctx.g.tensor(name).shape;
}
