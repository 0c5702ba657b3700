// Activating a model from flash. Resident: the whole device image is copied into RAM and loaded
// with its CRC checked. Streamed (images above the resident limit): only the tables and the small
// constants are copied; every int8 constant of at least STREAM_MIN_BYTES used by exactly one op
// stays in flash and is read into a shared weight window just before its op runs. The RAM copy
// is an ordinary .erm image whose TENS offsets point into [window][resident constants], so the
// runtime loads and checks it unchanged (docs/mcu-abi.md, "Weights streamed from flash").

import * as S from "../format/status";
import { MAGIC, VERSION, HEADER_BYTES, SECTION_ENTRY_BYTES, TENSOR_RECORD_BYTES, OP_RECORD_BYTES, MAX_SECTIONS, view,
  SEC_TENS, SEC_OPS, SEC_IOIX, SEC_PARM, SEC_PLAN, SEC_WGTS } from "../format/reader";
import { rtAlloc } from "../graph/alloc";
import { loadModel, unloadModel, invokeRange } from "../graph/interpreter";
import { flashRead } from "./abi";

export const STREAM_MIN_BYTES: u32 = 1024;
export const MODE_RESIDENT: u8 = 0;
export const MODE_STREAMED: u8 = 1;
/** Returned instead of a runtime status when flash could not be read. */
export const STATUS_FLASH_READ: i32 = -1;

export let mode: u8 = MODE_RESIDENT;
export let windowBytes: u32 = 0;
let streamTable: usize = 0; // per entry: u32 flash offset, u32 RAM pointer, u32 bytes
let opStreamStart: usize = 0; // (nOps + 1) x u32 entry indices

// Claimed by device_init (placeStreamBuffers): the flashed section table and per-section offsets.
let table: usize = 0;
export const STREAM_BUFFER_BYTES: u32 = HEADER_BYTES + MAX_SECTIONS * SECTION_ENTRY_BYTES + 3 * 32;
// The six sections in the order they are laid out in the RAM image (WGTS last).
const IDS = memory.data<u32>([SEC_TENS, SEC_OPS, SEC_IOIX, SEC_PARM, SEC_PLAN, SEC_WGTS]);
let secOff: usize = 0; // flash offsets within the image, 6 x u32
let secLen: usize = 0;
let ramOff: usize = 0; // offsets within the RAM image

export function placeStreamBuffers(p: usize): void {
  table = p;
  secOff = p + HEADER_BYTES + MAX_SECTIONS * SECTION_ENTRY_BYTES;
  secLen = secOff + 32;
  ramOff = secLen + 32;
}
const RAM_TABLE_END: u32 = 112; // 32 + 6 x 12 = 104, aligned to 16

// @ts-ignore: decorator
@inline function align16(x: u32): u32 { return (x + 15) & ~15; }
// @ts-ignore: decorator
@inline function sOff(i: u32): u32 { return load<u32>(secOff + i * 4); }
// @ts-ignore: decorator
@inline function sLen(i: u32): u32 { return load<u32>(secLen + i * 4); }

/** Unloads the current model and loads the image at flash [at, at + bytes). Returns a runtime status. */
export function activateImage(at: u32, bytes: u32, residentMaxBytes: u32): i32 {
  unloadAll();
  const st = bytes <= residentMaxBytes ? activateResident(at, bytes) : activateStreamed(at, bytes);
  if (st != S.OK) unloadAll();
  else if (bytes > residentMaxBytes) mode = MODE_STREAMED;
  return st;
}

/** Forgets the model and returns all of its RAM. */
export function unloadAll(): void {
  unloadModel();
  mode = MODE_RESIDENT;
  streamTable = 0;
  opStreamStart = 0;
  windowBytes = 0;
}

function activateResident(at: u32, bytes: u32): i32 {
  const p = rtAlloc(bytes);
  if (p == 0) return S.fail(S.RUNTIME_OUT_OF_MEMORY, -1, bytes, 0);
  if (flashRead(at, p, bytes) != 0) return STATUS_FLASH_READ;
  return loadModel(p, bytes, true);
}

