// Serializes an ErmModel into the .erm container (docs/model-format.md).

import { deflateRawSync } from "node:zlib";
import { crc32 } from "./crc32.js";
import { DTYPE_BYTES, TensorKind } from "./opcodes.js";
import {
  ALIGN, ERM_MAGIC, ERM_VERSION, ErmModel, HEADER_BYTES, OP_RECORD_BYTES, SECTION, SECTION_ENTRY_BYTES,
  TENSOR_FLAG_INPUT, TENSOR_FLAG_OUTPUT, TENSOR_RECORD_BYTES, alignUp,
} from "./erm-types.js";
import { EdgerunError } from "./errors.js";

interface Section { id: number; bytes: Uint8Array }

export function writeErm(model: ErmModel): Uint8Array {
  const { weights, offsets: constOffsets } = packWeights(model);
  const { scales, scaleOffsets } = packScales(model);
  const sections: Section[] = [
    { id: SECTION.TENS, bytes: encodeTensors(model, constOffsets, scaleOffsets) },
    ...encodeOps(model),
    { id: SECTION.WGTS, bytes: weights },
    { id: SECTION.QSCL, bytes: scales },
    { id: SECTION.PLAN, bytes: encodePlan(model) },
    encodeMeta(model),
    { id: SECTION.GOLD, bytes: encodeGolden(model) },
  ];
  const tableEnd = HEADER_BYTES + sections.length * SECTION_ENTRY_BYTES;
  let cursor = alignUp(tableEnd);
  const placed = sections.map((s) => {
    const offset = cursor;
    cursor = alignUp(offset + s.bytes.length);
    return { ...s, offset };
  });
  const file = new Uint8Array(cursor);
  const dv = new DataView(file.buffer);
  dv.setUint32(0, ERM_MAGIC, true);
  dv.setUint16(4, ERM_VERSION, true);
  dv.setUint16(6, HEADER_BYTES, true);
  dv.setUint32(8, file.length, true);
  dv.setUint32(12, placed.length, true);
  placed.forEach((s, i) => {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    dv.setUint32(e, s.id, true);
    dv.setUint32(e + 4, s.offset, true);
    dv.setUint32(e + 8, s.bytes.length, true);
    file.set(s.bytes, s.offset);
  });
  dv.setUint32(16, crc32(file, HEADER_BYTES), true);
  return file;
}

/** META as UTF-8 JSON, or deflated as METZ when that is smaller (names and histograms shrink ~3x). */
function encodeMeta(model: ErmModel): Section {
  const json = new TextEncoder().encode(JSON.stringify(model.meta));
  const z = deflateRawSync(json, { level: 9 });
  return z.length < json.length ? { id: SECTION.METZ, bytes: z } : { id: SECTION.META, bytes: json };
}

/** Constants go into one blob, each 16-aligned. */
function packWeights(model: ErmModel) {
  const offsets = new Map<number, number>();
  let size = 0;
  model.tensors.forEach((t, i) => {
    if (t.kind === TensorKind.CONSTANT) {
      if (!t.data) throw new EdgerunError("ERM_WRITE_NO_DATA", `constant tensor ${t.name} has no data`, { tensor: i });
      const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
      if (t.data.length !== expected) {
        throw new EdgerunError("ERM_WRITE_SIZE", `constant tensor ${t.name} data size`, { tensor: i, expected, actual: t.data.length });
      }
      offsets.set(i, size);
      size = alignUp(size + t.data.length);
    }
  });
  const weights = new Uint8Array(size);
  model.tensors.forEach((t, i) => {
    const o = offsets.get(i);
    if (o !== undefined) weights.set(t.data!, o);
  });
  return { weights, offsets };
}

/** Per-channel weight scales (f32) live in QSCL: the runtime never needs them. */
function packScales(model: ErmModel) {
  const scaleOffsets = new Map<number, number>();
  const all: number[] = [];
  model.tensors.forEach((t, i) => {
    if (t.channelScales && t.channelScales.length > 0) {
      scaleOffsets.set(i, all.length * 4);
      all.push(...t.channelScales);
    }
  });
  return { scales: new Uint8Array(Float32Array.from(all).buffer), scaleOffsets };
}

