// Reads and checks an .erm file. Every count, length and offset is checked before use;
// a damaged file throws EdgerunError with an ERM_* code and where it failed.

import { inflateRawSync } from "node:zlib";
import { crc32 } from "./crc32.js";
import { ALL_OPCODES, DType, DTYPE_BYTES, Opcode, TensorKind } from "./opcodes.js";
import {
  ERM_MAGIC, ERM_VERSION, ErmMeta, ErmModel, ErmOp, ErmTensor, GoldenVector, HEADER_BYTES, LIMITS, MAX_RANK,
  OP_RECORD_BYTES, SECTION, SECTION_ENTRY_BYTES, SectionName, TENSOR_RECORD_BYTES,
} from "./erm-types.js";
import { EdgerunError } from "./errors.js";
import { checkOpArity } from "./op-arity.js";
import { checkSparseOpWeights, convSparseGeometry } from "./sparse-weights.js";

interface Span { offset: number; length: number }

export interface ReadOptions {
  /** Skip the CRC check (used by tests that mutate files on purpose, to reach the structural checks). */
  skipChecksum?: boolean;
}

export function readErm(file: Uint8Array, opts: ReadOptions = {}): ErmModel {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const sections = readHeader(file, dv, opts);
  const need = (name: SectionName): Span => {
    const s = sections.get(SECTION[name]);
    if (!s) throw new EdgerunError("ERM_MISSING_SECTION", `required section ${name} is missing`, { section: name });
    return s;
  };
  const wgts = need("WGTS");
  const tensors = readTensors(file, dv, need("TENS"), wgts, sections.get(SECTION.QSCL) ?? { offset: 0, length: 0 });
  const plan = readPlan(dv, need("PLAN"), tensors.length);
  checkArenaTensors(tensors, plan.arenaBytes);
  const ops = readOps(dv, need("OPS"), need("IOIX"), need("PARM"), tensors);
  const meta = readMeta(file, sections);
  const goldSpan = sections.get(SECTION.GOLD);
  const golden = goldSpan ? readGolden(file, dv, goldSpan) : [];
  return { tensors, ops, inputs: plan.inputs, outputs: plan.outputs, plan: { arenaBytes: plan.arenaBytes }, meta, golden };
}

function readHeader(file: Uint8Array, dv: DataView, opts: ReadOptions): Map<number, Span> {
  if (file.length < HEADER_BYTES) {
    throw new EdgerunError("ERM_TRUNCATED", "file is shorter than the header", { offset: 0, expected: HEADER_BYTES, actual: file.length });
  }
  if (dv.getUint32(0, true) !== ERM_MAGIC) throw new EdgerunError("ERM_BAD_MAGIC", "not an .erm file", { offset: 0 });
  const version = dv.getUint16(4, true);
  if (version !== ERM_VERSION) {
    throw new EdgerunError("ERM_BAD_VERSION", `unsupported format version${version < ERM_VERSION ? ": convert the model again with this edgerun" : ""}`, { offset: 4, expected: ERM_VERSION, actual: version });
  }
  const fileBytes = dv.getUint32(8, true);
  if (fileBytes > file.length) {
    throw new EdgerunError("ERM_TRUNCATED", "file is shorter than its header says", { offset: 8, expected: fileBytes, actual: file.length });
  }
  if (fileBytes < HEADER_BYTES) throw new EdgerunError("ERM_BAD_SECTION", "header file size below header size", { offset: 8, actual: fileBytes });
  const count = dv.getUint32(12, true);
  if (count > LIMITS.maxSections) {
    throw new EdgerunError("ERM_LIMIT", "too many sections", { offset: 12, expected: `<= ${LIMITS.maxSections}`, actual: count });
  }
  const tableEnd = HEADER_BYTES + count * SECTION_ENTRY_BYTES;
  if (tableEnd > fileBytes) throw new EdgerunError("ERM_TRUNCATED", "section table runs past the end", { offset: 12, expected: tableEnd, actual: fileBytes });
  if (!opts.skipChecksum) {
    const stored = dv.getUint32(16, true);
    const actual = crc32(file, HEADER_BYTES, fileBytes);
    if (stored !== actual) throw new EdgerunError("ERM_CHECKSUM", "checksum mismatch: the file is damaged", { offset: 16, expected: stored, actual });
  }
  const sections = new Map<number, Span>();
  for (let i = 0; i < count; i++) {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    const id = dv.getUint32(e, true);
    const offset = dv.getUint32(e + 4, true);
    const length = dv.getUint32(e + 8, true);
    if (offset < tableEnd || offset % 16 !== 0 || offset + length > fileBytes) {
      throw new EdgerunError("ERM_BAD_SECTION", "section lies outside the file or is misaligned", { offset: e, section: sectionName(id), expected: `16-aligned within [${tableEnd}, ${fileBytes}]`, actual: { offset, length } });
    }
    if (sections.has(id)) throw new EdgerunError("ERM_BAD_SECTION", "duplicate section", { offset: e, section: sectionName(id) });
    sections.set(id, { offset, length });
  }
  return sections;
}

