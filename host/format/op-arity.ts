// How many inputs, outputs and parameter words each opcode takes. The reader checks every op against this table.

import {
  ADD_PARAMS, CONV_PARAMS, FC_PARAMS, HARD_SWISH_PARAMS, LEAKY_RELU_PARAMS, MEAN_PARAMS, MUL_PARAMS, Opcode, PAD_PARAMS, POOL_PARAMS,
  QUANT_PARAMS, SIGMOID_TANH_PARAMS, SOFTMAX_PARAMS, opcodeName,
} from "./opcodes.js";
import type { ErmOp } from "./erm-types.js";
import { EdgerunError } from "./errors.js";

interface Arity { inputs: [number, number]; params: (nIn: number) => number[] }

const conv: Arity = { inputs: [5, 6], params: (n) => (n === 6 ? [CONV_PARAMS.length + ADD_PARAMS.length] : [CONV_PARAMS.length]) };
// The sparse twins take one more word, last: the per-build run bits (host/format/sparse-weights.ts).
// CONV_2D_SPARSE may also carry the filter height and width before it (any filter size; convSparseGeometry).
const convSparse: Arity = { inputs: [5, 6], params: (n) => conv.params(n).flatMap((k) => [k + 1, k + 3]) };

export const ARITY = {
  [Opcode.CONV_2D]: conv,
  [Opcode.DEPTHWISE_CONV_2D]: conv,
  [Opcode.FULLY_CONNECTED]: { inputs: [5, 5], params: () => [FC_PARAMS.length] },
  [Opcode.AVERAGE_POOL_2D]: { inputs: [1, 1], params: () => [POOL_PARAMS.length] },
  [Opcode.MAX_POOL_2D]: { inputs: [1, 1], params: () => [POOL_PARAMS.length] },
  [Opcode.ADD]: { inputs: [2, 2], params: () => [ADD_PARAMS.length] },
  [Opcode.RESHAPE]: { inputs: [1, 1], params: () => [0] },
  [Opcode.SOFTMAX]: { inputs: [1, 1], params: () => [SOFTMAX_PARAMS.length] },
  [Opcode.QUANTIZE]: { inputs: [1, 1], params: () => [QUANT_PARAMS.length] },
  [Opcode.DEQUANTIZE]: { inputs: [1, 1], params: () => [QUANT_PARAMS.length] },
  [Opcode.MEAN]: { inputs: [1, 1], params: () => [MEAN_PARAMS.length] },
  [Opcode.CONCATENATION]: { inputs: [1, 64], params: (n) => [1 + 3 * n] },
  [Opcode.PAD]: { inputs: [1, 1], params: () => [PAD_PARAMS.length] },
  [Opcode.MUL]: { inputs: [2, 2], params: () => [MUL_PARAMS.length] },
  [Opcode.LOGISTIC]: { inputs: [1, 1], params: () => [SIGMOID_TANH_PARAMS.length] },
  [Opcode.TANH]: { inputs: [1, 1], params: () => [SIGMOID_TANH_PARAMS.length] },
  [Opcode.HARD_SWISH]: { inputs: [1, 1], params: () => [HARD_SWISH_PARAMS.length] },
  [Opcode.LEAKY_RELU]: { inputs: [1, 1], params: () => [LEAKY_RELU_PARAMS.length] },
  [Opcode.FULLY_CONNECTED_SPARSE]: { inputs: [5, 5], params: () => [FC_PARAMS.length + 1] },
  [Opcode.CONV_2D_SPARSE]: convSparse,
} as const satisfies Record<Opcode, Arity>;

export function checkOpArity(op: ErmOp, index: number): void {
  const a: Arity = ARITY[op.opcode];
  const ctx = { op: index, opName: opcodeName(op.opcode) };
  if (op.inputs.length < a.inputs[0] || op.inputs.length > a.inputs[1]) {
    throw new EdgerunError("ERM_BAD_OP", "wrong number of inputs", { ...ctx, expected: a.inputs, actual: op.inputs.length });
  }
  if (op.outputs.length !== 1) throw new EdgerunError("ERM_BAD_OP", "wrong number of outputs", { ...ctx, expected: 1, actual: op.outputs.length });
  const allowed = a.params(op.inputs.length);
  if (!allowed.includes(op.params.length)) {
    throw new EdgerunError("ERM_BAD_PARAMS", "wrong number of parameters", { ...ctx, expected: allowed, actual: op.params.length });
  }
}
