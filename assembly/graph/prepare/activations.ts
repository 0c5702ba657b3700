// Prepare for MUL and the int8 activations (LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU). All checks
// happen here, as in misc.ts: dtypes, element counts, parameter ranges; the activation table is
// built here too, so a run is one table lookup per element.

import * as S from "../../format/status";
import { ActArgs, ACT_HARD_SWISH, ACT_LEAKY_RELU, ACT_LOGISTIC, ACT_TANH } from "../../kernels/activation/args";
import { buildActLut } from "../../kernels/activation/lut";
import { MulArgs } from "../../kernels/mul/args";
import { rtAlloc } from "../alloc";
import { dim, dataOf, elements, rankOf, zeroPoint, DT_INT8 } from "../tensors";
import { inT, outT, param, expectCounts, expectTensor, expectElements, expectRange, expectActRange, fillBroadcast } from "./common";
import * as OP from "../opcodes";

/** MUL: NumPy broadcasting right-aligned over the stored dims, as ADD. */
export function prepareMul(op: i32, out: usize): i32 {
  let st = expectCounts(op, 2, 2, 7);
  if (st != S.OK) return st;
  const x1 = inT(op, 0), x2 = inT(op, 1), y = outT(op, 0);
  if ((st = expectTensor(op, x1, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, x2, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, -1)) != S.OK) return st;
  for (let k = 0; k < 3; k++) if ((st = expectRange(op, param(op, k), -255, 255)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 4), -31, 30)) != S.OK) return st;
  if ((st = expectActRange(op, param(op, 5), param(op, 6))) != S.OK) return st;
  const a = changetype<MulArgs>(rtAlloc(offsetof<MulArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.in1 = dataOf(x1); a.in2 = dataOf(x2); a.output = dataOf(y); a.count = elements(y);
  if ((st = fillBroadcast(op, x1, x2, y, changetype<usize>(a) + offsetof<MulArgs>("broadcast"))) != S.OK) return st;
  a.in1Offset = param(op, 0); a.in2Offset = param(op, 1); a.outOffset = param(op, 2);
  a.mult = param(op, 3); a.shift = param(op, 4); a.actMin = param(op, 5); a.actMax = param(op, 6);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

/** Word ranges per activation; returns the parameter count. */
function checkActParams(op: i32, kind: i32): i32 {
  let st: i32 = S.OK;
  if (kind == ACT_LOGISTIC || kind == ACT_TANH) {
    if ((st = expectCounts(op, 1, 1, 4)) != S.OK) return st;
    if ((st = expectRange(op, param(op, 0), -128, 127)) != S.OK) return st;
    if ((st = expectRange(op, param(op, 1), 0, i32.MAX_VALUE)) != S.OK) return st;
    return expectRange(op, param(op, 3), -31, 30);
  }
  if (kind == ACT_HARD_SWISH) {
    if ((st = expectCounts(op, 1, 1, 6)) != S.OK) return st;
    for (let k = 0; k < 2; k++) if ((st = expectRange(op, param(op, k), -128, 127)) != S.OK) return st;
    if ((st = expectRange(op, param(op, 2), 0, 32767)) != S.OK) return st;
    if ((st = expectRange(op, param(op, 3), -15, 0)) != S.OK) return st;
    if ((st = expectRange(op, param(op, 4), 0, 32767)) != S.OK) return st;
    return expectRange(op, param(op, 5), -15, 15);
  }
  if ((st = expectCounts(op, 1, 1, 8)) != S.OK) return st;
  for (let k = 0; k < 2; k++) if ((st = expectRange(op, param(op, k), -128, 127)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 3), -31, 30)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 5), -31, 30)) != S.OK) return st;
  return expectActRange(op, param(op, 6), param(op, 7));
}

export function prepareActivation(op: i32, code: i32, out: usize): i32 {
  const kind = code == OP.OP_LOGISTIC ? ACT_LOGISTIC : code == OP.OP_TANH ? ACT_TANH : code == OP.OP_HARD_SWISH ? ACT_HARD_SWISH : ACT_LEAKY_RELU;
  let st = checkActParams(op, kind);
  if (st != S.OK) return st;
  const x = inT(op, 0), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectElements(op, y, elements(x))) != S.OK) return st;
  // LOGISTIC and TANH have fixed output quantization; the words assume it.
  if (kind == ACT_LOGISTIC && zeroPoint(y) != -128) return S.failOp(S.ERM_BAD_TENSOR, op, y, -128, zeroPoint(y));
  if (kind == ACT_TANH && zeroPoint(y) != 0) return S.failOp(S.ERM_BAD_TENSOR, op, y, 0, zeroPoint(y));
  const a = changetype<ActArgs>(rtAlloc(offsetof<ActArgs>()));
  const lut = rtAlloc(256);
  if (changetype<usize>(a) == 0 || lut == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.input = dataOf(x); a.output = dataOf(y); a.count = elements(x); a.kind = kind;
  a.p0 = param(op, 0); a.p1 = param(op, 1); a.p2 = param(op, 2); a.p3 = param(op, 3);
  if (kind >= ACT_HARD_SWISH) { a.p4 = param(op, 4); a.p5 = param(op, 5); }
  if (kind == ACT_LEAKY_RELU) { a.p6 = param(op, 6); a.p7 = param(op, 7); }
  a.lut = lut;
  buildActLut(a);
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}
