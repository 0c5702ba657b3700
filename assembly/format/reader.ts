// Bounds-checked reader of the .erm container (docs/model-format.md). It only looks at the
// header, the section table and the fixed sections the runtime needs; every offset and length
// is checked against the file before it is used.

import * as S from "./status";

export const MAGIC: u32 = 0x464d5245; // "ERMF"
export const VERSION: u32 = 2; // 2: per-channel shifts are int8; META may be stored deflated (METZ)
export const HEADER_BYTES: u32 = 32;
export const SECTION_ENTRY_BYTES: u32 = 12;
export const TENSOR_RECORD_BYTES: u32 = 48;
export const OP_RECORD_BYTES: u32 = 20;
export const MAX_SECTIONS: u32 = 64;
export const MAX_TENSORS: u32 = 65535;
export const MAX_OPS: u32 = 65535;

export const SEC_TENS: u32 = 0x534e4554;
export const SEC_OPS: u32 = 0x2053504f;
export const SEC_IOIX: u32 = 0x58494f49;
export const SEC_PARM: u32 = 0x4d524150;
export const SEC_WGTS: u32 = 0x53544757;
export const SEC_PLAN: u32 = 0x4e414c50;

/** The located sections of the loaded model (absolute pointers into linear memory). */
@unmanaged export class ModelView {
  base: usize = 0;
  bytes: u32 = 0;
  tens: usize = 0; // first tensor record
  nTensors: u32 = 0;
  ops: usize = 0; // first op record
  nOps: u32 = 0;
  io: usize = 0; // first i32 of IOIX
  nIo: u32 = 0;
  parm: usize = 0; // first i32 of PARM
  nParm: u32 = 0;
  wgts: usize = 0;
  wgtsBytes: u32 = 0;
  plan: usize = 0; // PLAN section
  planBytes: u32 = 0;
  arenaBytes: u32 = 0;
  nInputs: u32 = 0;
  nOutputs: u32 = 0;
}

// Static memory, not the heap: unload() resets the heap and must not take this with it.
export const view = changetype<ModelView>(memory.data(offsetof<ModelView>()));

/** CRC-32 (IEEE, reflected); bitwise so that the MVP build carries no table. */
export function crc32(p: usize, n: u32): u32 {
  let c: u32 = 0xffffffff;
  for (let i: u32 = 0; i < n; i++) {
    c ^= <u32>load<u8>(p + i);
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & (0 - (c & 1)));
  }
  return c ^ 0xffffffff;
}

function findSection(base: usize, count: u32, id: u32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    if (load<u32>(base + HEADER_BYTES + i * SECTION_ENTRY_BYTES) == id) return <i32>i;
  }
  return -1;
}

/** Locates a counted section (u32 count + count records); returns a status. */
function countedSection(entry: usize, recordBytes: u32, max: u32, out: usize): i32 {
  const off = load<u32>(entry + 4);
  const len = load<u32>(entry + 8);
  if (len < 4) return S.fail(S.ERM_TRUNCATED, <i32>off, 4, len);
  const n = load<u32>(view.base + off);
  if (n > max) return S.fail(S.ERM_LIMIT, <i32>off, max, n);
  if (<u64>4 + <u64>n * recordBytes > <u64>len) return S.fail(S.ERM_TRUNCATED, <i32>off, <i64>4 + <i64>n * recordBytes, len);
  store<usize>(out, view.base + off + 4);
  store<u32>(out, n, sizeof<usize>());
  return S.OK;
}

// Scratch cell for countedSection results (pointer, count).
const cell = memory.data(16);

function need(id: u32, count: u32): i32 {
  const i = findSection(view.base, count, id);
  if (i < 0) S.fail(S.ERM_MISSING_SECTION, -1, id, 0);
  return i;
}

export function readContainer(base: usize, bytes: u32, checkCrc: bool): i32 {
  view.base = base;
  view.bytes = bytes;
  if (bytes < HEADER_BYTES) return S.fail(S.ERM_TRUNCATED, 0, HEADER_BYTES, bytes);
  if (load<u32>(base) != MAGIC) return S.fail(S.ERM_BAD_MAGIC, 0, MAGIC, load<u32>(base));
  const version = <u32>load<u16>(base + 4);
  if (version != VERSION) return S.fail(S.ERM_BAD_VERSION, 4, VERSION, version);
  const fileBytes = load<u32>(base + 8);
  if (fileBytes > bytes) return S.fail(S.ERM_TRUNCATED, 8, fileBytes, bytes);
  if (fileBytes < HEADER_BYTES) return S.fail(S.ERM_BAD_SECTION, 8, HEADER_BYTES, fileBytes);
  view.bytes = fileBytes;
  const count = load<u32>(base + 12);
  if (count > MAX_SECTIONS) return S.fail(S.ERM_LIMIT, 12, MAX_SECTIONS, count);
  const tableEnd = HEADER_BYTES + count * SECTION_ENTRY_BYTES;
  if (tableEnd > fileBytes) return S.fail(S.ERM_TRUNCATED, 12, tableEnd, fileBytes);
  if (checkCrc) {
    const stored = load<u32>(base + 16);
    const actual = crc32(base + HEADER_BYTES, fileBytes - HEADER_BYTES);
    if (stored != actual) return S.fail(S.ERM_CHECKSUM, 16, stored, actual);
  }
  for (let i: u32 = 0; i < count; i++) {
    const e = base + HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    const off = load<u32>(e + 4);
    const len = load<u32>(e + 8);
    if (off < tableEnd || (off & 15) != 0 || <u64>off + <u64>len > <u64>fileBytes) {
      return S.fail(S.ERM_BAD_SECTION, <i32>(e - base), fileBytes, <i64>off + <i64>len);
    }
    for (let j: u32 = 0; j < i; j++) {
      if (load<u32>(base + HEADER_BYTES + j * SECTION_ENTRY_BYTES) == load<u32>(e)) return S.fail(S.ERM_BAD_SECTION, <i32>(e - base), 0, 1);
    }
  }
  return locateSections(count);
}

