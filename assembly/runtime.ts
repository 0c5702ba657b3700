// The runtime's exported API, shared by both builds (build-simd.ts, build-mvp.ts).
// Host protocol: p = alloc(n); copy the .erm to p; load(p, n); write inputs at inputPtr(i);
// invoke(); read outputs at outputPtr(i). Every call returns a status (0 = OK) instead of trapping.

import * as S from "./format/status";
import "./graph/abort";
import { view, graphInput, graphOutput } from "./format/reader";
import { rtAlloc, heapTop } from "./graph/alloc";
import { loadModel, invokeRange, setTier, isLoaded, workingBytes, unloadModel } from "./graph/interpreter";
import { dataOf, byteLength } from "./graph/tensors";

/** Bumped when the exported API or the accepted format changes. */
export const RUNTIME_ABI_VERSION: i32 = 1;

export function abiVersion(): i32 {
  return RUNTIME_ABI_VERSION;
}

/** 1 in the SIMD build, 0 in the MVP build. */
export function hasSimd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

export function alloc(bytes: u32): usize {
  return rtAlloc(bytes);
}

export function load(model: usize, bytes: u32): i32 {
  if (model == 0 || <u64>model + <u64>bytes > ((<u64>memory.size()) << 16)) return S.RUNTIME_BAD_ARGUMENT;
  return loadModel(model, bytes, true);
}

/** Same as load, without the CRC check (the host checked it, or a test mutates files on purpose). */
export function loadUnchecked(model: usize, bytes: u32): i32 {
  if (model == 0 || <u64>model + <u64>bytes > ((<u64>memory.size()) << 16)) return S.RUNTIME_BAD_ARGUMENT;
  return loadModel(model, bytes, false);
}

/** Forgets the model and frees all memory (pointers from alloc become invalid). */
export function unload(): void {
  unloadModel();
}

export function invoke(): i32 {
  return invokeRange(0, <i32>view.nOps);
}

/** Runs ops [from, to): per-layer timing and layer-by-layer checks. */
export function invokeOps(from: i32, to: i32): i32 {
  return invokeRange(from, to);
}

/** 0 = reference kernels, 1 = this build's fast kernels (default). */
export function setKernelTier(t: i32): void {
  setTier(t);
}

export function opCount(): i32 {
  return isLoaded() ? <i32>view.nOps : 0;
}

export function inputCount(): i32 {
  return isLoaded() ? <i32>view.nInputs : 0;
}

export function outputCount(): i32 {
  return isLoaded() ? <i32>view.nOutputs : 0;
}

export function inputPtr(i: i32): usize {
  return isLoaded() && i >= 0 && i < <i32>view.nInputs ? dataOf(graphInput(i)) : 0;
}

export function inputBytes(i: i32): i32 {
  return isLoaded() && i >= 0 && i < <i32>view.nInputs ? byteLength(graphInput(i)) : 0;
}

export function outputPtr(i: i32): usize {
  return isLoaded() && i >= 0 && i < <i32>view.nOutputs ? dataOf(graphOutput(i)) : 0;
}

export function outputBytes(i: i32): i32 {
  return isLoaded() && i >= 0 && i < <i32>view.nOutputs ? byteLength(graphOutput(i)) : 0;
}

/** Data pointer of any tensor (for layer-by-layer checks); 0 when out of range. */
export function tensorPtr(t: i32): usize {
  return isLoaded() && t >= 0 && t < <i32>view.nTensors ? dataOf(t) : 0;
}

export function arenaBytes(): u32 {
  return view.arenaBytes;
}

/** Bytes allocated by load: arena + tables + argument blocks + packed weights. */
export function workingRamBytes(): u32 {
  return <u32>workingBytes;
}

export function heapEnd(): u32 {
  return <u32>heapTop();
}

export function errorWhere(): i32 {
  return S.errWhere;
}
export function errorOp(): i32 {
  return S.errOp;
}
export function errorTensor(): i32 {
  return S.errTensor;
}
export function errorExpected(): i64 {
  return S.errExpected;
}
export function errorActual(): i64 {
  return S.errActual;
}
