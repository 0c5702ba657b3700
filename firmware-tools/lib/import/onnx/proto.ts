// ONNX protobuf access through onnx-proto (generated protobufjs messages): decoding a model or a
// TensorProto, tensor payloads as plain number arrays, and typed attribute getters. No byte is
// parsed by hand here; the protobuf runtime does it.

import onnxProto from "onnx-proto";
import { EdgerunError } from "../../../../host/format/errors.js";

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.IModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** ONNX TensorProto.DataType values used here. */
export const ODT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new EdgerunError("ONNX_MALFORMED", `not a readable ONNX model: ${(e as Error).message}`);
  }
}

export function decodeTensor(bytes: Uint8Array): TensorProto {
  try {
    return onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new EdgerunError("ONNX_MALFORMED", `not a readable ONNX tensor: ${(e as Error).message}`);
  }
}

const num = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === "number" ? v : v.toNumber());

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(num);
}

/** A tensor's values as doubles (int64 through Number: the values we accept are small). */
export function tensorValues(t: TensorProto): number[] {
  const dt = t.dataType ?? 0;
  const count = tensorDims(t).reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  if (raw) {
    const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    switch (dt) {
      case ODT.FLOAT: return Array.from(new Float32Array(buf));
      case ODT.DOUBLE: return Array.from(new Float64Array(buf));
      case ODT.UINT8: case ODT.BOOL: return Array.from(new Uint8Array(buf));
      case ODT.INT8: return Array.from(new Int8Array(buf));
      case ODT.INT32: return Array.from(new Int32Array(buf));
      case ODT.INT64: return Array.from(new BigInt64Array(buf), (v) => Number(v));
      default: break;
    }
  } else {
    let v: number[] | null = null;
    if (dt === ODT.FLOAT) v = t.floatData ?? [];
    else if (dt === ODT.DOUBLE) v = t.doubleData ?? [];
    else if (dt === ODT.INT64) v = (t.int64Data ?? []).map(num);
    else if (dt === ODT.UINT8 || dt === ODT.INT8 || dt === ODT.INT32 || dt === ODT.BOOL) v = t.int32Data ?? [];
    if (v) {
      if (v.length !== count) throw new EdgerunError("ONNX_MALFORMED", `tensor ${t.name ?? ""} holds ${v.length} values for ${count} elements`, { expected: count, actual: v.length });
      return v.slice();
    }
  }
  throw new EdgerunError("CONVERT_UNSUPPORTED", `tensor ${t.name ?? ""} has data type ${dt}, which edgerun does not read`, { actual: dt });
}

export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? num(a.i as number) : dflt;
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? 0) : dflt;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}

export function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = attr(node, name);
  return a && a.s ? new TextDecoder().decode(a.s) : dflt;
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return attr(node, name)?.t ?? undefined;
}

/** Static shape of a value_info (dims without a value are reported as -1). */
export function valueInfoShape(v: ValueInfoProto): { shape: number[]; dtype: number } {
  const tt = v.type?.tensorType;
  // dim_value and dim_param are a oneof: `value` names the one that is set.
  const shape = (tt?.shape?.dim ?? []).map((d) => ((d as { value?: string }).value === "dimValue" ? num(d.dimValue as number) : -1));
  return { shape, dtype: tt?.elemType ?? 0 };
}
