// Prepare for FULLY_CONNECTED_SPARSE and CONV_2D_SPARSE: the dense ops' shape and
// parameter checks, plus a full walk of the sparse weight blob (host/format/sparse-weights.ts has
// the same checks in the same order), so the kernels can trust every count and column.
// Inputs: [input, sparse weights (1-D int8 constant), bias | -1, multipliers, shifts, (residual)].
// The last parameter word holds the run bits (bit 0 SIMD build, bit 1 MVP build): a build whose
// bit is clear expands the blob into dense int8 weights here (rtAlloc) and runs the op as its
// dense twin: the op table entry gets the dense opcode and FcArgs / ConvArgs, so the dense
// family's prepare and kernels run it exactly as a dense op (bit-exact with it by construction).
// Two forms are only ever expanded (their run bits must be 0, else ERM_BAD_PARAMS): the bitmap and
// coded encodings (no kernel reads them; the coded one is decoded by its check, sparse-coded.ts,
// so the check is the expansion), and CONV_2D_SPARSE with a filter size (two words before the run
// bits: any kH x kW, stride, dilation, padding; the blob is the [outC][kH * kW * inC] matrix, the
// dense filter's OHWI order; the dense kernels' scratch is the op's planned scratch tensor).

import * as S from "../../format/status";
import * as OP from "../opcodes";
import { ConvArgs, FcArgs } from "../../kernels/args";
import { SparseArgs } from "../../kernels/sparse/args";
import { conv2dScratchBytes } from "../../kernels/conv2d/index";
import { fcScratchBytes } from "../../kernels/fc/index";
import { rtAlloc } from "../alloc";
import { dim, dataOf, elements, byteLength, DT_INT8, DT_INT32 } from "../tensors";
import {
  inT, outT, param, paramCount, numIn, scratchT, expectCounts, expectTensor, expectConstant, expectElements, expectDim,
  expectRange, expectActRange, expectWindow, expectMultipliers, expectAddParams,
} from "./common";
import { fillAddParams } from "./conv";
import { decodeCoded } from "./sparse-coded";

const HEADER_BYTES: i32 = 16;
const CONV_WORDS = 11;
const FC_WORDS = 4;
const RUN_ALL: i32 = 3;
const KIND_BLOCKS: i32 = 0;
const KIND_BITMAP: i32 = 1;
const KIND_CODED: i32 = 2;
/** This build's run bit (host/format/sparse-weights.ts: SPARSE_RUN_SIMD, SPARSE_RUN_MVP). */
const RUN_THIS_BUILD: i32 = ASC_FEATURE_SIMD ? 1 : 2;

/** The run bits (last parameter word); ERM_BAD_PARAMS when other bits are set. */
function runsSparse(op: i32, out: usize): i32 {
  const run = param(op, paramCount(op) - 1);
  if ((run & ~RUN_ALL) != 0) return S.failOp(S.ERM_BAD_PARAMS, op, -1, RUN_ALL, run);
  store<i32>(out, (run & RUN_THIS_BUILD) != 0 ? 1 : 0);
  return S.OK;
}

/** The dense [N][K] int8 matrix of a checked blob, in load-time memory (0: out of memory). */
function expandBlob(a: SparseArgs): usize {
  if (a.kind == KIND_CODED) return a.values; // decoded by its check
  const w = rtAlloc(<usize>a.N * <usize>a.K);
  if (w == 0) return 0;
  if (a.kind == KIND_BITMAP) {
    const rowBytes = (a.K + 7) >> 3;
    let v = a.values;
    for (let r = 0; r < a.N; r++) {
      const bits = a.steps + <usize>r * <usize>rowBytes;
      const row = w + <usize>r * <usize>a.K;
      for (let j = 0; j < rowBytes; j++) {
        let b = <i32>load<u8>(bits + <usize>j);
        while (b != 0) {
          const c = (j << 3) + ctz<i32>(b);
          store<i8>(row + <usize>c, load<i8>(v));
          v++;
          b &= b - 1;
        }
      }
    }
    return w;
  }
  const R = a.R, C = a.C;
  let k = 0;
  for (let g = 0; g < a.N / R; g++) {
    const n = <i32>load<u16>(a.counts + (<usize>g << 1));
    let col = 0;
    for (let j = 0; j < n; j++, k++) {
      col += <i32>load<u8>(a.steps + <usize>k);
      for (let r = 0; r < R; r++) {
        memory.copy(w + <usize>((g * R + r) * a.K + col * C), a.values + <usize>((k * R + r) * C), <usize>C);
      }
    }
  }
  return w;
}

