// Fusion pass: ADD(conv(x), r) -> conv(x) with a fused requantizing ADD of r, written in place
// over r when r dies at the ADD. The conv's own int8 output is never materialized, which removes
// one activation buffer from the memory plan (the residual blocks of ResNets hit their peak there).

import { Opcode, TensorKind } from "../../../host/format/opcodes.js";
import type { Graph } from "./graph.js";

export function fuseConvAdd(g: Graph): number {
  let fused = 0;
  for (let i = 0; i < g.ops.length; i++) {
    const add = g.ops[i];
    if (add.opcode !== Opcode.ADD) continue;
    for (const side of [0, 1]) {
      const x = add.inputs[side], r = add.inputs[1 - side];
      const p = g.producer(x);
      if (p < 0 || p >= i) continue;
      const conv = g.ops[p];
      if (conv.opcode !== Opcode.CONV_2D && conv.opcode !== Opcode.DEPTHWISE_CONV_2D) continue;
      if (conv.inputs.length !== 5) continue; // already fused
      if (g.consumers(x).length !== 1 || g.outputs.includes(x)) continue;
      const rt = g.tensors[r], yt = g.tensors[add.outputs[0]];
      if (rt.kind !== TensorKind.ARENA || count(rt.shape) !== count(yt.shape) || count(g.tensors[x].shape) !== count(yt.shape)) continue;
      // r must already exist when the conv runs (it is read while the conv writes).
      const rp = g.producer(r);
      if (rp >= p) continue;
      // Parameter order: ADD(in1, in2); the conv value takes the in1 slot.
      const words = add.params.slice();
      if (side === 1) swapAddInputs(words);
      conv.inputs = [...conv.inputs, r];
      conv.params = [...conv.params, ...words];
      conv.outputs = [add.outputs[0]];
      conv.source = [...conv.source, ...add.source];
      g.ops.splice(i, 1);
      i--;
      fused++;
      break;
    }
  }
  return fused;
}

function count(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** ADD params are [in1Offset, in2Offset, leftShift, in1Mult, in1Shift, in2Mult, in2Shift, ...]: swap 1 and 2. */
function swapAddInputs(w: number[]): void {
  [w[0], w[1]] = [w[1], w[0]];
  [w[3], w[5]] = [w[5], w[3]];
  [w[4], w[6]] = [w[6], w[4]];
}