function readSectionTable(at: u32, bytes: u32): i32 {
  if (bytes < HEADER_BYTES) return S.fail(S.ERM_TRUNCATED, 0, HEADER_BYTES, bytes);
  if (flashRead(at, table, HEADER_BYTES) != 0) return STATUS_FLASH_READ;
  if (load<u32>(table) != MAGIC) return S.fail(S.ERM_BAD_MAGIC, 0, MAGIC, load<u32>(table));
  if (<u32>load<u16>(table + 4) != VERSION) return S.fail(S.ERM_BAD_VERSION, 4, VERSION, load<u16>(table + 4));
  const count = load<u32>(table + 12);
  if (count > MAX_SECTIONS) return S.fail(S.ERM_LIMIT, 12, MAX_SECTIONS, count);
  if (HEADER_BYTES + count * SECTION_ENTRY_BYTES > bytes) return S.fail(S.ERM_TRUNCATED, 12, HEADER_BYTES + count * SECTION_ENTRY_BYTES, bytes);
  if (flashRead(at + HEADER_BYTES, table + HEADER_BYTES, count * SECTION_ENTRY_BYTES) != 0) return STATUS_FLASH_READ;
  for (let k: u32 = 0; k < 6; k++) {
    const id = load<u32>(IDS + k * 4);
    let found = false;
    for (let i: u32 = 0; i < count && !found; i++) {
      const e = table + HEADER_BYTES + i * SECTION_ENTRY_BYTES;
      if (load<u32>(e) != id) continue;
      const off = load<u32>(e + 4), len = load<u32>(e + 8);
      if (<u64>off + <u64>len > <u64>bytes) return S.fail(S.ERM_BAD_SECTION, <i32>(e - table), bytes, <i64>off + len);
      store<u32>(secOff + k * 4, off);
      store<u32>(secLen + k * 4, len);
      found = true;
    }
    if (!found) return S.fail(S.ERM_MISSING_SECTION, -1, id, 0);
  }
  return S.OK;
}

// Per-tensor scratch while planning: u32 use count (streamable tensors only), u32 window position.
let scratch: usize = 0;
let nTensors: u32 = 0;
let tens: usize = 0; // first tensor record in the RAM image

function streamable(t: u32, wgtsLen: u32): bool {
  const r = tens + t * TENSOR_RECORD_BYTES;
  const dt = load<u8>(r);
  const bytes = load<u32>(r + 32);
  return load<u8>(r + 2) == 1 && (dt == 1 || dt == 2) && bytes >= STREAM_MIN_BYTES && <u64>load<u32>(r + 28) + bytes <= <u64>wgtsLen;
}

function activateStreamed(at: u32, bytes: u32): i32 {
  let st = readSectionTable(at, bytes);
  if (st != S.OK) return st;
  // Tensor count first: it sizes the planning scratch, allocated below the image.
  if (sLen(0) < 4) return S.fail(S.ERM_TRUNCATED, <i32>sOff(0), 4, sLen(0));
  if (flashRead(at + sOff(0), table, 4) != 0) return STATUS_FLASH_READ;
  nTensors = load<u32>(table);
  if (nTensors > 65535 || <u64>4 + <u64>nTensors * TENSOR_RECORD_BYTES > <u64>sLen(0)) return S.fail(S.ERM_TRUNCATED, <i32>sOff(0), <i64>4 + <i64>nTensors * TENSOR_RECORD_BYTES, sLen(0));
  scratch = rtAlloc(<usize>nTensors * 8);
  let cursor = RAM_TABLE_END;
  for (let k: u32 = 0; k < 5; k++) {
    store<u32>(ramOff + k * 4, cursor);
    cursor = align16(cursor + sLen(k));
  }
  store<u32>(ramOff + 20, cursor);
  const img = rtAlloc(cursor);
  if (img == 0 || (nTensors > 0 && scratch == 0)) return S.fail(S.RUNTIME_OUT_OF_MEMORY, -1, cursor, 0);
  for (let k: u32 = 0; k < 5; k++) {
    if (flashRead(at + sOff(k), img + load<u32>(ramOff + k * 4), sLen(k)) != 0) return STATUS_FLASH_READ;
  }
  tens = img + load<u32>(ramOff) + 4;
  st = countUses(img);
  if (st != S.OK) return st;
  return placeWeights(at, img, cursor);
}