function sectionName(id: number): string {
  return String.fromCharCode(id & 0xff, (id >>> 8) & 0xff, (id >>> 16) & 0xff, (id >>> 24) & 0xff);
}

function countedRecords(dv: DataView, span: Span, recordBytes: number, max: number, what: string): number {
  if (span.length < 4) throw new EdgerunError("ERM_TRUNCATED", `${what} section has no count`, { offset: span.offset, section: what });
  const n = dv.getUint32(span.offset, true);
  if (n > max) throw new EdgerunError("ERM_LIMIT", `too many ${what} entries`, { offset: span.offset, expected: `<= ${max}`, actual: n });
  if (4 + n * recordBytes > span.length) {
    throw new EdgerunError("ERM_TRUNCATED", `${what} section is shorter than its count says`, { offset: span.offset, expected: 4 + n * recordBytes, actual: span.length });
  }
  return n;
}

function readTensors(file: Uint8Array, dv: DataView, span: Span, wgts: Span, qscl: Span): ErmTensor[] {
  const n = countedRecords(dv, span, TENSOR_RECORD_BYTES, LIMITS.maxTensors, "TENS");
  const tensors: ErmTensor[] = [];
  for (let i = 0; i < n; i++) {
    const r = span.offset + 4 + i * TENSOR_RECORD_BYTES;
    const dtype = dv.getUint8(r) as DType;
    const rank = dv.getUint8(r + 1);
    const kind = dv.getUint8(r + 2) as TensorKind;
    const flags = dv.getUint8(r + 3);
    const ctx = { offset: r, tensor: i };
    if (!(dtype in DTYPE_BYTES)) throw new EdgerunError("ERM_BAD_TENSOR", "unknown dtype", { ...ctx, actual: dtype });
    if (rank > MAX_RANK) throw new EdgerunError("ERM_BAD_TENSOR", "rank above 4", { ...ctx, actual: rank });
    if (kind !== TensorKind.ARENA && kind !== TensorKind.CONSTANT) throw new EdgerunError("ERM_BAD_TENSOR", "unknown tensor kind", { ...ctx, actual: kind });
    const shape: number[] = [];
    let elements = 1;
    for (let d = 0; d < 4; d++) {
      const v = dv.getUint32(r + 4 + d * 4, true);
      if (d >= rank && v !== 1) throw new EdgerunError("ERM_BAD_TENSOR", "unused dimension is not 1", { ...ctx, actual: v });
      if (d < rank) shape.push(v);
      elements *= v;
      if (elements * DTYPE_BYTES[dtype] > LIMITS.maxTensorBytes) {
        throw new EdgerunError("ERM_LIMIT", "tensor too large", { ...ctx, expected: `<= ${LIMITS.maxTensorBytes} bytes`, actual: shape });
      }
    }
    const byteLength = dv.getUint32(r + 32, true);
    if (byteLength !== elements * DTYPE_BYTES[dtype]) {
      throw new EdgerunError("ERM_BAD_TENSOR", "byte length does not match shape", { ...ctx, expected: elements * DTYPE_BYTES[dtype], actual: byteLength });
    }
    const dataOffset = dv.getUint32(r + 28, true);
    const t: ErmTensor = { name: `t${i}`, dtype, shape, kind, flags, zeroPoint: dv.getInt32(r + 20, true), scale: dv.getFloat32(r + 24, true), arenaOffset: 0 };
    if (kind === TensorKind.CONSTANT) {
      if (dataOffset % 4 !== 0 || dataOffset + byteLength > wgts.length) {
        throw new EdgerunError("ERM_BAD_OFFSET", "constant data outside the weights section", { ...ctx, expected: `<= ${wgts.length}`, actual: dataOffset + byteLength });
      }
      t.data = file.subarray(wgts.offset + dataOffset, wgts.offset + dataOffset + byteLength);
    } else {
      t.arenaOffset = dataOffset;
    }
    const nScales = dv.getUint32(r + 36, true);
    if (nScales > 0) {
      const so = dv.getUint32(r + 40, true);
      if (nScales > 65536 || so % 4 !== 0 || so + nScales * 4 > qscl.length) {
        throw new EdgerunError("ERM_BAD_OFFSET", "channel scales outside the QSCL section", { ...ctx, actual: { so, nScales } });
      }
      t.channelScales = new Float32Array(nScales);
      for (let c = 0; c < nScales; c++) t.channelScales[c] = dv.getFloat32(qscl.offset + so + c * 4, true);
      t.quantAxis = dv.getInt32(r + 44, true);
    }
    tensors.push(t);
  }
  return tensors;
}

