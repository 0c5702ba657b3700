// Tensor table: checks every tensor record once at load and resolves its data pointer
// (weights section for constants, arena for activations). Kernels never see an unchecked pointer.

import * as S from "../format/status";
import { view, TENSOR_RECORD_BYTES } from "../format/reader";
import { rtAlloc } from "./alloc";

export const DT_INT8: u8 = 1;
export const DT_UINT8: u8 = 2;
export const DT_INT16: u8 = 3;
export const DT_INT32: u8 = 4;
export const DT_FLOAT32: u8 = 5;
export const KIND_ARENA: u8 = 0;
export const KIND_CONSTANT: u8 = 1;

/** Per-tensor data pointer, filled by resolveTensors. */
export let dataPtrs: usize = 0;
export let arenaPtr: usize = 0;

// @ts-ignore: decorator
@inline export function rec(t: i32): usize {
  return view.tens + <usize>t * TENSOR_RECORD_BYTES;
}
// @ts-ignore: decorator
@inline export function dtypeOf(t: i32): u8 {
  return load<u8>(rec(t));
}
// @ts-ignore: decorator
@inline export function rankOf(t: i32): i32 {
  return <i32>load<u8>(rec(t) + 1);
}
// @ts-ignore: decorator
@inline export function kindOf(t: i32): u8 {
  return load<u8>(rec(t) + 2);
}
// @ts-ignore: decorator
@inline export function dim(t: i32, d: i32): i32 {
  return load<i32>(rec(t) + 4 + (<usize>d << 2));
}
// @ts-ignore: decorator
@inline export function zeroPoint(t: i32): i32 {
  return load<i32>(rec(t) + 20);
}
// @ts-ignore: decorator
@inline export function byteLength(t: i32): i32 {
  return load<i32>(rec(t) + 32);
}
// @ts-ignore: decorator
@inline export function dataOf(t: i32): usize {
  return load<usize>(dataPtrs + (<usize>t << alignof<usize>()));
}

export function dtypeBytes(dt: u8): u32 {
  if (dt == DT_INT8 || dt == DT_UINT8) return 1;
  if (dt == DT_INT16) return 2;
  if (dt == DT_INT32 || dt == DT_FLOAT32) return 4;
  return 0;
}

export function elements(t: i32): i32 {
  return dim(t, 0) * dim(t, 1) * dim(t, 2) * dim(t, 3);
}

/** Checks all tensor records; the arena must already be allocated (arenaPtr). */
export function resolveTensors(): i32 {
  dataPtrs = rtAlloc(<usize>view.nTensors << alignof<usize>());
  if (view.nTensors > 0 && dataPtrs == 0) return S.RUNTIME_OUT_OF_MEMORY;
  for (let t: i32 = 0; t < <i32>view.nTensors; t++) {
    const st = checkTensor(t);
    if (st != S.OK) return st;
  }
  return S.OK;
}

function checkTensor(t: i32): i32 {
  const r = rec(t);
  const where = <i32>(r - view.base);
  const dt = load<u8>(r);
  const rank = <u32>load<u8>(r + 1);
  const kind = load<u8>(r + 2);
  const size = dtypeBytes(dt);
  if (size == 0) return S.fail(S.ERM_BAD_TENSOR, where, 0, dt);
  if (rank > 4) return S.fail(S.ERM_BAD_TENSOR, where + 1, 4, rank);
  if (kind != KIND_ARENA && kind != KIND_CONSTANT) return S.fail(S.ERM_BAD_TENSOR, where + 2, 1, kind);
  let count: u64 = size;
  for (let d: u32 = 0; d < 4; d++) {
    const v = load<u32>(r + 4 + d * 4);
    if (d >= rank && v != 1) return S.fail(S.ERM_BAD_TENSOR, where + 4 + <i32>d * 4, 1, v);
    if (v > 0x1000000) return S.fail(S.ERM_LIMIT, where + 4 + <i32>d * 4, 0x1000000, v);
    count *= <u64>v;
    if (count > 0x10000000) return S.fail(S.ERM_LIMIT, where + 4, 0x10000000, count);
  }
  const bytes = load<u32>(r + 32);
  if (<u64>bytes != count) return S.fail(S.ERM_BAD_TENSOR, where + 32, count, bytes);
  const off = load<u32>(r + 28);
  if ((off & 3) != 0) return S.fail(S.ERM_BAD_OFFSET, where + 28, 0, off & 3);
  let ptr: usize = 0;
  if (kind == KIND_CONSTANT) {
    if (<u64>off + <u64>bytes > <u64>view.wgtsBytes) return S.fail(S.ERM_BAD_OFFSET, where + 28, view.wgtsBytes, <i64>off + bytes);
    ptr = view.wgts + off;
  } else {
    if (<u64>off + <u64>bytes > <u64>view.arenaBytes) return S.fail(S.ERM_BAD_OFFSET, where + 28, view.arenaBytes, <i64>off + bytes);
    ptr = arenaPtr + off;
  }
  store<usize>(dataPtrs + (<usize>t << alignof<usize>()), ptr);
  return S.OK;
}
