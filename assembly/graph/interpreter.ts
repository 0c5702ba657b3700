// The graph interpreter: load = read container, allocate the planned arena, resolve tensors,
// prepare every op (all checks happen here); invoke = one loop over the ops, trusting prepare.

import * as S from "../format/status";
import { view, readContainer } from "../format/reader";
import { rtAlloc, markLoadStart, bytesSinceLoadStart, resetHeap } from "./alloc";
import { resolveTensors } from "./tensors";
import * as tensors from "./tensors";
import { checkOpRecord, opcodeOf } from "./prepare/common";
import { prepareConv, prepareFc } from "./prepare/conv";
import { prepareFcSparse, prepareConvSparse } from "./prepare/sparse";
import { preparePool, prepareAdd, prepareReshape, prepareSoftmax, prepareQuant, prepareMean, prepareConcat, preparePad } from "./prepare/misc";
import { prepareMul, prepareActivation } from "./prepare/activations";
import { runOp, prepareKernels } from "./dispatch";
import * as OP from "./opcodes";

/** Per op: opcode (i32) and argument block pointer (usize). */
let opTable: usize = 0;
let loaded = false;
let tier: i32 = 1;
export let workingBytes: usize = 0;

const OP_ENTRY: usize = 8;

export function setTier(t: i32): void {
  tier = t;
}

/** Drops the model and all its memory; alloc + load may follow for another model. */
export function unloadModel(): void {
  loaded = false;
  opTable = 0;
  workingBytes = 0;
  tier = 1;
  resetHeap();
}

export function isLoaded(): bool {
  return loaded;
}

export function loadModel(base: usize, bytes: u32, checkCrc: bool): i32 {
  S.clearError();
  if (loaded) return S.RUNTIME_BAD_ARGUMENT; // one model at a time: unload() first
  let st = readContainer(base, bytes, checkCrc);
  if (st != S.OK) return st;
  markLoadStart();
  tensors.arenaPtr = rtAlloc(view.arenaBytes);
  if (view.arenaBytes > 0 && tensors.arenaPtr == 0) return S.fail(S.RUNTIME_OUT_OF_MEMORY, -1, view.arenaBytes, 0);
  st = resolveTensors();
  if (st != S.OK) return st;
  opTable = rtAlloc(<usize>view.nOps * OP_ENTRY);
  if (view.nOps > 0 && opTable == 0) return S.RUNTIME_OUT_OF_MEMORY;
  for (let i: i32 = 0; i < <i32>view.nOps; i++) {
    st = prepareOp(i);
    if (st != S.OK) return st;
  }
  workingBytes = bytesSinceLoadStart();
  loaded = true;
  return S.OK;
}

function prepareOp(i: i32): i32 {
  let st = checkOpRecord(i);
  if (st != S.OK) return st;
  const code = opcodeOf(i);
  const slot = opTable + <usize>i * OP_ENTRY;
  store<i32>(slot, code);
  const out = slot + 4;
  if (code == OP.OP_CONV_2D) st = prepareConv(i, false, out);
  else if (code == OP.OP_DEPTHWISE_CONV_2D) st = prepareConv(i, true, out);
  else if (code == OP.OP_FULLY_CONNECTED) st = prepareFc(i, out);
  else if (code == OP.OP_AVERAGE_POOL_2D || code == OP.OP_MAX_POOL_2D) st = preparePool(i, out);
  else if (code == OP.OP_ADD) st = prepareAdd(i, out);
  else if (code == OP.OP_RESHAPE) st = prepareReshape(i, out);
  else if (code == OP.OP_SOFTMAX) st = prepareSoftmax(i, out);
  else if (code == OP.OP_QUANTIZE || code == OP.OP_DEQUANTIZE) st = prepareQuant(i, out);
  else if (code == OP.OP_MEAN) st = prepareMean(i, out);
  else if (code == OP.OP_CONCATENATION) st = prepareConcat(i, out);
  else if (code == OP.OP_PAD) st = preparePad(i, out);
  else if (code == OP.OP_MUL) st = prepareMul(i, out);
  else if (code >= OP.OP_LOGISTIC && code <= OP.OP_LEAKY_RELU) st = prepareActivation(i, code, out);
  else if (code == OP.OP_FULLY_CONNECTED_SPARSE) st = prepareFcSparse(i, out);
  else if (code == OP.OP_CONV_2D_SPARSE) st = prepareConvSparse(i, out);
  else return S.failOp(S.ERM_UNSUPPORTED_OP, i, -1, 0, code);
  if (st != S.OK) return st;
  // Re-read: a sparse op that this build runs dense has been given its dense opcode (prepare/sparse.ts).
  return prepareKernels(load<i32>(slot), load<usize>(out));
}

/** Runs ops [from, to). */
export function invokeRange(from: i32, to: i32): i32 {
  if (!loaded) return S.RUNTIME_NOT_LOADED;
  if (from < 0 || to > <i32>view.nOps || from > to) return S.RUNTIME_BAD_ARGUMENT;
  for (let i = from; i < to; i++) {
    const slot = opTable + <usize>i * OP_ENTRY;
    runOp(load<i32>(slot), load<usize>(slot + 4), tier);
  }
  return S.OK;
}
