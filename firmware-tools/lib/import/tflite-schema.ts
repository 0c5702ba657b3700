// Typed, bounds-checked access to the TFLite flatbuffer (tensorflow/lite/schema/schema.fbs)
// through the flatbuffers runtime. Only the tables and fields the importer needs are named here;
// field ids are the schema's (vtable slot = 4 + 2 * id).

import * as flatbuffers from "flatbuffers";
import { EdgerunError } from "../../../host/format/errors.js";

export class FbTable {
  constructor(readonly bb: flatbuffers.ByteBuffer, readonly pos: number) {}

  private field(id: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * id);
  }
  /** Absolute byte position of a scalar field, or 0 when the field is absent (tests patch files with it). */
  fieldPos(id: number): number {
    const o = this.field(id);
    return o ? this.pos + o : 0;
  }
  has(id: number): boolean {
    return this.field(id) !== 0;
  }
  int32(id: number, dflt = 0): number {
    const o = this.field(id);
    return o ? this.bb.readInt32(this.pos + o) : dflt;
  }
  uint32(id: number, dflt = 0): number {
    const o = this.field(id);
    return o ? this.bb.readUint32(this.pos + o) : dflt;
  }
  int8(id: number, dflt = 0): number {
    const o = this.field(id);
    return o ? this.bb.readInt8(this.pos + o) : dflt;
  }
  uint8(id: number, dflt = 0): number {
    const o = this.field(id);
    return o ? this.bb.readUint8(this.pos + o) : dflt;
  }
  float32(id: number, dflt = 0): number {
    const o = this.field(id);
    return o ? this.bb.readFloat32(this.pos + o) : dflt;
  }
  bool(id: number, dflt = false): boolean {
    const o = this.field(id);
    return o ? this.bb.readInt8(this.pos + o) !== 0 : dflt;
  }
  string(id: number): string {
    const o = this.field(id);
    return o ? String(this.bb.__string(this.pos + o)) : "";
  }
  table(id: number): FbTable | null {
    const o = this.field(id);
    return o ? new FbTable(this.bb, checked(this.bb, this.bb.__indirect(this.pos + o), 4)) : null;
  }
  /** Start and length of a vector of elemBytes-sized scalars, checked to lie in the buffer. */
  vector(id: number, elemBytes: number): { start: number; length: number } {
    const o = this.field(id);
    if (!o) return { start: 0, length: 0 };
    const start = checked(this.bb, this.bb.__vector(this.pos + o), 0);
    const length = this.bb.__vector_len(this.pos + o);
    checked(this.bb, start, length * elemBytes);
    return { start, length };
  }
  int32s(id: number): number[] {
    const v = this.vector(id, 4);
    return Array.from({ length: v.length }, (_, i) => this.bb.readInt32(v.start + i * 4));
  }
  float32s(id: number): number[] {
    const v = this.vector(id, 4);
    return Array.from({ length: v.length }, (_, i) => this.bb.readFloat32(v.start + i * 4));
  }
  int64s(id: number): number[] {
    const v = this.vector(id, 8);
    return Array.from({ length: v.length }, (_, i) => Number(this.bb.readInt64(v.start + i * 8)));
  }
  bytes(id: number): Uint8Array {
    const v = this.vector(id, 1);
    return this.bb.bytes().subarray(v.start, v.start + v.length);
  }
  tables(id: number): FbTable[] {
    const v = this.vector(id, 4);
    return Array.from({ length: v.length }, (_, i) => new FbTable(this.bb, checked(this.bb, this.bb.__indirect(v.start + i * 4), 4)));
  }
}

function checked(bb: flatbuffers.ByteBuffer, pos: number, bytes: number): number {
  if (!Number.isInteger(pos) || pos < 0 || pos + bytes > bb.capacity()) {
    throw new EdgerunError("TFLITE_MALFORMED", "flatbuffer offset points outside the file", { offset: pos, actual: bytes });
  }
  return pos;
}

export function rootTable(bytes: Uint8Array): FbTable {
  if (bytes.length < 8) throw new EdgerunError("TFLITE_MALFORMED", "file too short to be a TFLite model", { actual: bytes.length });
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (!bb.__has_identifier("TFL3")) throw new EdgerunError("TFLITE_MALFORMED", "missing TFL3 file identifier: not a TFLite model");
  return new FbTable(bb, checked(bb, bb.readUint32(0), 4));
}

// Field ids (schema.fbs).
export const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 } as const;
export const OPERATOR_CODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 } as const;
export const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;
export const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, isVariable: 5, sparsity: 6 } as const;
export const QUANT = { min: 0, max: 1, scale: 2, zeroPoint: 3, detailsType: 4, details: 5, quantizedDimension: 6 } as const;
export const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4 } as const;
export const BUFFER = { data: 0, offset: 1, size: 2 } as const;
export const CONV_OPTS = { padding: 0, strideW: 1, strideH: 2, activation: 3, dilationW: 4, dilationH: 5 } as const;
export const DW_OPTS = { padding: 0, strideW: 1, strideH: 2, depthMultiplier: 3, activation: 4, dilationW: 5, dilationH: 6 } as const;
export const FC_OPTS = { activation: 0, weightsFormat: 1, keepNumDims: 2 } as const;
export const POOL_OPTS = { padding: 0, strideW: 1, strideH: 2, filterW: 3, filterH: 4, activation: 5 } as const;
export const ADD_OPTS = { activation: 0 } as const;
export const SOFTMAX_OPTS = { beta: 0 } as const;
export const CONCAT_OPTS = { axis: 0, activation: 1 } as const;
export const REDUCER_OPTS = { keepDims: 0 } as const;

export enum TflType { FLOAT32 = 0, FLOAT16 = 1, INT32 = 2, UINT8 = 3, INT64 = 4, STRING = 5, BOOL = 6, INT16 = 7, COMPLEX64 = 8, INT8 = 9 }
export enum Padding { SAME = 0, VALID = 1 }
export enum Activation { NONE = 0, RELU = 1, RELU_N1_TO_1 = 2, RELU6 = 3, TANH = 4, SIGN_BIT = 5 }

export const BUILTIN = {
  ADD: 0, AVERAGE_POOL_2D: 1, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6, FULLY_CONNECTED: 9,
  LOGISTIC: 14, MAX_POOL_2D: 17, MUL: 18, RELU: 19, RELU6: 21, RESHAPE: 22, SOFTMAX: 25, TANH: 28, PAD: 34,
  TRANSPOSE: 39, MEAN: 40, SUB: 41, SQUEEZE: 43, STRIDED_SLICE: 45, PADV2: 60, SHAPE: 77, QUANTIZE: 114, HARD_SWISH: 117,
} as const;

export function builtinName(code: number): string {
  for (const [k, v] of Object.entries(BUILTIN)) if (v === code) return k;
  return `BUILTIN_${code}`;
}
