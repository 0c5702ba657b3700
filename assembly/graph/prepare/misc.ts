// Prepare for the shape-preserving and data-movement ops: pools, ADD, RESHAPE, SOFTMAX,
// QUANTIZE/DEQUANTIZE, MEAN, CONCATENATION, PAD. Same rule as conv.ts: check everything here.

import * as S from "../../format/status";
import { PoolArgs, AddArgs, SoftmaxArgs, QuantArgs, MeanArgs, ConcatArgs, ConcatInput, PadArgs } from "../../kernels/args";
import { rtAlloc } from "../alloc";
import { dim, dataOf, elements, byteLength, rankOf, dtypeOf, zeroPoint, DT_INT8, DT_UINT8, DT_FLOAT32 } from "../tensors";
import {
  inT, outT, param, numIn, scratchT, expectCounts, fillBroadcast, expectTensor, expectElements, expectDim, expectRange, expectActRange,
  expectWindow, expectAddParams,
} from "./common";
import { fillAddParams } from "./conv";
import { addScratchBytes } from "../../kernels/add/index";

export function preparePool(op: i32, out: usize): i32 {
  let st = expectCounts(op, 1, 1, 8);
  if (st != S.OK) return st;
  const x = inT(op, 0), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, 4)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, 4)) != S.OK) return st;
  if ((st = expectDim(op, x, 0, 1)) != S.OK) return st;
  if ((st = expectDim(op, y, 0, 1)) != S.OK) return st;
  if ((st = expectDim(op, y, 3, dim(x, 3))) != S.OK) return st;
  if ((st = expectWindow(op, dim(x, 1), dim(y, 1), param(op, 2), param(op, 0), 1, param(op, 4))) != S.OK) return st;
  if ((st = expectWindow(op, dim(x, 2), dim(y, 2), param(op, 3), param(op, 1), 1, param(op, 5))) != S.OK) return st;
  if ((st = expectActRange(op, param(op, 6), param(op, 7))) != S.OK) return st;
  const a = changetype<PoolArgs>(rtAlloc(offsetof<PoolArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.input = dataOf(x); a.inH = dim(x, 1); a.inW = dim(x, 2); a.channels = dim(x, 3);
  a.output = dataOf(y); a.outH = dim(y, 1); a.outW = dim(y, 2);
  a.strideH = param(op, 0); a.strideW = param(op, 1); a.filterH = param(op, 2); a.filterW = param(op, 3);
  a.padTop = param(op, 4); a.padLeft = param(op, 5); a.actMin = param(op, 6); a.actMax = param(op, 7);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

/** NumPy broadcasting, right-aligned over the stored dims (rank <= 4). */
export function prepareAdd(op: i32, out: usize): i32 {
  let st = expectCounts(op, 2, 2, 12);
  if (st != S.OK) return st;
  const x1 = inT(op, 0), x2 = inT(op, 1), y = outT(op, 0);
  if ((st = expectTensor(op, x1, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, x2, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectAddParams(op, 0)) != S.OK) return st;
  const a = changetype<AddArgs>(rtAlloc(offsetof<AddArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.in1 = dataOf(x1); a.in2 = dataOf(x2); a.output = dataOf(y); a.count = elements(y);
  if ((st = fillBroadcast(op, x1, x2, y, changetype<usize>(a) + offsetof<AddArgs>("broadcast"))) != S.OK) return st;
  const need = addScratchBytes(a.count);
  if (need > 0) {
    const s = scratchT(op);
    if (s < 0 || byteLength(s) < need) return S.failOp(S.ERM_BAD_PARAMS, op, s, need, s < 0 ? 0 : byteLength(s));
    a.scratch = dataOf(s);
  }
  const p = fillAddParams(op, 0);
  if (changetype<usize>(p) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.p = p;
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

/** RESHAPE: same dtype and byte count; the planner usually gives both the same arena offset. */
export function prepareReshape(op: i32, out: usize): i32 {
  const st = expectCounts(op, 1, 1, 0);
  if (st != S.OK) return st;
  const x = inT(op, 0), y = outT(op, 0);
  if (dtypeOf(x) != dtypeOf(y)) return S.failOp(S.ERM_BAD_TENSOR, op, y, dtypeOf(x), dtypeOf(y));
  if (byteLength(x) != byteLength(y)) return S.failOp(S.ERM_SHAPE_MISMATCH, op, y, byteLength(x), byteLength(y));
  const a = rtAlloc(3 * sizeof<usize>());
  if (a == 0) return S.RUNTIME_OUT_OF_MEMORY;
  store<usize>(a, dataOf(x));
  store<usize>(a, dataOf(y), sizeof<usize>());
  store<usize>(a, <usize>byteLength(x), 2 * sizeof<usize>());
  store<usize>(out, a);
  return S.OK;
}

export function prepareSoftmax(op: i32, out: usize): i32 {
  let st = expectCounts(op, 1, 1, 3);
  if (st != S.OK) return st;
  const x = inT(op, 0), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectElements(op, y, elements(x))) != S.OK) return st;
  if (rankOf(x) < 1) return S.failOp(S.ERM_SHAPE_MISMATCH, op, x, 1, 0);
  // TFLite's fixed-point exp sums at most 2^12 / 8 terms without overflow checks failing.
  if ((st = expectRange(op, dim(x, rankOf(x) - 1), 1, 511)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 1), 0, 31)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 2), i32.MIN_VALUE + 1, 0)) != S.OK) return st;
  const a = changetype<SoftmaxArgs>(rtAlloc(offsetof<SoftmaxArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.input = dataOf(x); a.output = dataOf(y);
  a.depth = dim(x, rankOf(x) - 1);
  a.outer = a.depth > 0 ? elements(x) / a.depth : 0;
  a.inputMult = param(op, 0); a.inputLeftShift = param(op, 1); a.diffMin = param(op, 2);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

export function prepareQuant(op: i32, out: usize): i32 {
  let st = expectCounts(op, 1, 1, 6);
  if (st != S.OK) return st;
  const x = inT(op, 0), y = outT(op, 0);
  const mode = param(op, 0);
  let inDt: u8 = DT_INT8, outDt: u8 = DT_INT8;
  if (mode == 0) inDt = DT_FLOAT32;
  else if (mode == 2) outDt = DT_FLOAT32;
  else if (mode == 3) inDt = DT_UINT8;
  else if (mode == 4) outDt = DT_UINT8;
  else if (mode != 1) return S.failOp(S.ERM_BAD_PARAMS, op, -1, 4, mode);
  if ((st = expectTensor(op, x, inDt, -1)) != S.OK) return st;
  if ((st = expectTensor(op, y, outDt, -1)) != S.OK) return st;
  if ((st = expectElements(op, y, elements(x))) != S.OK) return st;
  if ((st = expectRange(op, param(op, 2), -256, 255)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 3), -256, 255)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 5), -31, 30)) != S.OK) return st;
  const a = changetype<QuantArgs>(rtAlloc(offsetof<QuantArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.input = dataOf(x); a.output = dataOf(y); a.count = elements(x); a.mode = mode;
  a.scale = reinterpret<f32>(param(op, 1));
  a.inZp = param(op, 2); a.outZp = param(op, 3); a.mult = param(op, 4); a.shift = param(op, 5);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

export function prepareMean(op: i32, out: usize): i32 {
  let st = expectCounts(op, 1, 1, 5);
  if (st != S.OK) return st;
  const x = inT(op, 0), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, -1)) != S.OK) return st;
  const mask = param(op, 0);
  if ((st = expectRange(op, mask, 1, 15)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 4), -31, 30)) != S.OK) return st;
  let kept = 1;
  for (let d = 0; d < 4; d++) if (((mask >> d) & 1) == 0) kept *= dim(x, d);
  if ((st = expectElements(op, y, kept)) != S.OK) return st;
  if (elements(x) == 0) return S.failOp(S.ERM_SHAPE_MISMATCH, op, x, 1, 0);
  const a = changetype<MeanArgs>(rtAlloc(offsetof<MeanArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.input = dataOf(x); a.output = dataOf(y);
  a.d0 = dim(x, 0); a.d1 = dim(x, 1); a.d2 = dim(x, 2); a.d3 = dim(x, 3);
  a.axesMask = mask; a.inZp = param(op, 1); a.outZp = param(op, 2); a.mult = param(op, 3); a.shift = param(op, 4);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

/** CONCATENATION params: [axis, then per input: requant flag, scale bits, bias bits]. */
export function prepareConcat(op: i32, out: usize): i32 {
  const n = numIn(op);
  let st = expectCounts(op, 1, 64, 1 + 3 * n);
  if (st != S.OK) return st;
  const y = outT(op, 0);
  if ((st = expectTensor(op, y, DT_INT8, -1)) != S.OK) return st;
  const r = rankOf(y), axis = param(op, 0);
  if ((st = expectRange(op, axis, 0, r - 1)) != S.OK) return st;
  let outer = 1, inner = 1;
  for (let d = 0; d < axis; d++) outer *= dim(y, d);
  for (let d = axis + 1; d < r; d++) inner *= dim(y, d);
  const ins = rtAlloc(<usize>n * offsetof<ConcatInput>());
  const a = changetype<ConcatArgs>(rtAlloc(offsetof<ConcatArgs>()));
  if (ins == 0 || changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  let axisSum = 0;
  for (let i = 0; i < n; i++) {
    const x = inT(op, i);
    if ((st = expectTensor(op, x, DT_INT8, r)) != S.OK) return st;
    for (let d = 0; d < r; d++) if (d != axis && (st = expectDim(op, x, d, dim(y, d))) != S.OK) return st;
    axisSum += dim(x, axis);
    const c = changetype<ConcatInput>(ins + <usize>i * offsetof<ConcatInput>());
    c.data = dataOf(x);
    c.axisBytes = dim(x, axis) * inner;
    c.requant = param(op, 1 + 3 * i);
    c.scale = reinterpret<f32>(param(op, 2 + 3 * i));
    c.bias = reinterpret<f32>(param(op, 3 + 3 * i));
    c.outZp = zeroPoint(y);
  }
  if ((st = expectDim(op, y, axis, axisSum)) != S.OK) return st;
  a.output = dataOf(y); a.outer = outer; a.outAxisBytes = axisSum * inner; a.numInputs = n; a.inputs = ins;
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

export function preparePad(op: i32, out: usize): i32 {
  let st = expectCounts(op, 1, 1, 9);
  if (st != S.OK) return st;
  const x = inT(op, 0), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, rankOf(x))) != S.OK) return st;
  for (let d = 0; d < 4; d++) {
    const before = param(op, d), after = param(op, 4 + d);
    if (before < 0 || after < 0 || before > 0xffff || after > 0xffff) return S.failOp(S.ERM_BAD_PARAMS, op, -1, 0xffff, before < 0 ? before : after);
    if ((st = expectDim(op, y, d, dim(x, d) + before + after)) != S.OK) return st;
  }
  if ((st = expectRange(op, param(op, 8), -128, 127)) != S.OK) return st;
  const a = changetype<PadArgs>(rtAlloc(offsetof<PadArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.input = dataOf(x); a.output = dataOf(y);
  a.in0 = dim(x, 0); a.in1 = dim(x, 1); a.in2 = dim(x, 2); a.in3 = dim(x, 3);
  a.before0 = param(op, 0); a.before1 = param(op, 1); a.before2 = param(op, 2); a.before3 = param(op, 3);
  a.out0 = dim(y, 0); a.out1 = dim(y, 1); a.out2 = dim(y, 2); a.out3 = dim(y, 3);
  a.padValue = param(op, 8);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}
