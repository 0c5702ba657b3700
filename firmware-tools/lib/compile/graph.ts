// The compiler's working graph: tensors and ops before planning. Importers build it,
// passes rewrite it, compile() plans it and turns it into an ErmModel.

import { DType, DTYPE_BYTES, Opcode, TensorKind } from "../../../host/format/opcodes.js";
import type { ErmOp, ErmTensor } from "../../../host/format/erm-types.js";

export interface GraphOp extends ErmOp {
  /** Indices of the source model's operators this op implements. */
  source: number[];
}

export class Graph {
  tensors: ErmTensor[] = [];
  ops: GraphOp[] = [];
  inputs: number[] = [];
  outputs: number[] = [];
  constructor(public name: string) {}

  addConstant(name: string, dtype: DType, shape: number[], data: Uint8Array): number {
    this.tensors.push({ name, dtype, shape, kind: TensorKind.CONSTANT, flags: 0, zeroPoint: 0, scale: 0, arenaOffset: 0, data });
    return this.tensors.length - 1;
  }

  addArena(name: string, dtype: DType, shape: number[], flags = 0): number {
    this.tensors.push({ name, dtype, shape, kind: TensorKind.ARENA, flags, zeroPoint: 0, scale: 0, arenaOffset: 0 });
    return this.tensors.length - 1;
  }

  /** Ops reading tensor t (as any input). */
  consumers(t: number): number[] {
    const out: number[] = [];
    this.ops.forEach((op, i) => { if (op.inputs.includes(t)) out.push(i); });
    return out;
  }

  producer(t: number): number {
    return this.ops.findIndex((op) => op.outputs.includes(t));
  }
}

export function bytesOf(t: Pick<ErmTensor, "dtype" | "shape">): number {
  return t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
}

/** Multiply-accumulates of one op (for inspect and benchmarks). */
export function opMacs(op: ErmOp, tensors: ErmTensor[]): number {
  const out = tensors[op.outputs[0]];
  const n = out.shape.reduce((a, b) => a * b, 1);
  switch (op.opcode) {
    case Opcode.CONV_2D: {
      const w = tensors[op.inputs[1]].shape;
      return n * w[1] * w[2] * w[3];
    }
    case Opcode.DEPTHWISE_CONV_2D: {
      const w = tensors[op.inputs[1]].shape;
      return n * w[1] * w[2];
    }
    case Opcode.FULLY_CONNECTED:
      return n * tensors[op.inputs[1]].shape[1];
    case Opcode.FULLY_CONNECTED_SPARSE:
    case Opcode.CONV_2D_SPARSE: {
      // Stored weights (zero fillers included) per output value: blocks * R * C / rows.
      const w = tensors[op.inputs[1]].data;
      if (!w || w.length < 16) return 0;
      const dv = new DataView(w.buffer, w.byteOffset, w.byteLength);
      return (n / dv.getUint16(0, true)) * dv.getUint32(8, true) * w[4] * w[5];
    }
    default:
      return 0;
  }
}
