// Shared checks for the per-op prepare functions: op record access and tensor expectations.
// Each failing check records the op, the tensor and expected vs actual, and returns a status.

import * as S from "../../format/status";
import { view, OP_RECORD_BYTES } from "../../format/reader";
import { dtypeOf, dim, rankOf, kindOf, elements, dataOf, KIND_ARENA, KIND_CONSTANT, DT_INT8 } from "../tensors";

export let curOp: i32 = 0;

// @ts-ignore: decorator
@inline export function opRec(op: i32): usize {
  return view.ops + <usize>op * OP_RECORD_BYTES;
}
export function opcodeOf(op: i32): i32 {
  return <i32>load<u16>(opRec(op));
}
export function numIn(op: i32): i32 {
  return <i32>load<u8>(opRec(op) + 2);
}
export function numOut(op: i32): i32 {
  return <i32>load<u8>(opRec(op) + 3);
}
export function inT(op: i32, k: i32): i32 {
  return load<i32>(view.io + ((<usize>load<u32>(opRec(op) + 4) + <usize>k) << 2));
}
export function outT(op: i32, k: i32): i32 {
  return inT(op, numIn(op) + k);
}
export function paramCount(op: i32): i32 {
  return <i32>load<u32>(opRec(op) + 12);
}
export function param(op: i32, k: i32): i32 {
  return load<i32>(view.parm + ((<usize>load<u32>(opRec(op) + 8) + <usize>k) << 2));
}
export function scratchT(op: i32): i32 {
  return load<i32>(opRec(op) + 16);
}

/** Checks the op record's references; afterwards inT/outT/param are safe to call. */
export function checkOpRecord(op: i32): i32 {
  curOp = op;
  const r = opRec(op);
  const nIn = <u64>load<u8>(r + 2);
  const nOut = <u64>load<u8>(r + 3);
  const io = <u64>load<u32>(r + 4);
  const p = <u64>load<u32>(r + 8);
  const pc = <u64>load<u32>(r + 12);
  if (io + nIn + nOut > <u64>view.nIo) return S.failOp(S.ERM_BAD_OFFSET, op, -1, view.nIo, io + nIn + nOut);
  if (p + pc > <u64>view.nParm) return S.failOp(S.ERM_BAD_OFFSET, op, -1, view.nParm, p + pc);
  if (nOut != 1) return S.failOp(S.ERM_BAD_OP, op, -1, 1, nOut);
  const n = <i32>(nIn + nOut);
  for (let k = 0; k < n; k++) {
    const t = inT(op, k);
    if (t < -1 || t >= <i32>view.nTensors) return S.failOp(S.ERM_BAD_OFFSET, op, t, view.nTensors, t);
  }
  if (outT(op, 0) < 0) return S.failOp(S.ERM_BAD_OP, op, -1, 0, -1);
  const s = scratchT(op);
  if (s < -1 || s >= <i32>view.nTensors) return S.failOp(S.ERM_BAD_OFFSET, op, s, view.nTensors, s);
  if (s >= 0 && kindOf(s) != KIND_ARENA) return S.failOp(S.ERM_BAD_TENSOR, op, s, KIND_ARENA, kindOf(s));
  return S.OK;
}

export function expectCounts(op: i32, minIn: i32, maxIn: i32, params: i32): i32 {
  const n = numIn(op);
  if (n < minIn || n > maxIn) return S.failOp(S.ERM_BAD_OP, op, -1, minIn, n);
  if (paramCount(op) != params) return S.failOp(S.ERM_BAD_PARAMS, op, -1, params, paramCount(op));
  return S.OK;
}

/** Tensor t must exist, have dtype dt and (rank >= 0) that rank. */
export function expectTensor(op: i32, t: i32, dt: u8, rank: i32): i32 {
  if (t < 0) return S.failOp(S.ERM_BAD_OP, op, t, 0, t);
  if (dtypeOf(t) != dt) return S.failOp(S.ERM_BAD_TENSOR, op, t, dt, dtypeOf(t));
  if (rank >= 0 && rankOf(t) != rank) return S.failOp(S.ERM_SHAPE_MISMATCH, op, t, rank, rankOf(t));
  return S.OK;
}

export function expectConstant(op: i32, t: i32): i32 {
  if (kindOf(t) != KIND_CONSTANT) return S.failOp(S.ERM_BAD_TENSOR, op, t, KIND_CONSTANT, kindOf(t));
  return S.OK;
}

export function expectElements(op: i32, t: i32, n: i32): i32 {
  if (elements(t) != n) return S.failOp(S.ERM_SHAPE_MISMATCH, op, t, n, elements(t));
  return S.OK;
}

export function expectDim(op: i32, t: i32, d: i32, v: i32): i32 {
  if (dim(t, d) != v) return S.failOp(S.ERM_SHAPE_MISMATCH, op, t, v, dim(t, d));
  return S.OK;
}

export function expectRange(op: i32, v: i32, lo: i32, hi: i32): i32 {
  if (v < lo || v > hi) return S.failOp(S.ERM_BAD_PARAMS, op, -1, hi, v);
  return S.OK;
}

