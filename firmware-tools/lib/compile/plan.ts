// Static memory plan: every arena tensor gets an offset in one arena, decided at compile time.
//  - Lifetime of a tensor: [first op that writes it (graph inputs: 0), last op that reads it
//    (graph outputs: the end)]. A scratch tensor lives during its op only.
//  - In place: RESHAPE output shares its input's buffer; an ADD (or a conv with a fused ADD)
//    writes over an input of the same size that dies at that op. Shared tensors form one buffer.
//  - Greedy by size (largest first, ties by earlier start): each buffer goes to the lowest offset
//    that overlaps no already placed buffer alive at the same time. Offsets are 4-byte aligned.
// checkPlan() re-verifies the result independently (no two live buffers overlap).

import { Opcode, TensorKind } from "../../../host/format/opcodes.js";
import type { ErmOp, ErmTensor } from "../../../host/format/erm-types.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { bytesOf } from "./graph.js";

const ALIGN = 4;

export interface Buffer { members: number[]; first: number; last: number; bytes: number; offset: number }
export interface Plan { arenaBytes: number; buffers: Buffer[]; bufferOf: Map<number, number> }

interface PlanInput { tensors: ErmTensor[]; ops: ErmOp[]; inputs: number[]; outputs: number[] }

export function planMemory(g: PlanInput): Plan {
  const n = g.ops.length;
  const first = new Map<number, number>(), last = new Map<number, number>();
  const touch = (t: number, i: number) => {
    if (t < 0 || g.tensors[t].kind !== TensorKind.ARENA) return;
    first.set(t, Math.min(first.get(t) ?? i, i));
    last.set(t, Math.max(last.get(t) ?? i, i));
  };
  g.inputs.forEach((t) => touch(t, 0));
  g.ops.forEach((op, i) => {
    op.inputs.forEach((t) => touch(t, i));
    op.outputs.forEach((t) => touch(t, i));
    touch(op.scratch, i);
  });
  g.outputs.forEach((t) => touch(t, n));
  // Union-find of tensors that share a buffer.
  const parent = new Map<number, number>();
  const find = (t: number): number => { const p = parent.get(t) ?? t; if (p === t) return t; const r = find(p); parent.set(t, r); return r; };
  const pinned = new Set([...g.inputs, ...g.outputs]);
  g.ops.forEach((op, i) => {
    const y = op.outputs[0];
    const candidates = inPlaceCandidates(op);
    for (const x of candidates) {
      if (x < 0 || g.tensors[x].kind !== TensorKind.ARENA || pinned.has(x) || pinned.has(y)) continue;
      if (bytesOf(g.tensors[x]) !== bytesOf(g.tensors[y]) || lastOfGroup(find(x)) !== i) continue;
      // A conv reads its input at many positions: never write over a buffer it also reads from.
      if (op.opcode !== Opcode.ADD && op.inputs.some((t, k) => k !== op.inputs.indexOf(x) && t >= 0 && find(t) === find(x))) continue;
      parent.set(find(y), find(x));
      break;
    }
  });
  function lastOfGroup(root: number): number {
    let l = -1;
    for (const t of first.keys()) if (find(t) === root) l = Math.max(l, last.get(t)!);
    return l;
  }
  const groups = new Map<number, Buffer>();
  for (const t of first.keys()) {
    const r = find(t);
    const b = groups.get(r) ?? { members: [], first: Infinity, last: -Infinity, bytes: 0, offset: -1 };
    b.members.push(t);
    b.first = Math.min(b.first, first.get(t)!);
    b.last = Math.max(b.last, last.get(t)!);
    b.bytes = Math.max(b.bytes, bytesOf(g.tensors[t]));
    groups.set(r, b);
  }
  const buffers = [...groups.values()];
  const order = [...buffers].sort((a, b) => b.bytes - a.bytes || a.first - b.first);
  const placed: Buffer[] = [];
  for (const b of order) {
    const live = placed.filter((p) => p.first <= b.last && b.first <= p.last).sort((p, q) => p.offset - q.offset);
    let offset = 0;
    for (const p of live) {
      if (offset + b.bytes <= p.offset) break;
      offset = Math.max(offset, align(p.offset + p.bytes));
    }
    b.offset = offset;
    placed.push(b);
  }
  const arenaBytes = buffers.reduce((m, b) => Math.max(m, align(b.offset + b.bytes)), 0);
  const bufferOf = new Map<number, number>();
  buffers.forEach((b, i) => b.members.forEach((t) => bufferOf.set(t, i)));
  const plan = { arenaBytes, buffers, bufferOf };
  checkPlan(plan);
  return plan;
}

/** Inputs an op may overwrite with its output (elementwise, same index in and out). */
function inPlaceCandidates(op: ErmOp): number[] {
  switch (op.opcode) {
    case Opcode.RESHAPE: return [op.inputs[0]];
    case Opcode.ADD: return [op.inputs[0], op.inputs[1]];
    case Opcode.CONV_2D:
    case Opcode.CONV_2D_SPARSE:
    case Opcode.DEPTHWISE_CONV_2D: return op.inputs.length === 6 ? [op.inputs[5]] : [];
    default: return [];
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Independent check: buffers alive at the same time never overlap, and all fit the arena. */
export function checkPlan(plan: Plan): void {
  const b = plan.buffers;
  for (let i = 0; i < b.length; i++) {
    if (b[i].offset < 0 || b[i].offset % ALIGN || b[i].offset + b[i].bytes > plan.arenaBytes) {
      throw new EdgerunError("PLAN_INVALID", "buffer outside the arena", { actual: b[i] });
    }
    for (let j = i + 1; j < b.length; j++) {
      const timeOverlap = b[i].first <= b[j].last && b[j].first <= b[i].last;
      const spaceOverlap = b[i].offset < b[j].offset + b[j].bytes && b[j].offset < b[i].offset + b[i].bytes;
      if (timeOverlap && spaceOverlap) throw new EdgerunError("PLAN_INVALID", "two live buffers overlap", { actual: [b[i], b[j]] });
    }
  }
}

/** Human-readable plan: one line per buffer with its lifetime as a bar over the ops. */
export function formatPlan(plan: Plan, tensors: ErmTensor[], nOps: number): string[] {
  const width = Math.min(60, nOps + 1);
  const scale = (nOps + 1) / width;
  return [...plan.buffers].sort((a, b) => a.offset - b.offset).map((b) => {
    const bar = Array.from({ length: width }, (_, k) => (k * scale >= b.first - scale + 1 && k * scale <= b.last ? "#" : ".")).join("");
    const names = b.members.map((t) => shortName(tensors[t].name)).join(" = ");
    return `${String(b.offset).padStart(8)} ${String(b.bytes).padStart(8)}  ops ${String(b.first).padStart(3)}-${String(b.last).padEnd(3)} ${bar}  ${names}`;
  });
}

/** TFLite tensor names can be whole op chains joined by ';': keep the last part, at most 48 chars. */
function shortName(name: string): string {
  const last = name.split(";").pop() ?? name;
  return last.length > 48 ? `...${last.slice(-45)}` : last;
}
