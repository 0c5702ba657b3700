import { rtAlloc } from "../../graph/alloc";
import { FcArgs } from "../args";
import { RQ_GROUP_BYTES, packRequantGroup, requantizeI32x4, storeLanes8 } from "../common/fused-add";

// SIMD FULLY_CONNECTED as a GEMM row kernel: one row of K int8 inputs times N packed output
// channels. The K axis runs along the lanes (8 inputs widened to i16 per load),
// i32x4.dot_i16x8_s does 8 MACs per instruction, and 8 channels accumulate side by side so each
// widened input chunk is reused 8 times. The tail chunk is loaded ending at the
// last input (overlapping the previous chunk; the overlap has zero weights), so no byte past the
// row is read. Preconditions: the row's address >= 8 (a row shorter than 8 reads up to 8 - K
// bytes before it, multiplied by zero weights).
//
// Packed layout, per block of 8 channels: [2 requant groups, 192 B][C chunks x 8 channels x
// 8 i16 = 128 B each], C = ceil(K / 8); chunk c covers inputs 8c.. (the last: K-8..).

const BLOCK_HEADER_BYTES: i32 = 2 * RQ_GROUP_BYTES;

// @ts-ignore: decorator
@inline function chunkCount(K: i32): i32 {
  return (K + 7) >> 3;
}

/** Bytes gemmPack writes for K inputs and N channels. */
export function gemmPackedBytes(K: i32, N: i32): i32 {
  return ((N + 7) >> 3) * (BLOCK_HEADER_BYTES + chunkCount(K) * 128);
}

/**
 * Packs filter rows [N][K] (row stride K) with requantization constants and the start value
 * bias[o] + inOffset * sum_k w[o][k], so the kernel multiplies raw inputs (every input is inside:
 * a GEMM row has no padding).
 */
export function gemmPack(dst: usize, filter: usize, K: i32, N: i32, bias: usize, mult: usize, shift: usize,
    multStride: i32, inOffset: i32): void {
  const C = chunkCount(K);
  for (let o0 = 0; o0 < N; o0 += 8) {
    const n = min(8, N - o0);
    packRequantGroup(dst, bias, mult, shift, multStride, o0, min(4, n));
    packRequantGroup(dst + RQ_GROUP_BYTES, bias, mult, shift, multStride, o0 + 4, n - 4);
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += <i32>load<i8>(filter + <usize>((o0 + j) * K + k));
      const start = dst + <usize>((j >> 2) * RQ_GROUP_BYTES + ((j & 3) << 2));
      store<i32>(start, load<i32>(start) + inOffset * sum);
    }
    let pw = dst + BLOCK_HEADER_BYTES;
    for (let c = 0; c < C; c++) {
      const start = c < C - 1 ? c << 3 : K - 8;
      for (let j = 0; j < 8; j++) {
        for (let l = 0; l < 8; l++) {
          const e = start + l;
          let w = 0;
          if (j < n && e >= c << 3 && e < K) w = <i32>load<i8>(filter + <usize>((o0 + j) * K + e));
          store<i16>(pw + <usize>((j << 4) + (l << 1)), w);
        }
      }
      pw += 128;
    }
    dst += BLOCK_HEADER_BYTES + C * 128;
  }
}

// [a, b, c, d] -> [sum(a), sum(b), sum(c), sum(d)]
// @ts-ignore: decorator
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 2, 6), v128.shuffle<i32>(a, b, 1, 5, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 2, 6), v128.shuffle<i32>(c, d, 1, 5, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

/**
 * qs8_gemm_1x8__simd: out[outIndex + o] = requant(sum_k (x[k] + inOffset) * w[o][k] + bias[o])
 * for o < N from the packed weights (inOffset folded in by gemmPack).
 */
export function qs8_gemm_1x8__simd(x: usize, K: i32, packed: usize, N: i32, output: usize, outIndex: usize,
    outOffset: i32, actMin: i32, actMax: i32): void {
  const C = chunkCount(K);
  const blockBytes = <usize>(BLOCK_HEADER_BYTES + C * 128);
  const outv = i32x4.splat(outOffset), lo = i32x4.splat(actMin), hi = i32x4.splat(actMax);
  const xLast = x + <usize>(K - 8);
  let pb = packed;
  for (let o = 0; o < N; o += 8) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    let pw = pb + <usize>BLOCK_HEADER_BYTES;
    let px = x;
    for (let c = 1; c <= C; c++) {
      const v = v128.load8x8_s(c < C ? px : xLast);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v, v128.load(pw)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v, v128.load(pw, 16)));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v, v128.load(pw, 32)));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v, v128.load(pw, 48)));
      a4 = i32x4.add(a4, i32x4.dot_i16x8_s(v, v128.load(pw, 64)));
      a5 = i32x4.add(a5, i32x4.dot_i16x8_s(v, v128.load(pw, 80)));
      a6 = i32x4.add(a6, i32x4.dot_i16x8_s(v, v128.load(pw, 96)));
      a7 = i32x4.add(a7, i32x4.dot_i16x8_s(v, v128.load(pw, 112)));
      px += 8;
      pw += 128;
    }
    const s0 = i32x4.add(hsum4(a0, a1, a2, a3), v128.load(pb));
    const s1 = i32x4.add(hsum4(a4, a5, a6, a7), v128.load(pb, RQ_GROUP_BYTES));
    const q0 = requantizeI32x4(s0, pb, outv, lo, hi);
    const q1 = requantizeI32x4(s1, pb + <usize>RQ_GROUP_BYTES, outv, lo, hi);
    storeLanes8(output, outIndex + <usize>o, q0, q1, 0, min(8, N - o), 0, null);
    pb += blockBytes;
  }
}

/** Packs the FC weights (SIMD build, at load). */
export function fcPackSimd(a: FcArgs): void {
  a.packed = rtAlloc(<usize>gemmPackedBytes(a.depth, a.outC));
  if (a.packed == 0) return; // out of memory: run falls back to the MVP kernel
  gemmPack(a.packed, a.filter, a.depth, a.outC, a.bias, a.mult, a.shift, a.multStride, a.inputOffset);
}

/**
 * qs8_fc_1x8__simd: FULLY_CONNECTED int8 as qs8_fc__ref, one batch row at a time through
 * qs8_gemm_1x8__simd. Preconditions: a.packed from fcPackSimd; input address >= 8.
 */
export function qs8_fc_1x8__simd(a: FcArgs): void {
  for (let b = 0; b < a.batches; b++) {
    qs8_gemm_1x8__simd(a.input + <usize>(b * a.depth), a.depth, a.packed, a.outC, a.output,
      <usize>(b * a.outC), a.outputOffset, a.actMin, a.actMax);
  }
}
