// Structured channel pruning of an int8 Graph: removes whole output channels of a CONV_2D or
// FULLY_CONNECTED and the matching input channels of everything downstream, so the dense model
// itself gets smaller. Channels pass through pools, PAD, MEAN over H/W, int8 requantize, RESHAPE
// (flatten) and CONCATENATION on the channel axis; a depthwise conv loses the same channels (its
// own outputs too) and passes them on; a conv or FC consumer loses the matching input columns
// (after a flatten of NHWC: index ((h*W)+w)*C + c). A producer whose channels reach an ADD, a
// fused residual, a graph output or any other op is left alone (the report says why): pruning
// across a residual would need both sides pruned identically.

import { DTYPE_BYTES, Opcode, TensorKind, opcodeName } from "../../../host/format/opcodes.js";
import type { ErmTensor } from "../../../host/format/erm-types.js";
import { EdgerunError } from "../../../host/format/errors.js";
import type { Graph } from "../compile/graph.js";
import { checkSparsity } from "./mask.js";
import { weightMatrix } from "./prune-graph.js";

export interface ChannelPruneOptions {
  /** Fraction of each layer's output channels to remove (lowest L1 norm first); at least one channel stays. */
  ratio?: number;
  /** Remove only channels whose weights and bias are all zero (the output is then unchanged). */
  zeroOnly?: boolean;
  /** Producers to consider (default: every CONV_2D and FULLY_CONNECTED). */
  ops?: number[];
}

export interface ChannelPruneResult { op: number; opName: string; removed: number[]; kept: number; skipped?: string }

type Edit = () => void;

class Unsupported extends Error {}

/** Removes indices `drop` (sorted) along `axis` of a constant or the shape of an arena tensor. */
function removeAlong(t: ErmTensor, axis: number, drop: number[]): void {
  const dims = t.shape;
  const set = new Set(drop);
  if (t.kind === TensorKind.CONSTANT && t.data) {
    const eb = DTYPE_BYTES[t.dtype];
    const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1) * eb;
    const kept: number[] = [];
    for (let i = 0; i < dims[axis]; i++) if (!set.has(i)) kept.push(i);
    const out = new Uint8Array(outer * kept.length * inner);
    let p = 0;
    for (let o = 0; o < outer; o++) {
      for (const i of kept) {
        const s = (o * dims[axis] + i) * inner;
        out.set(t.data.subarray(s, s + inner), p);
        p += inner;
      }
    }
    t.data = out;
    if (t.channelScales && t.quantAxis === axis && t.channelScales.length === dims[axis]) {
      t.channelScales = Float32Array.from(kept.map((i) => t.channelScales![i]));
    }
  }
  t.shape = dims.map((d, k) => (k === axis ? d - drop.length : d));
}

/** Per-channel constants (bias, multipliers, shifts) lose the channels; per-tensor ones stay. */
function removePerChannel(g: Graph, t: number, channels: number, drop: number[], edits: Edit[]): void {
  if (t < 0) return;
  const x = g.tensors[t];
  if (x.shape.reduce((a, b) => a * b, 1) === channels && channels > 1) edits.push(() => removeAlong(x, x.shape.length - 1, drop));
}

function lastAxis(t: ErmTensor): number {
  return t.shape.length - 1;
}