/** For each op input that is a streamable constant, counts its uses. Checks every index it reads. */
function countUses(img: usize): i32 {
  const ops = img + load<u32>(ramOff + 4), io = img + load<u32>(ramOff + 8);
  const nOps = load<u32>(ops), nIo = load<u32>(io);
  if (<u64>4 + <u64>nOps * OP_RECORD_BYTES > <u64>sLen(1)) return S.fail(S.ERM_TRUNCATED, <i32>sOff(1), <i64>4 + <i64>nOps * OP_RECORD_BYTES, sLen(1));
  if (<u64>4 + <u64>nIo * 4 > <u64>sLen(2)) return S.fail(S.ERM_TRUNCATED, <i32>sOff(2), <i64>4 + <i64>nIo * 4, sLen(2));
  for (let i: u32 = 0; i < nOps; i++) {
    const r = ops + 4 + i * OP_RECORD_BYTES;
    const nIn = <u32>load<u8>(r + 2), first = load<u32>(r + 4);
    if (<u64>first + nIn > <u64>nIo) return S.failOp(S.ERM_BAD_OP, <i32>i, -1, nIo, <i64>first + nIn);
    for (let k: u32 = 0; k < nIn; k++) {
      const t = load<i32>(io + 4 + (first + k) * 4);
      if (t >= 0 && <u32>t < nTensors && streamable(<u32>t, sLen(5))) {
        const u = scratch + <usize>t * 8;
        store<u32>(u, load<u32>(u) + 1);
      }
    }
  }
  return S.OK;
}

/** Walks the ops placing single-use streamable inputs in the window; fill = write the stream table. */
function planWindow(img: usize, fill: bool, wgtsRam: usize, at: u32): u32 {
  const ops = img + load<u32>(ramOff + 4), io = img + load<u32>(ramOff + 8);
  const nOps = load<u32>(ops);
  let entries: u32 = 0, widest: u32 = 0;
  for (let i: u32 = 0; i < nOps; i++) {
    if (fill) store<u32>(opStreamStart + i * 4, entries);
    const r = ops + 4 + i * OP_RECORD_BYTES;
    const nIn = <u32>load<u8>(r + 2), first = load<u32>(r + 4);
    let pos: u32 = 0;
    for (let k: u32 = 0; k < nIn; k++) {
      const t = load<i32>(io + 4 + (first + k) * 4);
      if (t < 0 || <u32>t >= nTensors || load<u32>(scratch + <usize>t * 8) != 1) continue;
      const rec = tens + <usize>t * TENSOR_RECORD_BYTES, n = load<u32>(rec + 32);
      if (fill) {
        const e = streamTable + <usize>entries * 12;
        store<u32>(e, at + sOff(5) + load<u32>(rec + 28));
        store<u32>(e + 4, <u32>(wgtsRam + pos));
        store<u32>(e + 8, n);
        store<u32>(scratch + <usize>t * 8 + 4, pos);
      }
      entries++;
      pos = align16(pos + n);
    }
    widest = max(widest, pos);
  }
  if (fill) store<u32>(opStreamStart + nOps * 4, entries);
  return fill ? entries : widest;
}

