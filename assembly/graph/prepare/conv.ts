// Prepare for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: check shapes and
// parameters once, resolve pointers, and fill the kernel argument blocks.
// Inputs: [input, filter, bias | -1, multipliers, shifts, (residual for a fused ADD)].

import * as S from "../../format/status";
import { ConvArgs, FcArgs, AddParams } from "../../kernels/args";
import { rtAlloc } from "../alloc";
import { dim, dataOf, elements, byteLength, DT_INT8, DT_INT32 } from "../tensors";
import {
  inT, outT, param, numIn, scratchT, expectCounts, expectTensor, expectConstant, expectElements, expectDim,
  expectRange, expectActRange, expectWindow, expectMultipliers, expectAddParams,
} from "./common";
import { conv2dScratchBytes } from "../../kernels/conv2d/index";
import { depthwiseScratchBytes } from "../../kernels/depthwise/index";
import { fcScratchBytes } from "../../kernels/fc/index";

const CONV_WORDS = 11;

export function fillAddParams(op: i32, k: i32): AddParams {
  const p = changetype<AddParams>(rtAlloc(offsetof<AddParams>()));
  if (changetype<usize>(p) == 0) return p;
  p.in1Offset = param(op, k);
  p.in2Offset = param(op, k + 1);
  p.leftShift = param(op, k + 2);
  p.in1Mult = param(op, k + 3);
  p.in1Shift = param(op, k + 4);
  p.in2Mult = param(op, k + 5);
  p.in2Shift = param(op, k + 6);
  p.outMult = param(op, k + 7);
  p.outShift = param(op, k + 8);
  p.outOffset = param(op, k + 9);
  p.actMin = param(op, k + 10);
  p.actMax = param(op, k + 11);
  return p;
}