/** Plans the removal of channels `drop` of the last axis of tensor t everywhere downstream. */
function propagate(g: Graph, t: number, drop: number[], edits: Edit[], seen: Set<number>): void {
  if (seen.has(t)) throw new Unsupported(`tensor ${g.tensors[t].name} is reached twice`);
  seen.add(t);
  if (g.outputs.includes(t)) throw new Unsupported("the channels reach a graph output");
  const T = g.tensors[t];
  edits.push(() => { T.shape = T.shape.map((d, k) => (k === lastAxis(T) ? d - drop.length : d)); });
  for (const ci of g.consumers(t)) {
    const c = g.ops[ci];
    const pos = c.inputs.indexOf(t);
    const name = `${opcodeName(c.opcode)} (op ${ci})`;
    if (pos !== 0 && c.opcode !== Opcode.CONCATENATION) throw new Unsupported(`the channels reach input ${pos} of ${name}`);
    const out = c.outputs[0];
    switch (c.opcode) {
      case Opcode.CONV_2D: {
        const w = g.tensors[c.inputs[1]];
        edits.push(() => removeAlong(w, 3, drop));
        break;
      }
      case Opcode.DEPTHWISE_CONV_2D: {
        if (c.inputs.length > 5) throw new Unsupported(`${name} has a fused residual`);
        const dm = c.params[10];
        const outDrop = drop.flatMap((ch) => Array.from({ length: dm }, (_, j) => ch * dm + j));
        const w = g.tensors[c.inputs[1]];
        const n = w.shape[3];
        edits.push(() => removeAlong(w, 3, outDrop));
        for (const k of [2, 3, 4]) removePerChannel(g, c.inputs[k], n, outDrop, edits);
        propagate(g, out, outDrop, edits, seen);
        break;
      }
      case Opcode.FULLY_CONNECTED: {
        const w = g.tensors[c.inputs[1]];
        const cols = flatIndices(T, drop);
        if (w.shape[1] !== T.shape.slice(1).reduce((a, b) => a * b, 1)) throw new Unsupported(`${name} reads a batch of rows`);
        edits.push(() => removeAlong(w, 1, cols));
        break;
      }
      case Opcode.RESHAPE: {
        const o = g.tensors[out];
        const L = o.shape[lastAxis(o)];
        if (L === T.shape[lastAxis(T)]) propagate(g, out, drop, edits, seen);
        else if (L === T.shape.slice(1).reduce((a, b) => a * b, 1)) propagate(g, out, flatIndices(T, drop), edits, seen);
        else throw new Unsupported(`${name} does not keep or flatten the channel axis`);
        break;
      }
      case Opcode.MAX_POOL_2D:
      case Opcode.AVERAGE_POOL_2D:
        propagate(g, out, drop, edits, seen);
        break;
      case Opcode.PAD:
        if (c.params[3] !== 0 || c.params[7] !== 0) throw new Unsupported(`${name} pads the channel axis`);
        propagate(g, out, drop, edits, seen);
        break;
      case Opcode.MEAN:
        if (c.params[0] & 8) throw new Unsupported(`${name} averages over channels`);
        propagate(g, out, drop, edits, seen);
        break;
      case Opcode.QUANTIZE:
        if (c.params[0] !== 1) throw new Unsupported(`${name} changes the type`);
        propagate(g, out, drop, edits, seen);
        break;
      case Opcode.CONCATENATION: {
        if (c.params[0] !== lastAxis(T)) throw new Unsupported(`${name} does not join channels`);
        let offset = 0;
        for (let k = 0; k < pos; k++) offset += g.tensors[c.inputs[k]].shape[lastAxis(T)];
        propagate(g, out, drop.map((ch) => ch + offset), edits, seen);
        break;
      }
      default:
        throw new Unsupported(`the channels reach ${name}`);
    }
  }
}

/** Channel set of an NHWC (or [B, C]) tensor as flat indices of its flattened row. */
function flatIndices(T: ErmTensor, drop: number[]): number[] {
  const C = T.shape[lastAxis(T)];
  const pixels = T.shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let p = 0; p < pixels; p++) for (const c of drop) out.push(p * C + c);
  return out.sort((a, b) => a - b);
}

function chooseChannels(g: Graph, op: number, opts: ChannelPruneOptions): number[] {
  const m = weightMatrix(g, op)!;
  const o = g.ops[op];
  const bias = o.inputs[2] >= 0 ? new Int32Array(g.tensors[o.inputs[2]].data!.slice().buffer) : null;
  const norms = Array.from({ length: m.rows }, (_, r) => {
    let s = 0;
    for (let k = 0; k < m.cols; k++) s += Math.abs(m.data[r * m.cols + k]);
    return { r, s: s * (m.rowScale ? m.rowScale[r] : 1), zero: s === 0 && (!bias || bias[r] === 0) };
  });
  if (opts.zeroOnly) return norms.filter((n) => n.zero).map((n) => n.r).slice(0, m.rows - 1);
  const count = Math.min(m.rows - 1, Math.floor((opts.ratio ?? 0) * m.rows));
  return norms.sort((a, b) => a.s - b.s || a.r - b.r).slice(0, count).map((n) => n.r).sort((a, b) => a - b);
}

export function pruneChannels(g: Graph, opts: ChannelPruneOptions): ChannelPruneResult[] {
  if (!opts.zeroOnly) checkSparsity(opts.ratio ?? NaN, "channel ratio");
  const ops = opts.ops ?? g.ops.map((_, i) => i).filter((i) => weightMatrix(g, i) !== null);
  const results: ChannelPruneResult[] = [];
  for (const op of ops) {
    const o = g.ops[op];
    if (!weightMatrix(g, op)) throw new EdgerunError("PRUNE_BAD_LAYER", "op has no constant int8 weights to prune", { op, opName: opcodeName(o.opcode) });
    const drop = chooseChannels(g, op, opts);
    const rows = weightMatrix(g, op)!.rows;
    const res: ChannelPruneResult = { op, opName: opcodeName(o.opcode), removed: [], kept: rows };
    results.push(res);
    if (drop.length === 0) continue;
    const edits: Edit[] = [];
    try {
      if (o.inputs.length > 5) throw new Unsupported("its output is a fused residual sum");
      const w = g.tensors[o.inputs[1]];
      edits.push(() => removeAlong(w, 0, drop));
      for (const k of [2, 3, 4]) removePerChannel(g, o.inputs[k], rows, drop, edits);
      propagate(g, o.outputs[0], drop, edits, new Set());
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      res.skipped = e.message;
      continue;
    }
    for (const edit of edits) edit();
    res.removed = drop;
    res.kept = rows - drop.length;
  }
  return results;
}