/** int8 activation range: -128 <= min <= max <= 127. */
export function expectActRange(op: i32, lo: i32, hi: i32): i32 {
  if (lo < -128 || hi > 127 || lo > hi) return S.failOp(S.ERM_BAD_PARAMS, op, -1, -128, <i64>lo);
  return S.OK;
}

/**
 * Window geometry shared by conv, depthwise and pool: every output position's window must
 * touch the input (so no window is empty and no index leaves the tensor).
 */
export function expectWindow(op: i32, inSize: i32, outSize: i32, k: i32, stride: i32, dil: i32, pad: i32): i32 {
  if (stride < 1 || stride > 1024 || dil < 1 || dil > 1024 || k < 1 || k > 4096) return S.failOp(S.ERM_BAD_PARAMS, op, -1, 1, stride);
  const eff = <i64>(k - 1) * dil + 1;
  if (pad < 0 || <i64>pad >= eff) return S.failOp(S.ERM_BAD_PARAMS, op, -1, eff, pad);
  if (outSize < 1 || <i64>(outSize - 1) * stride - pad > <i64>inSize - 1) return S.failOp(S.ERM_SHAPE_MISMATCH, op, -1, inSize, outSize);
  return S.OK;
}

/** Per-channel multipliers (int32) and shifts (int8): n or 1 values each, shifts within the spec's range. */
export function expectMultipliers(op: i32, mult: i32, shift: i32, n: i32): i32 {
  let st = expectTensor(op, mult, 4, -1);
  if (st != S.OK) return st;
  st = expectTensor(op, shift, DT_INT8, -1);
  if (st != S.OK) return st;
  const m = elements(mult);
  if (m != n && m != 1) return S.failOp(S.ERM_SHAPE_MISMATCH, op, mult, n, m);
  if (elements(shift) != m) return S.failOp(S.ERM_SHAPE_MISMATCH, op, shift, m, elements(shift));
  st = expectConstant(op, mult);
  if (st != S.OK) return st;
  st = expectConstant(op, shift);
  if (st != S.OK) return st;
  const p = dataOf(shift), q = dataOf(mult);
  for (let i = 0; i < m; i++) {
    const v = <i32>load<i8>(p + <usize>i);
    if (v < -31 || v > 30) return S.failOp(S.ERM_BAD_PARAMS, op, shift, 30, v);
    // TFLite multipliers are 0 or in [2^30, 2^31); the fast kernels rely on them being >= 0.
    if (load<i32>(q + (<usize>i << 2)) < 0) return S.failOp(S.ERM_BAD_PARAMS, op, mult, 0, load<i32>(q + (<usize>i << 2)));
  }
  return S.OK;
}

/** Fused-ADD / ADD parameter block of 12 words starting at word k (ADD_PARAMS order). */
export function expectAddParams(op: i32, k: i32): i32 {
  let st = expectRange(op, param(op, k + 2), 0, 20);
  if (st != S.OK) return st;
  for (let j = 4; j <= 8; j += 2) {
    st = expectRange(op, param(op, k + j), -31, 0);
    if (st != S.OK) return st;
  }
  for (let j = 0; j < 2; j++) {
    st = expectRange(op, param(op, k + j), -255, 255);
    if (st != S.OK) return st;
  }
  st = expectRange(op, param(op, k + 9), -255, 255);
  if (st != S.OK) return st;
  return expectActRange(op, param(op, k + 10), param(op, k + 11));
}

function dimRight(t: i32, k: i32): i32 {
  const r = rankOf(t);
  return k >= 4 - r ? dim(t, k - (4 - r)) : 1;
}

/**
 * NumPy broadcasting of two inputs to y, right-aligned over the stored dims (rank <= 4), written
 * as 13 consecutive i32 at `at`: the broadcast flag (0 = same shapes), the output dims d0..d3
 * (left-padded to 4), then each input's element strides (0 on its broadcast dims). ADD and MUL
 * keep this block in the same order (AddArgs, MulArgs from the `broadcast` field on).
 */
export function fillBroadcast(op: i32, x1: i32, x2: i32, y: i32, at: usize): i32 {
  const r = rankOf(y);
  if (rankOf(x1) > r || rankOf(x2) > r) return S.failOp(S.ERM_SHAPE_MISMATCH, op, y, r, max(rankOf(x1), rankOf(x2)));
  const n = elements(y);
  let same = elements(x1) == n && elements(x2) == n && rankOf(x1) == r && rankOf(x2) == r;
  let s1: i32 = 1, s2: i32 = 1;
  for (let k = 3; k >= 0; k--) {
    const od = k >= 4 - r ? dim(y, k - (4 - r)) : 1;
    const d1 = dimRight(x1, k), d2 = dimRight(x2, k);
    if ((d1 != od && d1 != 1) || (d2 != od && d2 != 1)) return S.failOp(S.ERM_SHAPE_MISMATCH, op, y, od, d1 != od ? d1 : d2);
    if (d1 != od || d2 != od) same = false;
    store<i32>(at + 4 + (<usize>k << 2), od);
    store<i32>(at + 20 + (<usize>k << 2), d1 == 1 && od != 1 ? 0 : s1);
    store<i32>(at + 36 + (<usize>k << 2), d2 == 1 && od != 1 ? 0 : s2);
    s1 *= d1;
    s2 *= d2;
  }
  store<i32>(at, same ? 0 : 1);
  return S.OK;
}
