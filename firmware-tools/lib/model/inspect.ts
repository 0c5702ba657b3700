// inspect: a structured description of an .erm (ops, tensors, weights, MACs, memory plan).

import { DType, DTYPE_BYTES, DTYPE_NAMES, TensorKind, opcodeName } from "../../../host/format/opcodes.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import { opMacs } from "../compile/graph.js";
import { planMemory, formatPlan } from "../compile/plan.js";
import { storedEncodingLabel } from "../compile/sparse-encode.js";

export interface InspectReport {
  name: string;
  version: string;
  fileBytes: number;
  arenaBytes: number;
  weightBytes: number;
  macs: number;
  inputs: { name: string; dtype: string; shape: number[]; scale: number; zeroPoint: number }[];
  outputs: { name: string; dtype: string; shape: number[]; scale: number; zeroPoint: number }[];
  labels?: string[];
  /** encoding: how the op's weights are stored ("dense", "sparse coded, expanded at load", ...; "" without weights). */
  ops: { index: number; op: string; inputs: number[]; output: number; outputShape: number[]; macs: number; weightBytes: number; scratchBytes: number; encoding: string }[];
  tensors: { index: number; name: string; dtype: string; shape: number[]; kind: string; offset: number; bytes: number }[];
  plan: string[];
  golden: number;
}

export function inspectModel(model: ErmModel, fileBytes: number): InspectReport {
  const t = model.tensors;
  const bytes = (i: number) => t[i].shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t[i].dtype];
  const names = model.meta.tensorNames ?? [];
  const name = (i: number) => names[i] ?? t[i].name;
  const spec = (i: number) => ({ name: name(i), dtype: DTYPE_NAMES[t[i].dtype], shape: t[i].shape, scale: t[i].scale, zeroPoint: t[i].zeroPoint });
  const ops = model.ops.map((op, index) => ({
    index,
    op: opcodeName(op.opcode) + (op.inputs.length === 6 ? "+ADD" : ""),
    inputs: op.inputs,
    output: op.outputs[0],
    outputShape: t[op.outputs[0]].shape,
    macs: opMacs(op, t),
    weightBytes: op.inputs.filter((i) => i >= 0 && t[i].kind === TensorKind.CONSTANT).reduce((a, i) => a + bytes(i), 0),
    scratchBytes: op.scratch >= 0 ? bytes(op.scratch) : 0,
    encoding: op.inputs.some((i) => i >= 0 && t[i].kind === TensorKind.CONSTANT && t[i].dtype === DType.INT8) ? storedEncodingLabel(op, t) : "",
  }));
  const named = model.tensors.map((x, i) => ({ ...x, name: name(i) }));
  return {
    name: model.meta.name,
    version: model.meta.version,
    fileBytes,
    arenaBytes: model.plan.arenaBytes,
    weightBytes: t.reduce((a, x, i) => a + (x.kind === TensorKind.CONSTANT ? bytes(i) : 0), 0),
    macs: ops.reduce((a, o) => a + o.macs, 0),
    inputs: model.inputs.map(spec),
    outputs: model.outputs.map(spec),
    labels: model.meta.labels,
    ops,
    tensors: t.map((x, i) => ({ index: i, name: name(i), dtype: DTYPE_NAMES[x.dtype], shape: x.shape, kind: x.kind === TensorKind.CONSTANT ? "const" : "arena", offset: x.kind === TensorKind.CONSTANT ? -1 : x.arenaOffset, bytes: bytes(i) })),
    plan: formatStoredPlan(model, named),
    golden: model.golden.length,
  };
}

/** The stored offsets with lifetimes recomputed from the graph. */
function formatStoredPlan(model: ErmModel, named: ErmModel["tensors"]): string[] {
  const plan = planMemory({ tensors: named, ops: model.ops, inputs: model.inputs, outputs: model.outputs });
  for (const b of plan.buffers) b.offset = named[b.members[0]].arenaOffset;
  plan.arenaBytes = model.plan.arenaBytes;
  return formatPlan(plan, named, model.ops.length);
}
