// The float intermediate graph: what the ONNX importer produces and the quantizer consumes.
// Tensors keep ONNX semantics (NCHW, ONNX shapes); the layout change to the runtime's NHWC
// happens when the graph is lowered to int8 (lib/quantize/lower.ts). Every node is one of a
// small set of normalized ops (BatchNormalization already folded, Gemm/MatMul as "fc" with
// [out, in] weights, Dropout and Identity removed), so the executor and the lowering each
// handle a short list.

export type FOpKind =
  | "conv" | "fc" | "maxpool" | "avgpool" | "gap" | "add" | "mul" | "relu" | "clip" | "leakyrelu"
  | "sigmoid" | "tanh" | "hardswish" | "concat" | "reshape" | "transpose" | "pad" | "softmax" | "requant";

/** Quantization given by a pre-quantized model (QDQ / QOperator), already shifted to int8. */
export interface FixedQuant {
  /** One scale (per tensor) or one per channel along `axis`. */
  scale: number[];
  zeroPoint: number[];
  axis?: number;
  /** Integer values of a quantized constant (int8 after the uint8 shift, or int32 bias). */
  ints?: Int32Array;
  /** The ONNX element type before conversion (graph inputs and outputs keep it). */
  sourceType: "int8" | "uint8" | "int32";
}

export interface FTensor {
  name: string;
  shape: number[];
  /** Constant values (row-major, ONNX layout). */
  data?: Float32Array;
  quant?: FixedQuant;
}

export interface ConvAttrs { strides: number[]; pads: number[]; dilations: number[]; group: number }
export interface PoolAttrs { kernel: number[]; strides: number[]; pads: number[]; countIncludePad: boolean }

export interface FNode {
  kind: FOpKind;
  /** conv: x, w [O, I/g, kh, kw], b?; fc: x, w [N, K], b?; add/mul/concat: operands; else x. */
  inputs: string[];
  output: string;
  /** ONNX node name and index this node came from (for errors and the report). */
  name: string;
  source: number[];
  conv?: ConvAttrs;
  pool?: PoolAttrs;
  /** clip bounds, leakyrelu alpha, concat/softmax axis, transpose perm, pad pads + value. */
  min?: number;
  max?: number;
  alpha?: number;
  axis?: number;
  perm?: number[];
  pads?: number[];
  padValue?: number;
  /** softmax before opset 13: normalizes over all dims from `axis` on, not just `axis`. */
  legacy?: boolean;
}

export class FGraph {
  tensors = new Map<string, FTensor>();
  nodes: FNode[] = [];
  inputs: string[] = [];
  outputs: string[] = [];
  /** ONNX element type (1 float, 2 uint8, 3 int8) of each graph input and output. */
  ioTypes = new Map<string, number>();
  constructor(public name: string) {}

  tensor(name: string): FTensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`internal: unknown tensor ${name}`);
    return t;
  }

  isConstant(name: string): boolean {
    return this.tensors.get(name)?.data !== undefined;
  }

  producer(name: string): FNode | undefined {
    return this.nodes.find((n) => n.output === name);
  }

  consumers(name: string): FNode[] {
    return this.nodes.filter((n) => n.inputs.includes(name));
  }
}

export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** NumPy broadcasting of two shapes (undefined when they do not broadcast). */
export function broadcastShapes(a: number[], b: number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(Math.max(da, db));
  }
  return out;
}
