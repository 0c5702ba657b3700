// The AssemblyScript side of the one opcode list (host/format/opcodes.ts is the source of truth;
// a test checks each build accepts exactly these and reports ERM_UNSUPPORTED_OP for the rest).
export const OP_CONV_2D: i32 = 1;
export const OP_DEPTHWISE_CONV_2D: i32 = 2;
export const OP_FULLY_CONNECTED: i32 = 3;
export const OP_AVERAGE_POOL_2D: i32 = 4;
export const OP_MAX_POOL_2D: i32 = 5;
export const OP_ADD: i32 = 6;
export const OP_RESHAPE: i32 = 7;
export const OP_SOFTMAX: i32 = 8;
export const OP_QUANTIZE: i32 = 9;
export const OP_DEQUANTIZE: i32 = 10;
export const OP_MEAN: i32 = 11;
export const OP_CONCATENATION: i32 = 12;
export const OP_PAD: i32 = 13;