function readPlan(dv: DataView, span: Span, nTensors: number) {
  if (span.length < 12) throw new EdgerunError("ERM_TRUNCATED", "PLAN section too short", { offset: span.offset, section: "PLAN" });
  const arenaBytes = dv.getUint32(span.offset, true);
  const nIn = dv.getUint32(span.offset + 4, true);
  const nOut = dv.getUint32(span.offset + 8, true);
  if (arenaBytes > LIMITS.maxArenaBytes) throw new EdgerunError("ERM_LIMIT", "arena too large", { offset: span.offset, actual: arenaBytes });
  if (nIn > 64 || nOut > 64 || nIn === 0 || nOut === 0) throw new EdgerunError("ERM_BAD_PARAMS", "bad graph input/output count", { offset: span.offset + 4, actual: { nIn, nOut } });
  if (12 + (nIn + nOut) * 4 > span.length) throw new EdgerunError("ERM_TRUNCATED", "PLAN section shorter than its counts", { offset: span.offset });
  const idx = (k: number) => {
    const v = dv.getInt32(span.offset + 12 + k * 4, true);
    if (v < 0 || v >= nTensors) throw new EdgerunError("ERM_BAD_OFFSET", "graph input/output tensor index out of range", { offset: span.offset + 12 + k * 4, actual: v });
    return v;
  };
  const inputs = Array.from({ length: nIn }, (_, k) => idx(k));
  const outputs = Array.from({ length: nOut }, (_, k) => idx(nIn + k));
  return { arenaBytes, inputs, outputs };
}

function checkArenaTensors(tensors: ErmTensor[], arenaBytes: number): void {
  tensors.forEach((t, i) => {
    if (t.kind !== TensorKind.ARENA) return;
    const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (t.arenaOffset % 4 !== 0 || t.arenaOffset + bytes > arenaBytes) {
      throw new EdgerunError("ERM_BAD_OFFSET", "tensor lies outside the arena", { tensor: i, expected: `<= ${arenaBytes}`, actual: t.arenaOffset + bytes });
    }
  });
}

