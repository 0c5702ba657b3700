// In-memory form of an .erm model, as the writer takes it and the reader returns it.
// Byte layout: docs/model-format.md.

import type { DType, Opcode, TensorKind } from "./opcodes.js";

export const ERM_MAGIC = 0x464d5245; // "ERMF" little-endian
export const ERM_VERSION = 2;
export const HEADER_BYTES = 32;
export const SECTION_ENTRY_BYTES = 12;
export const TENSOR_RECORD_BYTES = 48;
export const OP_RECORD_BYTES = 20;
export const ALIGN = 16;
export const MAX_RANK = 4;
/** Limits checked before anything is allocated (hostile files). */
export const LIMITS = {
  maxTensors: 65535,
  maxOps: 65535,
  maxSections: 64,
  maxTensorBytes: 256 * 1024 * 1024,
  maxArenaBytes: 256 * 1024 * 1024,
  maxIoEntries: 1 << 20,
  maxParams: 1 << 20,
  /** Inflated METZ: a bound against deflate bombs. */
  maxMetaBytes: 16 * 1024 * 1024,
} as const;

function fourcc(s: string): number {
  return s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
}

export const SECTION = {
  TENS: fourcc("TENS"),
  OPS: fourcc("OPS "),
  IOIX: fourcc("IOIX"),
  PARM: fourcc("PARM"),
  WGTS: fourcc("WGTS"),
  PLAN: fourcc("PLAN"),
  META: fourcc("META"),
  /** META as raw DEFLATE (RFC 1951); a file has META or METZ, not both. */
  METZ: fourcc("METZ"),
  GOLD: fourcc("GOLD"),
  QSCL: fourcc("QSCL"),
} as const;
export type SectionName = keyof typeof SECTION;

export const TENSOR_FLAG_INPUT = 1;
export const TENSOR_FLAG_OUTPUT = 2;
export const TENSOR_FLAG_SCRATCH = 4;

export interface ErmTensor {
  name: string;
  dtype: DType;
  shape: number[];
  kind: TensorKind;
  flags: number;
  zeroPoint: number;
  scale: number;
  /** Per-channel scales (symmetric weights), with the axis they run along. */
  channelScales?: Float32Array;
  quantAxis?: number;
  /** Arena offset (ARENA tensors), filled by the planner. */
  arenaOffset: number;
  /** Bytes of a CONSTANT tensor. */
  data?: Uint8Array;
}

export interface ErmOp {
  opcode: Opcode;
  inputs: number[]; // -1 = absent optional input
  outputs: number[];
  params: number[];
  scratch: number; // tensor index or -1
}

export interface TensorSpec {
  name: string;
  dtype: string;
  shape: number[];
  scale?: number;
  zeroPoint?: number;
}

export interface ErmMeta {
  name: string;
  version: string;
  description?: string;
  source?: string;
  labels?: string[];
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  preprocessing?: Record<string, unknown>;
  calibration?: Record<string, unknown>;
  /** For each op, the indices of the source model's operators it implements (fusion merges several). */
  sourceOps?: number[][];
  tensorNames?: string[];
  [key: string]: unknown;
}

export interface GoldenVector {
  input: Uint8Array; // graph inputs concatenated in order
  output: Uint8Array; // graph outputs concatenated in order
}

export interface ErmPlan {
  arenaBytes: number;
}

export interface ErmModel {
  tensors: ErmTensor[];
  ops: ErmOp[];
  inputs: number[];
  outputs: number[];
  plan: ErmPlan;
  meta: ErmMeta;
  golden: GoldenVector[];
}

export function tensorBytes(t: Pick<ErmTensor, "dtype" | "shape">, dtypeBytes: number): number {
  return t.shape.reduce((a, b) => a * b, 1) * dtypeBytes;
}

export function alignUp(n: number, a = ALIGN): number {
  return Math.ceil(n / a) * a;
}