function placeWeights(at: u32, img: usize, tablesEnd: u32): i32 {
  windowBytes = planWindow(img, false, 0, 0);
  let resident: u32 = 0;
  for (let t: u32 = 0; t < nTensors; t++) {
    const r = tens + t * TENSOR_RECORD_BYTES;
    if (load<u8>(r + 2) != 1 || load<u32>(scratch + <usize>t * 8) == 1) continue;
    const off = load<u32>(r + 28), n = load<u32>(r + 32);
    if (<u64>off + n > <u64>sLen(5)) return S.fail(S.ERM_BAD_OFFSET, <i32>(r - img) + 28, sLen(5), <i64>off + n);
    resident = align16(resident + n);
  }
  const wgtsBytes = windowBytes + resident;
  const wgtsRam = rtAlloc(wgtsBytes);
  if (wgtsRam == 0) return S.fail(S.RUNTIME_OUT_OF_MEMORY, -1, wgtsBytes, 0);
  if (wgtsRam != img + tablesEnd) return S.RUNTIME_BAD_ARGUMENT; // the bump allocator keeps 16-aligned blocks adjacent
  const nOps = load<u32>(img + load<u32>(ramOff + 4));
  opStreamStart = rtAlloc((<usize>nOps + 1) * 4);
  const entries = countEntries(img);
  streamTable = rtAlloc(<usize>max<u32>(entries, 1) * 12);
  if (opStreamStart == 0 || streamTable == 0) return S.fail(S.RUNTIME_OUT_OF_MEMORY, -1, entries * 12, 0);
  planWindow(img, true, wgtsRam, at);
  let rpos = windowBytes;
  for (let t: u32 = 0; t < nTensors; t++) {
    const r = tens + t * TENSOR_RECORD_BYTES;
    if (load<u8>(r + 2) != 1) continue;
    if (load<u32>(scratch + <usize>t * 8) == 1) {
      store<u32>(r + 28, load<u32>(scratch + <usize>t * 8 + 4));
      continue;
    }
    const n = load<u32>(r + 32);
    if (flashRead(at + sOff(5) + load<u32>(r + 28), wgtsRam + rpos, n) != 0) return STATUS_FLASH_READ;
    store<u32>(r + 28, rpos);
    rpos = align16(rpos + n);
  }
  writeRamHeader(img, tablesEnd + wgtsBytes, wgtsBytes);
  return loadModel(img, tablesEnd + wgtsBytes, false);
}

function countEntries(img: usize): u32 {
  let n: u32 = 0;
  for (let t: u32 = 0; t < nTensors; t++) if (load<u32>(scratch + <usize>t * 8) == 1) n++;
  return n;
}

function writeRamHeader(img: usize, fileBytes: u32, wgtsBytes: u32): void {
  memory.fill(img, 0, RAM_TABLE_END);
  store<u32>(img, MAGIC);
  store<u16>(img + 4, <u16>VERSION);
  store<u16>(img + 6, <u16>HEADER_BYTES);
  store<u32>(img + 8, fileBytes);
  store<u32>(img + 12, 6);
  for (let k: u32 = 0; k < 6; k++) {
    const e = img + HEADER_BYTES + k * SECTION_ENTRY_BYTES;
    store<u32>(e, load<u32>(IDS + k * 4));
    store<u32>(e + 4, load<u32>(ramOff + k * 4));
    store<u32>(e + 8, k == 5 ? wgtsBytes : sLen(k));
  }
}

/** Runs the loaded model; in streamed mode reads each op's weights into the window first. */
export function invokeActive(): i32 {
  const n = <i32>view.nOps;
  if (mode == MODE_RESIDENT) return invokeRange(0, n);
  let from: i32 = 0;
  for (let op: i32 = 0; op < n; op++) {
    const s = load<u32>(opStreamStart + <usize>op * 4), e = load<u32>(opStreamStart + <usize>op * 4 + 4);
    if (s == e) continue;
    if (from < op) {
      const st = invokeRange(from, op);
      if (st != S.OK) return st;
    }
    for (let j = s; j < e; j++) {
      const en = streamTable + <usize>j * 12;
      if (flashRead(load<u32>(en), <usize>load<u32>(en + 4), load<u32>(en + 8)) != 0) return STATUS_FLASH_READ;
    }
    const st = invokeRange(op, op + 1);
    if (st != S.OK) return st;
    from = op + 1;
  }
  return from < n ? invokeRange(from, n) : S.OK;
}