function readOps(dv: DataView, span: Span, ioSpan: Span, parmSpan: Span, tensors: ErmTensor[]): ErmOp[] {
  const n = countedRecords(dv, span, OP_RECORD_BYTES, LIMITS.maxOps, "OPS");
  const nIo = countedRecords(dv, ioSpan, 4, LIMITS.maxIoEntries, "IOIX");
  const nParm = countedRecords(dv, parmSpan, 4, LIMITS.maxParams, "PARM");
  const ops: ErmOp[] = [];
  for (let i = 0; i < n; i++) {
    const r = span.offset + 4 + i * OP_RECORD_BYTES;
    const opcode = dv.getUint16(r, true) as Opcode;
    const nIn = dv.getUint8(r + 2);
    const nOut = dv.getUint8(r + 3);
    const ioIndex = dv.getUint32(r + 4, true);
    const pIndex = dv.getUint32(r + 8, true);
    const pCount = dv.getUint32(r + 12, true);
    const scratch = dv.getInt32(r + 16, true);
    const ctx = { offset: r, op: i };
    if (!ALL_OPCODES.includes(opcode)) throw new EdgerunError("ERM_UNSUPPORTED_OP", "unknown opcode", { ...ctx, actual: opcode });
    if (ioIndex + nIn + nOut > nIo) throw new EdgerunError("ERM_BAD_OFFSET", "op inputs/outputs outside IOIX", { ...ctx, expected: `<= ${nIo}`, actual: ioIndex + nIn + nOut });
    if (pIndex + pCount > nParm) throw new EdgerunError("ERM_BAD_OFFSET", "op params outside PARM", { ...ctx, expected: `<= ${nParm}`, actual: pIndex + pCount });
    const io = (k: number) => dv.getInt32(ioSpan.offset + 4 + (ioIndex + k) * 4, true);
    const inputs = Array.from({ length: nIn }, (_, k) => io(k));
    const outputs = Array.from({ length: nOut }, (_, k) => io(nIn + k));
    for (const t of [...inputs, ...outputs, scratch]) {
      if (t < -1 || t >= tensors.length) throw new EdgerunError("ERM_BAD_OFFSET", "op refers to a tensor that does not exist", { ...ctx, actual: t });
    }
    if (outputs.includes(-1)) throw new EdgerunError("ERM_BAD_OP", "op output missing", ctx);
    const params = Array.from({ length: pCount }, (_, k) => dv.getInt32(parmSpan.offset + 4 + (pIndex + k) * 4, true));
    const op: ErmOp = { opcode, inputs, outputs, params, scratch };
    checkOpArity(op, i);
    if (opcode === Opcode.FULLY_CONNECTED_SPARSE || opcode === Opcode.CONV_2D_SPARSE) {
      checkSparseOpWeights(inputs, tensors, i, params, opcode === Opcode.CONV_2D_SPARSE && convSparseGeometry(inputs.length, params) !== null);
    }
    ops.push(op);
  }
  return ops;
}

function readMeta(file: Uint8Array, sections: Map<number, Span>): ErmMeta {
  const plain = sections.get(SECTION.META), zipped = sections.get(SECTION.METZ);
  if (plain && zipped) throw new EdgerunError("ERM_BAD_SECTION", "both META and METZ are present", { offset: zipped.offset, section: "METZ" });
  const span = plain ?? zipped;
  if (!span) return { name: "unnamed", version: "0.0.0" };
  const section = plain ? "META" : "METZ";
  try {
    let bytes = file.subarray(span.offset, span.offset + span.length);
    if (zipped) bytes = inflateRawSync(bytes, { maxOutputLength: LIMITS.maxMetaBytes });
    const meta = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) throw new Error("not an object");
    return meta as ErmMeta;
  } catch (e) {
    throw new EdgerunError("ERM_BAD_META", `metadata is not a JSON object: ${(e as Error).message}`, { offset: span.offset, section });
  }
}

function readGolden(file: Uint8Array, dv: DataView, span: Span): GoldenVector[] {
  const end = span.offset + span.length;
  if (span.length < 4) throw new EdgerunError("ERM_TRUNCATED", "GOLD section has no count", { offset: span.offset, section: "GOLD" });
  const n = dv.getUint32(span.offset, true);
  if (n > 1024) throw new EdgerunError("ERM_LIMIT", "too many golden vectors", { offset: span.offset, actual: n });
  let p = span.offset + 4;
  const take = (): Uint8Array => {
    if (p + 4 > end) throw new EdgerunError("ERM_TRUNCATED", "golden vector length runs past the section", { offset: p, section: "GOLD" });
    const len = dv.getUint32(p, true);
    if (p + 4 + len > end) throw new EdgerunError("ERM_TRUNCATED", "golden vector runs past the section", { offset: p, section: "GOLD", expected: len, actual: end - p - 4 });
    const bytes = file.slice(p + 4, p + 4 + len);
    p += 4 + len;
    return bytes;
  };
  const out: GoldenVector[] = [];
  for (let i = 0; i < n; i++) out.push({ input: take(), output: take() });
  return out;
}