/** Scratch the dense kernels ask for (none for these shapes today), in load-time memory; false when out of memory. */
function denseScratch(need: i32, scratchAt: usize): bool {
  if (need <= 0) return true;
  const s = rtAlloc(<usize>need);
  store<usize>(scratchAt, s);
  return s != 0;
}

/** FULLY_CONNECTED_SPARSE run dense in this build: FcArgs over the expanded weights. */
function asDenseFc(a: SparseArgs, out: usize): i32 {
  const d = changetype<FcArgs>(rtAlloc(offsetof<FcArgs>()));
  if (changetype<usize>(d) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  d.filter = expandBlob(a);
  if (d.filter == 0) return S.RUNTIME_OUT_OF_MEMORY;
  d.input = a.input; d.batches = a.outH; d.depth = a.K;
  d.bias = a.bias; d.output = a.output; d.outC = a.N;
  d.inputOffset = a.inputOffset; d.outputOffset = a.outputOffset;
  d.mult = a.mult; d.shift = a.shift; d.multStride = a.multStride;
  d.actMin = a.actMin; d.actMax = a.actMax;
  const need = fcScratchBytes(d);
  if (!denseScratch(need, changetype<usize>(d) + offsetof<FcArgs>("scratch"))) return S.RUNTIME_OUT_OF_MEMORY;
  d.scratchBytes = max(need, 0);
  store<i32>(out - 4, OP.OP_FULLY_CONNECTED); // the op table entry's opcode (interpreter.ts)
  store<usize>(out, changetype<usize>(d));
  return S.OK;
}

/** CONV_2D_SPARSE run dense in this build: ConvArgs of a kH x kW filter over the expanded weights. */
function asDenseConv(op: i32, a: SparseArgs, kH: i32, kW: i32, out: usize): i32 {
  const x = inT(op, 0), y = outT(op, 0);
  const d = changetype<ConvArgs>(rtAlloc(offsetof<ConvArgs>()));
  if (changetype<usize>(d) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  d.filter = expandBlob(a);
  if (d.filter == 0) return S.RUNTIME_OUT_OF_MEMORY;
  d.input = a.input; d.inH = dim(x, 1); d.inW = dim(x, 2); d.inC = dim(x, 3);
  d.kH = kH; d.kW = kW;
  d.bias = a.bias; d.output = a.output; d.outH = dim(y, 1); d.outW = dim(y, 2); d.outC = a.N;
  d.strideH = param(op, 0); d.strideW = param(op, 1); d.dilH = param(op, 2); d.dilW = param(op, 3);
  d.padTop = param(op, 4); d.padLeft = param(op, 5);
  d.inputOffset = a.inputOffset; d.outputOffset = a.outputOffset;
  d.mult = a.mult; d.shift = a.shift; d.multStride = a.multStride;
  d.actMin = a.actMin; d.actMax = a.actMax;
  d.depthMultiplier = 1;
  d.residual = a.residual; d.add = a.add;
  const need = conv2dScratchBytes(d);
  const s = scratchT(op);
  if (s >= 0 && need > 0) {
    // The compiler plans the dense kernels' scratch in the arena, as for CONV_2D.
    if (byteLength(s) < need) return S.failOp(S.ERM_BAD_PARAMS, op, s, need, byteLength(s));
    d.scratch = dataOf(s);
    d.scratchBytes = byteLength(s);
  } else {
    if (!denseScratch(need, changetype<usize>(d) + offsetof<ConvArgs>("scratch"))) return S.RUNTIME_OUT_OF_MEMORY;
    d.scratchBytes = max(need, 0);
  }
  store<i32>(out - 4, OP.OP_CONV_2D); // the op table entry's opcode (interpreter.ts)
  store<usize>(out, changetype<usize>(d));
  return S.OK;
}

function validBlock(v: i32, allowed16: bool): bool {
  return v == 1 || v == 2 || v == 4 || v == 8 || (allowed16 && v == 16);
}

/** Checks blob tensor w for a [rows][cols] matrix and fills the stream fields of a. */
function checkBlob(op: i32, w: i32, rows: i32, cols: i32, a: SparseArgs): i32 {
  let st = expectTensor(op, w, DT_INT8, 1);
  if (st != S.OK) return st;
  if ((st = expectConstant(op, w)) != S.OK) return st;
  const len = byteLength(w);
  if (len < HEADER_BYTES) return S.failOp(S.ERM_BAD_TENSOR, op, w, HEADER_BYTES, len);
  const p = dataOf(w);
  const R = <i32>load<u8>(p + 4), C = <i32>load<u8>(p + 5);
  if (<i32>load<u16>(p) != rows) return S.failOp(S.ERM_BAD_TENSOR, op, w, rows, load<u16>(p));
  if (<i32>load<u16>(p + 2) != cols) return S.failOp(S.ERM_BAD_TENSOR, op, w, cols, load<u16>(p + 2));
  if (<i32>load<u8>(p + 6) == KIND_BITMAP) return checkBitmap(op, w, p, len, rows, cols, a);
  if (<i32>load<u8>(p + 6) == KIND_CODED) return checkCoded(op, w, p, len, rows, cols, a);
  if (!validBlock(R, false) || !validBlock(C, true) || rows % R != 0 || cols % C != 0) return S.failOp(S.ERM_BAD_TENSOR, op, w, 0, R * 256 + C);
  if (load<u16>(p + 6) != 0 || load<u32>(p + 12) != 0) return S.failOp(S.ERM_BAD_TENSOR, op, w, 0, 1);
  const groups = rows / R, colBlocks = cols / C;
  const blocks = load<u32>(p + 8);
  if (<u64>blocks > <u64>groups * <u64>colBlocks) return S.failOp(S.ERM_BAD_PARAMS, op, w, <i64>groups * colBlocks, blocks);
  const stepsAt = HEADER_BYTES + 2 * groups;
  const valuesAt = (<i64>stepsAt + <i64>blocks + 3) & ~3;
  const need = valuesAt + <i64>blocks * R * C;
  if (need != <i64>len) return S.failOp(S.ERM_BAD_TENSOR, op, w, need, len);
  let k: u32 = 0;
  for (let g = 0; g < groups; g++) {
    const n = <u32>load<u16>(p + HEADER_BYTES + (<usize>g << 1));
    if (<u64>k + <u64>n > <u64>blocks) return S.failOp(S.ERM_BAD_PARAMS, op, w, blocks, <i64>k + n);
    let col = 0;
    for (let j: u32 = 0; j < n; j++, k++) {
      const step = <i32>load<u8>(p + <usize>stepsAt + <usize>k);
      if (j > 0 && step == 0) return S.failOp(S.ERM_BAD_PARAMS, op, w, 1, 0);
      col += step;
      if (col >= colBlocks) return S.failOp(S.ERM_BAD_PARAMS, op, w, colBlocks - 1, col);
    }
  }
  if (k != blocks) return S.failOp(S.ERM_BAD_PARAMS, op, w, blocks, k);
  a.counts = p + HEADER_BYTES;
  a.steps = p + <usize>stepsAt;
  a.values = p + <usize>valuesAt;
  a.R = R;
  a.C = C;
  a.blocks = <i32>blocks;
  a.N = rows;
  a.K = cols;
  a.kind = 0;
  return S.OK;
}

/** The bitmap encoding (host/format/sparse-weights.ts): header, exact length, no bit past cols, set bits = stored values. */
function checkBitmap(op: i32, w: i32, p: usize, len: i32, rows: i32, cols: i32, a: SparseArgs): i32 {
  if (load<u8>(p + 4) != 1 || load<u8>(p + 5) != 1 || load<u8>(p + 7) != 0 || load<u32>(p + 12) != 0) return S.failOp(S.ERM_BAD_TENSOR, op, w, 0, 2);
  const values = load<u32>(p + 8);
  if (<u64>values > <u64>rows * <u64>cols) return S.failOp(S.ERM_BAD_PARAMS, op, w, <i64>rows * cols, values);
  const rowBytes = (cols + 7) >> 3;
  const valuesAt = <i64>HEADER_BYTES + <i64>rows * rowBytes;
  const need = valuesAt + <i64>values;
  if (need != <i64>len) return S.failOp(S.ERM_BAD_TENSOR, op, w, need, len);
  const tailMask = (cols & 7) != 0 ? (0xff << (cols & 7)) & 0xff : 0;
  let set: u64 = 0;
  for (let r = 0; r < rows; r++) {
    const at = p + HEADER_BYTES + <usize>r * <usize>rowBytes;
    if ((<i32>load<u8>(at + <usize>(rowBytes - 1)) & tailMask) != 0) return S.failOp(S.ERM_BAD_PARAMS, op, w, cols, load<u8>(at + <usize>(rowBytes - 1)));
    for (let j = 0; j < rowBytes; j++) set += <u64>popcnt<i32>(<i32>load<u8>(at + <usize>j));
  }
  if (set != <u64>values) return S.failOp(S.ERM_BAD_PARAMS, op, w, values, <i64>set);
  a.counts = 0;
  a.steps = p + HEADER_BYTES;
  a.values = p + <usize>valuesAt;
  a.R = 1;
  a.C = 1;
  a.blocks = <i32>values;
  a.N = rows;
  a.K = cols;
  a.kind = KIND_BITMAP;
  return S.OK;
}

/** The coded encoding: checked and decoded at once (sparse-coded.ts); values = the dense matrix. */
function checkCoded(op: i32, w: i32, p: usize, len: i32, rows: i32, cols: i32, a: SparseArgs): i32 {
  const st = decodeCoded(op, w, p, len, rows, cols, changetype<usize>(a) + offsetof<SparseArgs>("values"));
  if (st != S.OK) return st;
  a.counts = 0;
  a.steps = 0;
  a.R = 1;
  a.C = 1;
  a.blocks = <i32>load<u32>(p + 8);
  a.N = rows;
  a.K = cols;
  a.kind = KIND_CODED;
  return S.OK;
}

/** Run bits on a blob no kernel reads (a bitmap, coded, or a conv with a filter size) must be 0. */
function expectExpandOnly(op: i32, a: SparseArgs, geometry: bool): i32 {
  const run = param(op, paramCount(op) - 1);
  if ((a.kind != KIND_BLOCKS || geometry) && run != 0) return S.failOp(S.ERM_BAD_PARAMS, op, -1, 0, run);
  return S.OK;
}

/** Bias, multipliers and the FC-style parameter words shared by both ops. */
function fillCommon(op: i32, a: SparseArgs, inOff: i32, outOff: i32, actLo: i32, actHi: i32): i32 {
  const b = inT(op, 2);
  let st = S.OK;
  if (b >= 0) {
    if ((st = expectTensor(op, b, DT_INT32, -1)) != S.OK) return st;
    if ((st = expectElements(op, b, a.N)) != S.OK) return st;
    if ((st = expectConstant(op, b)) != S.OK) return st;
  }
  if ((st = expectMultipliers(op, inT(op, 3), inT(op, 4), a.N)) != S.OK) return st;
  if ((st = expectRange(op, param(op, inOff), -255, 255)) != S.OK) return st;
  if ((st = expectRange(op, param(op, outOff), -255, 255)) != S.OK) return st;
  if ((st = expectActRange(op, param(op, actLo), param(op, actHi))) != S.OK) return st;
  a.bias = b >= 0 ? dataOf(b) : 0;
  a.mult = dataOf(inT(op, 3));
  a.shift = dataOf(inT(op, 4));
  a.multStride = elements(inT(op, 3)) == 1 ? 0 : 4;
  a.inputOffset = param(op, inOff);
  a.outputOffset = param(op, outOff);
  a.actMin = param(op, actLo);
  a.actMax = param(op, actHi);
  return S.OK;
}

function newArgs(): SparseArgs {
  return changetype<SparseArgs>(rtAlloc(offsetof<SparseArgs>()));
}

export function prepareFcSparse(op: i32, out: usize): i32 {
  let st = expectCounts(op, 5, 5, FC_WORDS + 1);
  if (st != S.OK) return st;
  if ((st = runsSparse(op, out)) != S.OK) return st;
  const sparse = load<i32>(out) != 0;
  const x = inT(op, 0), w = inT(op, 1), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, w, DT_INT8, 1)) != S.OK) return st;
  if (byteLength(w) < HEADER_BYTES) return S.failOp(S.ERM_BAD_TENSOR, op, w, HEADER_BYTES, byteLength(w));
  const rows = <i32>load<u16>(dataOf(w)), depth = <i32>load<u16>(dataOf(w) + 2);
  if (depth < 1 || rows < 1 || elements(x) % depth != 0) return S.failOp(S.ERM_SHAPE_MISMATCH, op, x, depth, elements(x));
  const batches = elements(x) / depth;
  if ((st = expectElements(op, y, batches * rows)) != S.OK) return st;
  const a = newArgs();
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  if ((st = checkBlob(op, w, rows, depth, a)) != S.OK) return st;
  if ((st = expectExpandOnly(op, a, false)) != S.OK) return st;
  if ((st = fillCommon(op, a, 0, 1, 2, 3)) != S.OK) return st;
  a.input = dataOf(x); a.output = dataOf(y);
  a.outH = batches; a.outW = 1; a.rowStride = depth; a.colStride = depth;
  if (!sparse) return asDenseFc(a, out);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