function encodeTensors(model: ErmModel, constOffsets: Map<number, number>, scaleOffsets: Map<number, number>): Uint8Array {
  const out = new Uint8Array(4 + model.tensors.length * TENSOR_RECORD_BYTES);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, model.tensors.length, true);
  const inputs = new Set(model.inputs);
  const outputs = new Set(model.outputs);
  model.tensors.forEach((t, i) => {
    const r = 4 + i * TENSOR_RECORD_BYTES;
    if (t.shape.length > 4) throw new EdgerunError("ERM_WRITE_RANK", `tensor ${t.name} has rank ${t.shape.length} > 4`, { tensor: i });
    let flags = t.flags & ~(TENSOR_FLAG_INPUT | TENSOR_FLAG_OUTPUT);
    if (inputs.has(i)) flags |= TENSOR_FLAG_INPUT;
    if (outputs.has(i)) flags |= TENSOR_FLAG_OUTPUT;
    dv.setUint8(r, t.dtype);
    dv.setUint8(r + 1, t.shape.length);
    dv.setUint8(r + 2, t.kind);
    dv.setUint8(r + 3, flags);
    for (let d = 0; d < 4; d++) dv.setUint32(r + 4 + d * 4, d < t.shape.length ? t.shape[d] : 1, true);
    dv.setInt32(r + 20, t.zeroPoint, true);
    dv.setFloat32(r + 24, t.scale, true);
    const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    dv.setUint32(r + 28, t.kind === TensorKind.CONSTANT ? constOffsets.get(i)! : t.arenaOffset, true);
    dv.setUint32(r + 32, bytes, true);
    const nScales = t.channelScales?.length ?? 0;
    dv.setUint32(r + 36, nScales, true);
    dv.setUint32(r + 40, nScales ? scaleOffsets.get(i)! : 0, true);
    dv.setInt32(r + 44, t.quantAxis ?? 0, true);
  });
  return out;
}

function encodeOps(model: ErmModel): Section[] {
  const io: number[] = [];
  const params: number[] = [];
  const ops = new Uint8Array(4 + model.ops.length * OP_RECORD_BYTES);
  const dv = new DataView(ops.buffer);
  dv.setUint32(0, model.ops.length, true);
  model.ops.forEach((op, i) => {
    const r = 4 + i * OP_RECORD_BYTES;
    dv.setUint16(r, op.opcode, true);
    dv.setUint8(r + 2, op.inputs.length);
    dv.setUint8(r + 3, op.outputs.length);
    dv.setUint32(r + 4, io.length, true);
    dv.setUint32(r + 8, params.length, true);
    dv.setUint32(r + 12, op.params.length, true);
    dv.setInt32(r + 16, op.scratch, true);
    io.push(...op.inputs, ...op.outputs);
    params.push(...op.params);
  });
  return [
    { id: SECTION.OPS, bytes: ops },
    { id: SECTION.IOIX, bytes: int32Section(io) },
    { id: SECTION.PARM, bytes: int32Section(params) },
  ];
}

function int32Section(values: number[]): Uint8Array {
  const out = new Uint8Array(4 + values.length * 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, values.length, true);
  values.forEach((v, i) => dv.setInt32(4 + i * 4, v, true));
  return out;
}

function encodePlan(model: ErmModel): Uint8Array {
  return int32Section([model.plan.arenaBytes, model.inputs.length, model.outputs.length, ...model.inputs, ...model.outputs]).subarray(4);
}

function encodeGolden(model: ErmModel): Uint8Array {
  const total = model.golden.reduce((a, g) => a + 8 + g.input.length + g.output.length, 4);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, model.golden.length, true);
  let p = 4;
  for (const g of model.golden) {
    dv.setUint32(p, g.input.length, true);
    out.set(g.input, p + 4);
    p += 4 + g.input.length;
    dv.setUint32(p, g.output.length, true);
    out.set(g.output, p + 4);
    p += 4 + g.output.length;
  }
  return out;
}

export { ALIGN };