export function prepareConv(op: i32, depthwise: bool, out: usize): i32 {
  const fused = numIn(op) == 6;
  let st = expectCounts(op, 5, 6, fused ? CONV_WORDS + 12 : CONV_WORDS);
  if (st != S.OK) return st;
  const x = inT(op, 0), w = inT(op, 1), b = inT(op, 2), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, 4)) != S.OK) return st;
  if ((st = expectTensor(op, w, DT_INT8, 4)) != S.OK) return st;
  if ((st = expectConstant(op, w)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, 4)) != S.OK) return st;
  if ((st = expectDim(op, x, 0, 1)) != S.OK) return st; // batch 1 (one call per image)
  if ((st = expectDim(op, y, 0, 1)) != S.OK) return st;
  const inC = dim(x, 3), outC = dim(y, 3);
  const kH = dim(w, 1), kW = dim(w, 2);
  const dm = param(op, 10);
  if (depthwise) {
    if ((st = expectRange(op, dm, 1, 256)) != S.OK) return st;
    if ((st = expectDim(op, w, 0, 1)) != S.OK) return st;
    if ((st = expectDim(op, w, 3, outC)) != S.OK) return st;
    if ((st = expectDim(op, y, 3, inC * dm)) != S.OK) return st;
  } else {
    if ((st = expectDim(op, w, 0, outC)) != S.OK) return st;
    if ((st = expectDim(op, w, 3, inC)) != S.OK) return st;
  }
  if (b >= 0) {
    if ((st = expectTensor(op, b, DT_INT32, -1)) != S.OK) return st;
    if ((st = expectElements(op, b, outC)) != S.OK) return st;
    if ((st = expectConstant(op, b)) != S.OK) return st;
  }
  if ((st = expectMultipliers(op, inT(op, 3), inT(op, 4), outC)) != S.OK) return st;
  if ((st = expectWindow(op, dim(x, 1), dim(y, 1), kH, param(op, 0), param(op, 2), param(op, 4))) != S.OK) return st;
  if ((st = expectWindow(op, dim(x, 2), dim(y, 2), kW, param(op, 1), param(op, 3), param(op, 5))) != S.OK) return st;
  if ((st = expectRange(op, param(op, 6), -255, 255)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 7), -255, 255)) != S.OK) return st;
  if ((st = expectActRange(op, param(op, 8), param(op, 9))) != S.OK) return st;
  if (fused) {
    const r = inT(op, 5);
    if ((st = expectTensor(op, r, DT_INT8, -1)) != S.OK) return st;
    if ((st = expectElements(op, r, elements(y))) != S.OK) return st;
    if ((st = expectAddParams(op, CONV_WORDS)) != S.OK) return st;
  }
  const a = changetype<ConvArgs>(rtAlloc(offsetof<ConvArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.input = dataOf(x); a.inH = dim(x, 1); a.inW = dim(x, 2); a.inC = inC;
  a.filter = dataOf(w); a.kH = kH; a.kW = kW;
  a.bias = b >= 0 ? dataOf(b) : 0;
  a.output = dataOf(y); a.outH = dim(y, 1); a.outW = dim(y, 2); a.outC = outC;
  a.strideH = param(op, 0); a.strideW = param(op, 1); a.dilH = param(op, 2); a.dilW = param(op, 3);
  a.padTop = param(op, 4); a.padLeft = param(op, 5);
  a.inputOffset = param(op, 6); a.outputOffset = param(op, 7);
  a.mult = dataOf(inT(op, 3)); a.shift = dataOf(inT(op, 4));
  a.multStride = elements(inT(op, 3)) == 1 ? 0 : 4;
  a.actMin = param(op, 8); a.actMax = param(op, 9);
  a.depthMultiplier = depthwise ? dm : 1;
  a.residual = 0;
  a.add = null;
  if (fused) {
    a.residual = dataOf(inT(op, 5));
    const p = fillAddParams(op, CONV_WORDS);
    if (changetype<usize>(p) == 0) return S.RUNTIME_OUT_OF_MEMORY;
    a.add = p;
  }
  const need = depthwise ? depthwiseScratchBytes(a) : conv2dScratchBytes(a);
  st = attachScratch(op, need);
  if (st != S.OK) return st;
  const s = scratchT(op);
  a.scratch = s >= 0 ? dataOf(s) : 0;
  a.scratchBytes = s >= 0 ? byteLength(s) : 0;
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}

/** The planned scratch tensor must hold what the kernel family asks for. */
function attachScratch(op: i32, need: i32): i32 {
  if (need <= 0) return S.OK;
  const s = scratchT(op);
  if (s < 0) return S.failOp(S.ERM_BAD_PARAMS, op, -1, need, 0);
  if (byteLength(s) < need) return S.failOp(S.ERM_BAD_PARAMS, op, s, need, byteLength(s));
  return S.OK;
}

export function prepareFc(op: i32, out: usize): i32 {
  let st = expectCounts(op, 5, 5, 4);
  if (st != S.OK) return st;
  const x = inT(op, 0), w = inT(op, 1), b = inT(op, 2), y = outT(op, 0);
  if ((st = expectTensor(op, x, DT_INT8, -1)) != S.OK) return st;
  if ((st = expectTensor(op, w, DT_INT8, 2)) != S.OK) return st;
  if ((st = expectConstant(op, w)) != S.OK) return st;
  if ((st = expectTensor(op, y, DT_INT8, -1)) != S.OK) return st;
  const outC = dim(w, 0), depth = dim(w, 1);
  if (depth < 1 || elements(x) % depth != 0) return S.failOp(S.ERM_SHAPE_MISMATCH, op, x, depth, elements(x));
  const batches = elements(x) / depth;
  if ((st = expectElements(op, y, batches * outC)) != S.OK) return st;
  if (b >= 0) {
    if ((st = expectTensor(op, b, DT_INT32, -1)) != S.OK) return st;
    if ((st = expectElements(op, b, outC)) != S.OK) return st;
    if ((st = expectConstant(op, b)) != S.OK) return st;
  }
  if ((st = expectMultipliers(op, inT(op, 3), inT(op, 4), outC)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 0), -255, 255)) != S.OK) return st;
  if ((st = expectRange(op, param(op, 1), -255, 255)) != S.OK) return st;
  if ((st = expectActRange(op, param(op, 2), param(op, 3))) != S.OK) return st;
  const a = changetype<FcArgs>(rtAlloc(offsetof<FcArgs>()));
  if (changetype<usize>(a) == 0) return S.RUNTIME_OUT_OF_MEMORY;
  a.input = dataOf(x); a.batches = batches; a.depth = depth;
  a.filter = dataOf(w); a.bias = b >= 0 ? dataOf(b) : 0;
  a.output = dataOf(y); a.outC = outC;
  a.inputOffset = param(op, 0); a.outputOffset = param(op, 1);
  a.mult = dataOf(inT(op, 3)); a.shift = dataOf(inT(op, 4));
  a.multStride = elements(inT(op, 3)) == 1 ? 0 : 4;
  a.actMin = param(op, 2); a.actMax = param(op, 3);
  st = attachScratch(op, fcScratchBytes(a));
  if (st != S.OK) return st;
  const s = scratchT(op);
  a.scratch = s >= 0 ? dataOf(s) : 0;
  a.scratchBytes = s >= 0 ? byteLength(s) : 0;
  store<usize>(out, changetype<usize>(a));
  return S.OK;
}
