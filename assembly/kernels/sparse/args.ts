import { AddParams, shiftAt } from "../args";

/**
 * FULLY_CONNECTED_SPARSE and CONV_2D_SPARSE (1x1): for every output pixel (oy, ox) and output
 * channel o, out = requant(sum over the stored weights w[o][k] of (x[k] + inputOffset) * w[o][k]
 * + bias[o]), with x the pixel's K input channels at input + oy*rowStride + ox*colStride.
 * FULLY_CONNECTED: outH = batches, outW = 1, rowStride = K. The weights are the blob of
 * host/format/sparse-weights.ts (checked by prepare): N/R row groups, `counts` u16 blocks per
 * group, `steps` u8 column steps (column = running sum, in blocks of C inputs), `values` int8
 * [blocks][R][C].
 */
@unmanaged export class SparseArgs {
  input: usize = 0;
  outH: i32 = 1;
  outW: i32 = 1;
  rowStride: i32 = 0; // input bytes between output rows
  colStride: i32 = 0; // input bytes between output columns
  K: i32 = 0; // input channels (depth)
  N: i32 = 0; // output channels
  counts: usize = 0;
  steps: usize = 0;
  values: usize = 0;
  R: i32 = 1;
  C: i32 = 1;
  blocks: i32 = 0;
  bias: usize = 0;
  mult: usize = 0;
  shift: usize = 0;
  multStride: i32 = 4;
  inputOffset: i32 = 0;
  outputOffset: i32 = 0;
  actMin: i32 = -128;
  actMax: i32 = 127;
  output: usize = 0;
  /** Fused ADD (CONV_2D_SPARSE only): 0 = none; residual may alias output. */
  residual: usize = 0;
  add: AddParams | null = null;
  /** SIMD build: 4x8 chunk packing made at load (0 = run the scalar kernel on the blob). */
  packed: usize = 0;
  /** SIMD build: qs8_spmm_8x4__simd's plan (spmm-plan.ts), made at load for many-pixel layers (0 = none). */
  spmm: usize = 0;
  /**
   * The blob's encoding: 0 blocks (above), 1 bitmap (steps = the [N][ceil(K/8)] bitmap, values =
   * the nonzeros), 2 coded (values = the dense [N][K] matrix it was decoded to at check); 1 and 2
   * are only expanded at load, never run.
   */
  kind: i32 = 0;
}

// The per-channel requantization words (multStride 0: one for all channels). Every sparse
// kernel reads them through these two, so their storage is described in one place.
// @ts-ignore: decorator
@inline export function channelMult(a: SparseArgs, o: i32): i32 {
  return load<i32>(a.mult + <usize>(o * a.multStride));
}
// @ts-ignore: decorator
@inline export function channelShift(a: SparseArgs, o: i32): i32 {
  return shiftAt(a.shift, o, a.multStride);
}
