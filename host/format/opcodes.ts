// The one opcode list of the .erm format. The AssemblyScript registry mirrors it
// (assembly/graph/opcodes.ts) and a test proves both builds accept exactly these.

export enum Opcode {
  CONV_2D = 1,
  DEPTHWISE_CONV_2D = 2,
  FULLY_CONNECTED = 3,
  AVERAGE_POOL_2D = 4,
  MAX_POOL_2D = 5,
  ADD = 6,
  RESHAPE = 7,
  SOFTMAX = 8,
  QUANTIZE = 9,
  DEQUANTIZE = 10,
  MEAN = 11,
  CONCATENATION = 12,
  PAD = 13,
  MUL = 14,
  LOGISTIC = 15,
  TANH = 16,
  HARD_SWISH = 17,
  LEAKY_RELU = 18,
  // Sparse weights (host/format/sparse-weights.ts); numbered apart so dense ops can grow without renumbering.
  FULLY_CONNECTED_SPARSE = 32,
  CONV_2D_SPARSE = 33,
}

export const OPCODE_NAMES = {
  [Opcode.CONV_2D]: "CONV_2D",
  [Opcode.DEPTHWISE_CONV_2D]: "DEPTHWISE_CONV_2D",
  [Opcode.FULLY_CONNECTED]: "FULLY_CONNECTED",
  [Opcode.AVERAGE_POOL_2D]: "AVERAGE_POOL_2D",
  [Opcode.MAX_POOL_2D]: "MAX_POOL_2D",
  [Opcode.ADD]: "ADD",
  [Opcode.RESHAPE]: "RESHAPE",
  [Opcode.SOFTMAX]: "SOFTMAX",
  [Opcode.QUANTIZE]: "QUANTIZE",
  [Opcode.DEQUANTIZE]: "DEQUANTIZE",
  [Opcode.MEAN]: "MEAN",
  [Opcode.CONCATENATION]: "CONCATENATION",
  [Opcode.PAD]: "PAD",
  [Opcode.MUL]: "MUL",
  [Opcode.LOGISTIC]: "LOGISTIC",
  [Opcode.TANH]: "TANH",
  [Opcode.HARD_SWISH]: "HARD_SWISH",
  [Opcode.LEAKY_RELU]: "LEAKY_RELU",
  [Opcode.FULLY_CONNECTED_SPARSE]: "FULLY_CONNECTED_SPARSE",
  [Opcode.CONV_2D_SPARSE]: "CONV_2D_SPARSE",
} as const satisfies Record<Opcode, string>;

export const ALL_OPCODES = Object.keys(OPCODE_NAMES).map(Number) as Opcode[];

export function opcodeName(op: number): string {
  return (OPCODE_NAMES as Record<number, string>)[op] ?? `OP_${op}`;
}

export enum DType {
  INT8 = 1,
  UINT8 = 2,
  INT16 = 3,
  INT32 = 4,
  FLOAT32 = 5,
}

export const DTYPE_BYTES = {
  [DType.INT8]: 1,
  [DType.UINT8]: 1,
  [DType.INT16]: 2,
  [DType.INT32]: 4,
  [DType.FLOAT32]: 4,
} as const satisfies Record<DType, number>;

export const DTYPE_NAMES = {
  [DType.INT8]: "int8",
  [DType.UINT8]: "uint8",
  [DType.INT16]: "int16",
  [DType.INT32]: "int32",
  [DType.FLOAT32]: "float32",
} as const satisfies Record<DType, string>;

/** Where a tensor's bytes live: in the arena (planned) or in the weights section. */
export enum TensorKind {
  ARENA = 0,
  CONSTANT = 1,
}

/**
 * Meaning of each op's i32 parameter words (the PARM section). Kept here so the
 * writer, the reader's checks and `inspect` agree; the AssemblyScript prepare code reads the same order.
 */
export const CONV_PARAMS = ["strideH", "strideW", "dilH", "dilW", "padTop", "padLeft", "inputOffset", "outputOffset", "actMin", "actMax", "depthMultiplier"] as const;
export const ADD_PARAMS = ["in1Offset", "in2Offset", "leftShift", "in1Mult", "in1Shift", "in2Mult", "in2Shift", "outMult", "outShift", "outOffset", "actMin", "actMax"] as const;
export const FC_PARAMS = ["inputOffset", "outputOffset", "actMin", "actMax"] as const;
export const POOL_PARAMS = ["strideH", "strideW", "filterH", "filterW", "padTop", "padLeft", "actMin", "actMax"] as const;
export const SOFTMAX_PARAMS = ["inputMult", "inputLeftShift", "diffMin"] as const;
export const QUANT_PARAMS = ["mode", "scaleBits", "inZp", "outZp", "mult", "shift"] as const;
export const MEAN_PARAMS = ["axesMask", "inZp", "outZp", "mult", "shift"] as const;
export const PAD_PARAMS = ["before0", "before1", "before2", "before3", "after0", "after1", "after2", "after3", "padValue"] as const;
export const MUL_PARAMS = ["in1Offset", "in2Offset", "outOffset", "outMult", "outShift", "actMin", "actMax"] as const;
/** LOGISTIC and TANH (TFLM's fixed-point sigmoid/tanh with 4 integer bits). */
export const SIGMOID_TANH_PARAMS = ["inZp", "inputRangeRadius", "inputMult", "inputLeftShift"] as const;
export const HARD_SWISH_PARAMS = ["inZp", "outZp", "outMultInt16", "outExponent", "reluishMultInt16", "reluishExponent"] as const;
export const LEAKY_RELU_PARAMS = ["inZp", "outZp", "identityMult", "identityShift", "alphaMult", "alphaShift", "actMin", "actMax"] as const;

/** QUANTIZE / DEQUANTIZE modes (QuantArgs.mode on the AssemblyScript side). */
export enum QuantMode {
  F32_TO_I8 = 0,
  I8_TO_I8 = 1,
  I8_TO_F32 = 2,
  U8_TO_I8 = 3,
  I8_TO_U8 = 4,
}