export function prepareConvSparse(op: i32, out: usize): i32 {
  const fused = numIn(op) == 6;
  const base = fused ? CONV_WORDS + 12 : CONV_WORDS;
  // The second form carries the filter height and width before the run bits (any filter size).
  const geometry = (numIn(op) == 5 || fused) && paramCount(op) == base + 3;
  let st = expectCounts(op, 5, 6, geometry ? base + 3 : base + 1);
  if (st != S.OK) return st;
  if ((st = runsSparse(op, out)) != S.OK) return st;
  const sparse = load<i32>(out) != 0;
  const x = inT(op, 0), w = inT(op, 1), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, 4)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, 4)) != S.OK) return st;
  if ((st = expectDim(op, x, 0, 1)) != S.OK) return st;
  if ((st = expectDim(op, y, 0, 1)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 10), 1, 1)) != S.OK) return st; // depth multiplier: a plain conv
  const kH = geometry ? param(op, base) : 1, kW = geometry ? param(op, base + 1) : 1;
  // A 1x1 filter (first form): the window checks with k = 1 force zero padding and keep every pixel inside.
  if ((st = expectWindow(op, dim(x, 1), dim(y, 1), kH, param(op, 0), param(op, 2), param(op, 4))) != S.OK) return st;
  if ((st = expectWindow(op, dim(x, 2), dim(y, 2), kW, param(op, 1), param(op, 3), param(op, 5))) != S.OK) return st;
  const cols = <i64>kH * <i64>kW * <i64>dim(x, 3);
  if (cols > 65535) return S.failOp(S.ERM_BAD_TENSOR, op, w, 65535, cols); // no blob header can hold it
  const a = newArgs();
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  if ((st = checkBlob(op, w, dim(y, 3), <i32>cols, a)) != S.OK) return st;
  if ((st = expectExpandOnly(op, a, geometry)) != S.OK) return st;
  if ((st = fillCommon(op, a, 6, 7, 8, 9)) != S.OK) return st;
  if (fused) {
    const r = inT(op, 5);
    if ((st = expectTensor(op, r, DT_INT8, -1)) != S.OK) return st;
    if ((st = expectElements(op, r, elements(y))) != S.OK) return st;
    if ((st = expectAddParams(op, CONV_WORDS)) != S.OK) return st;
    a.residual = dataOf(r);
    const p = fillAddParams(op, CONV_WORDS);
    if (changetype<usize>(p) == 0) return S.RUNTIME_OUT_OF_MEMORY;
    a.add = p;
  }
  a.input = dataOf(x); a.output = dataOf(y);
  a.outH = dim(y, 1); a.outW = dim(y, 2);
  a.rowStride = param(op, 0) * dim(x, 2) * dim(x, 3);
  a.colStride = param(op, 1) * dim(x, 3);
  if (!sparse) return asDenseConv(op, a, kH, kW, out);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}