function locateSections(count: u32): i32 {
  const base = view.base;
  let i = need(SEC_TENS, count);
  if (i < 0) return S.ERM_MISSING_SECTION;
  let st = countedSection(base + HEADER_BYTES + <u32>i * SECTION_ENTRY_BYTES, TENSOR_RECORD_BYTES, MAX_TENSORS, cell);
  if (st != S.OK) return st;
  view.tens = load<usize>(cell);
  view.nTensors = load<u32>(cell, sizeof<usize>());
  i = need(SEC_OPS, count);
  if (i < 0) return S.ERM_MISSING_SECTION;
  st = countedSection(base + HEADER_BYTES + <u32>i * SECTION_ENTRY_BYTES, OP_RECORD_BYTES, MAX_OPS, cell);
  if (st != S.OK) return st;
  view.ops = load<usize>(cell);
  view.nOps = load<u32>(cell, sizeof<usize>());
  i = need(SEC_IOIX, count);
  if (i < 0) return S.ERM_MISSING_SECTION;
  st = countedSection(base + HEADER_BYTES + <u32>i * SECTION_ENTRY_BYTES, 4, 1 << 20, cell);
  if (st != S.OK) return st;
  view.io = load<usize>(cell);
  view.nIo = load<u32>(cell, sizeof<usize>());
  i = need(SEC_PARM, count);
  if (i < 0) return S.ERM_MISSING_SECTION;
  st = countedSection(base + HEADER_BYTES + <u32>i * SECTION_ENTRY_BYTES, 4, 1 << 20, cell);
  if (st != S.OK) return st;
  view.parm = load<usize>(cell);
  view.nParm = load<u32>(cell, sizeof<usize>());
  i = need(SEC_WGTS, count);
  if (i < 0) return S.ERM_MISSING_SECTION;
  let e = base + HEADER_BYTES + <u32>i * SECTION_ENTRY_BYTES;
  view.wgts = base + load<u32>(e + 4);
  view.wgtsBytes = load<u32>(e + 8);
  i = need(SEC_PLAN, count);
  if (i < 0) return S.ERM_MISSING_SECTION;
  e = base + HEADER_BYTES + <u32>i * SECTION_ENTRY_BYTES;
  return readPlan(base + load<u32>(e + 4), load<u32>(e + 8));
}

function readPlan(p: usize, len: u32): i32 {
  const where = <i32>(p - view.base);
  if (len < 12) return S.fail(S.ERM_TRUNCATED, where, 12, len);
  view.plan = p;
  view.planBytes = len;
  view.arenaBytes = load<u32>(p);
  view.nInputs = load<u32>(p + 4);
  view.nOutputs = load<u32>(p + 8);
  if (view.arenaBytes > 0x10000000) return S.fail(S.ERM_LIMIT, where, 0x10000000, view.arenaBytes);
  if (view.nInputs == 0 || view.nOutputs == 0 || view.nInputs > 64 || view.nOutputs > 64) {
    return S.fail(S.ERM_BAD_PARAMS, where + 4, 64, <i64>view.nInputs * 1000 + view.nOutputs);
  }
  if (<u32>12 + (view.nInputs + view.nOutputs) * 4 > len) return S.fail(S.ERM_TRUNCATED, where, 12 + (view.nInputs + view.nOutputs) * 4, len);
  for (let k: u32 = 0; k < view.nInputs + view.nOutputs; k++) {
    const t = load<i32>(p + 12 + k * 4);
    if (t < 0 || <u32>t >= view.nTensors) return S.fail(S.ERM_BAD_OFFSET, where + 12 + <i32>k * 4, view.nTensors, t);
  }
  return S.OK;
}

export function graphInput(i: u32): i32 {
  return load<i32>(view.plan + 12 + i * 4);
}

export function graphOutput(i: u32): i32 {
  return load<i32>(view.plan + 12 + (view.nInputs + i) * 4);
}
