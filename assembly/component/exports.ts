// The runtime as a WebAssembly component (wit/edgerun-runtime.wit): canonical-ABI lowerings of
// load, run, describe and unload over the runtime's own API. scripts/build-component.mjs renames
// these exports to "edgerun:runtime/inference@0.1.0#<name>" and wraps the module with jco.
// Results go through a static return area; lists the host passes in come from cabi_realloc.

import * as S from "../format/status";
import { view, graphInput, graphOutput } from "../format/reader";
import { rtAlloc } from "../graph/alloc";
import { loadModel, unloadModel, invokeRange, isLoaded, workingBytes } from "../graph/interpreter";
import { dataOf, byteLength } from "../graph/tensors";
import { RUNTIME_ABI_VERSION } from "../runtime";

// result<T, error> is stored as: u8 discriminant at 0, payload at 8 (error holds s64 fields).
const RET = memory.data(48, 8);
const SIZES = memory.data(2 * 64 * 4, 4); // describe(): input sizes, then output sizes
let staging: usize = 0; // reused for run's input list once a model is loaded
let stagingBytes: u32 = 0;
let outputs: usize = 0; // the concatenated outputs of a multi-output model
let inputTotal: u32 = 0;
let outputTotal: u32 = 0;

/**
 * Memory for lists the host passes in. Before a model is loaded the block is the model's own home
 * (the runtime uses weights in place); afterwards run's input reuses one staging block. The
 * canonical ABI has no failure result here, so a full memory traps (the host sees a trap).
 */
export function cabi_realloc(oldPtr: usize, oldSize: u32, align: u32, newSize: u32): usize {
  if (isLoaded() && newSize <= stagingBytes) return staging;
  const p = rtAlloc(newSize);
  if (p == 0) unreachable();
  if (oldPtr != 0) memory.copy(p, oldPtr, min(oldSize, newSize));
  if (isLoaded()) {
    staging = p;
    stagingBytes = newSize;
  }
  return p;
}

function fail(status: i32): usize {
  store<u8>(RET, 1);
  store<u8>(RET + 8, <u8>status);
  store<i32>(RET + 12, S.errWhere);
  store<i32>(RET + 16, S.errOp);
  store<i32>(RET + 20, S.errTensor);
  store<i64>(RET + 24, S.errExpected);
  store<i64>(RET + 32, S.errActual);
  return RET;
}

function sumBytes(first: bool): u32 {
  let total: u32 = 0;
  const n = first ? view.nInputs : view.nOutputs;
  for (let i: u32 = 0; i < n; i++) total += <u32>byteLength(first ? graphInput(i) : graphOutput(i));
  return total;
}

export function component_load(ptr: usize, len: u32): usize {
  if (isLoaded()) {
    S.clearError();
    return fail(S.RUNTIME_BAD_ARGUMENT);
  }
  const st = loadModel(ptr, len, true);
  if (st != S.OK) {
    const r = fail(st);
    unloadModel();
    return r;
  }
  inputTotal = sumBytes(true);
  outputTotal = sumBytes(false);
  staging = rtAlloc(max<u32>(inputTotal, 16));
  stagingBytes = max<u32>(inputTotal, 16);
  outputs = view.nOutputs > 1 ? rtAlloc(outputTotal) : 0;
  if (staging == 0 || (view.nOutputs > 1 && outputs == 0)) {
    unloadModel();
    return fail(S.RUNTIME_OUT_OF_MEMORY);
  }
  store<u8>(RET, 0);
  return RET;
}

export function component_run(ptr: usize, len: u32): usize {
  S.clearError();
  if (!isLoaded()) return fail(S.RUNTIME_NOT_LOADED);
  if (len != inputTotal) return fail(S.fail(S.RUNTIME_BAD_ARGUMENT, -1, inputTotal, len));
  let at = ptr;
  for (let i: u32 = 0; i < view.nInputs; i++) {
    const t = graphInput(i), k = <usize>byteLength(t);
    memory.copy(dataOf(t), at, k);
    at += k;
  }
  const st = invokeRange(0, <i32>view.nOps);
  if (st != S.OK) return fail(st);
  let out = dataOf(graphOutput(0));
  if (view.nOutputs > 1) {
    out = outputs;
    for (let i: u32 = 0, o = outputs; i < view.nOutputs; i++) {
      const t = graphOutput(i), k = <usize>byteLength(t);
      memory.copy(o, dataOf(t), k);
      o += k;
    }
  }
  store<u8>(RET, 0);
  store<u32>(RET + 8, <u32>out);
  store<u32>(RET + 12, outputTotal);
  return RET;
}

export function component_describe(): usize {
  S.clearError();
  if (!isLoaded()) return fail(S.RUNTIME_NOT_LOADED);
  const nIn = view.nInputs, nOut = view.nOutputs; // at most 64 each (checked by the reader)
  for (let i: u32 = 0; i < nIn; i++) store<u32>(SIZES + i * 4, <u32>byteLength(graphInput(i)));
  for (let i: u32 = 0; i < nOut; i++) store<u32>(SIZES + 256 + i * 4, <u32>byteLength(graphOutput(i)));
  store<u8>(RET, 0);
  const p = RET + 8;
  store<u32>(p, RUNTIME_ABI_VERSION);
  store<u8>(p + 4, ASC_FEATURE_SIMD ? 1 : 0);
  store<u32>(p + 8, view.nOps);
  store<u32>(p + 12, view.arenaBytes);
  store<u32>(p + 16, <u32>workingBytes);
  store<u32>(p + 20, <u32>SIZES);
  store<u32>(p + 24, nIn);
  store<u32>(p + 28, <u32>(SIZES + 256));
  store<u32>(p + 32, nOut);
  return RET;
}

export function component_unload(): void {
  unloadModel();
  staging = 0;
  stagingBytes = 0;
  outputs = 0;
}
