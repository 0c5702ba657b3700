// Graph -> ErmModel: fusion, dead-tensor removal, scratch tensors, memory plan, metadata.

import { DType, Opcode, TensorKind, DTYPE_NAMES } from "../../../host/format/opcodes.js";
import type { ErmMeta, ErmModel, ErmTensor, GoldenVector, TensorSpec } from "../../../host/format/erm-types.js";
import { TENSOR_FLAG_SCRATCH } from "../../../host/format/erm-types.js";
import { addScratchBytes, convScratchBytes, depthwiseScratchBytes, fcScratchBytes } from "../../../host/format/scratch.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { convSparseGeometry } from "../../../host/format/sparse-weights.js";
import { Graph, GraphOp } from "./graph.js";
import { fuseConvAdd } from "./fuse.js";
import { Plan, planMemory } from "./plan.js";
import { EncodingChoice, SparseSelectOptions, selectEncodings } from "./sparse-select.js";

export interface CompileOptions {
  fuse?: boolean;
  meta?: Partial<ErmMeta>;
  golden?: GoldenVector[];
  /** Fail when arena + scratch exceed this many bytes. */
  maxRamBytes?: number;
  /**
   * Sparse weights: "auto" stores a layer sparse wherever that is smaller and times dense vs sparse
   * per layer and build (a build runs the sparse kernel only where faster, else expands the weights
   * at load); "size" is auto with always the smallest encoding (no block encoding kept for a
   * kernel where the bitmap or coded form is smaller); "always" stores and runs every layer with zeros sparse;
   * "never" (default) keeps all dense.
   */
  sparse?: "auto" | "never" | "always" | "size";
  /** Options of the cost model (builds, thresholds) for sparse "auto". */
  sparseSelect?: SparseSelectOptions;
}

export interface Compiled { model: ErmModel; plan: Plan; fusedAdds: number; encodings?: EncodingChoice[] }

export function compileGraph(g: Graph, opts: CompileOptions = {}): Compiled {
  const fusedAdds = opts.fuse === false ? 0 : fuseConvAdd(g);
  const encodings = selectEncodings(g, { ...opts.sparseSelect, mode: opts.sparse ?? "never" });
  const live = pruneTensors(g);
  addScratch(live);
  const plan = planMemory(live);
  plan.buffers.forEach((b) => b.members.forEach((t) => (live.tensors[t].arenaOffset = b.offset)));
  if (opts.maxRamBytes !== undefined && plan.arenaBytes > opts.maxRamBytes) {
    throw new EdgerunError("PLAN_TOO_LARGE", `the memory plan needs ${plan.arenaBytes} bytes of arena, more than the target's ${opts.maxRamBytes}`, { expected: opts.maxRamBytes, actual: plan.arenaBytes });
  }
  const spec = (t: number): TensorSpec => {
    const x = live.tensors[t];
    return { name: x.name, dtype: DTYPE_NAMES[x.dtype], shape: x.shape, scale: x.scale, zeroPoint: x.zeroPoint };
  };
  const meta: ErmMeta = {
    name: g.name, version: "1.0.0", ...opts.meta,
    inputs: live.inputs.map(spec), outputs: live.outputs.map(spec),
    sourceOps: live.ops.map((o) => o.source),
    tensorNames: live.tensors.map((t) => t.name),
  };
  const model: ErmModel = {
    tensors: live.tensors, ops: live.ops.map(({ opcode, inputs, outputs, params, scratch }) => ({ opcode, inputs, outputs, params, scratch })),
    inputs: live.inputs, outputs: live.outputs, plan: { arenaBytes: plan.arenaBytes }, meta, golden: opts.golden ?? [],
  };
  return { model, plan, fusedAdds, encodings };
}

/** Keeps tensors that ops or the graph's interface use, renumbered in first-use order. */
function pruneTensors(g: Graph): Graph {
  const map = new Map<number, number>();
  const out = new Graph(g.name);
  const keep = (t: number): number => {
    if (t < 0) return -1;
    if (!map.has(t)) {
      const src = g.tensors[t];
      if (!src.dtype) throw new EdgerunError("CONVERT_UNSUPPORTED", `tensor ${src.name} has an unsupported type`, { tensor: t });
      map.set(t, out.tensors.length);
      out.tensors.push({ ...src });
    }
    return map.get(t)!;
  };
  out.inputs = g.inputs.map(keep);
  for (const op of g.ops) {
    out.ops.push({ ...op, inputs: op.inputs.map(keep), outputs: op.outputs.map(keep) });
  }
  out.outputs = g.outputs.map(keep);
  for (const t of out.inputs) {
    if (out.tensors[t].kind !== TensorKind.ARENA) throw new EdgerunError("CONVERT_UNSUPPORTED", "a graph input is a constant", { tensor: t });
  }
  return out;
}

function addScratch(g: Graph): void {
  g.ops.forEach((op: GraphOp, i) => {
    const bytes = scratchFor(op, g.tensors);
    if (bytes > 0) {
      op.scratch = g.addArena(`op${i}/scratch`, DType.INT8, [bytes], TENSOR_FLAG_SCRATCH);
    }
  });
}

function scratchFor(op: GraphOp, t: ErmTensor[]): number {
  if (op.opcode === Opcode.CONV_2D || op.opcode === Opcode.DEPTHWISE_CONV_2D) {
    const x = t[op.inputs[0]].shape, w = t[op.inputs[1]].shape, y = t[op.outputs[0]].shape;
    const [strideH, strideW, dilH, dilW, padTop, padLeft] = op.params;
    const s = { inH: x[1], inW: x[2], inC: x[3], kH: w[1], kW: w[2], outH: y[1], outW: y[2], outC: y[3], strideH, strideW, dilH, dilW, padTop, padLeft, depthMultiplier: op.params[10] };
    return op.opcode === Opcode.CONV_2D ? convScratchBytes(s) : depthwiseScratchBytes(s);
  }
  if (op.opcode === Opcode.CONV_2D_SPARSE) {
    // The form with a filter size is always expanded at load and run by the dense conv kernels.
    const k = convSparseGeometry(op.inputs.length, op.params);
    if (!k) return 0;
    const x = t[op.inputs[0]].shape, y = t[op.outputs[0]].shape;
    const [strideH, strideW, dilH, dilW, padTop, padLeft] = op.params;
    const s = { inH: x[1], inW: x[2], inC: x[3], kH: k.kH, kW: k.kW, outH: y[1], outW: y[2], outC: y[3], strideH, strideW, dilH, dilW, padTop, padLeft, depthMultiplier: 1 };
    return convScratchBytes(s);
  }
  if (op.opcode === Opcode.ADD) return addScratchBytes(t[op.outputs[0]].shape.reduce((a, b) => a * b, 1));
  if (op.opcode === Opcode.FULLY_CONNECTED) {
    const w = t[op.inputs[1]].shape;
    const elements = t[op.inputs[0]].shape.reduce((a, b) => a * b, 1);
    return fcScratchBytes({ depth: w[1], outC: w[0], batches: elements / w[1] });
  }
  return 0;
}
