import { SparseArgs, channelMult, channelShift } from "./args";
import { requantizeScalar, storeOutput } from "../common/fused-add";

// Per-row accumulators and weight sums of one row group (R <= 8): static memory, so the MVP
// build allocates nothing.
const accs: usize = memory.data(64, 16);

// @ts-ignore: decorator
@inline function finish(a: SparseArgs, acc: i32, o: i32, pix: usize): void {
  if (a.bias != 0) acc += load<i32>(a.bias + (<usize>o << 2));
  const q = requantizeScalar(acc, channelMult(a, o), channelShift(a, o), a.outputOffset, a.actMin, a.actMax);
  storeOutput(a.output, pix + <usize>o, q, a.residual, a.add);
}

/**
 * Unstructured (1x1 block) weights of one output channel for two pixels at once (x0, x1): each
 * step and value is decoded once for both; the input offset is folded in after the sum.
 * Writes the two sums to pair[0], pair[1].
 */
// @ts-ignore: decorator
@inline function row1x1(x0: usize, x1: usize, steps: usize, values: usize, n: i32, off: i32): void {
  let acc0 = 0, acc1 = 0, wsum = 0;
  let d: usize = 0; // offset of the current column from the pixel's first input
  for (let j = 0; j < n; j++) {
    d += <usize>load<u8>(steps + <usize>j);
    const w = <i32>load<i8>(values + <usize>j);
    acc0 += <i32>load<i8>(x0 + d) * w;
    acc1 += <i32>load<i8>(x1 + d) * w;
    wsum += w;
  }
  store<i32>(pair, acc0 + off * wsum);
  store<i32>(pair, acc1 + off * wsum, 4);
}

const pair: usize = memory.data(8, 8);

/** One group of 4 output channels (o0..o0+3) of one pixel from 4 x C blocks. */
function group4(a: SparseArgs, x: usize, steps: usize, v: usize, n: i32, o0: i32, pix: usize): void {
  const C = a.C;
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let p = x;
  for (let j = 0; j < n; j++) {
    p += <usize>(<i32>load<u8>(steps + <usize>j) * C);
    const v1 = v + <usize>C, v2 = v1 + <usize>C, v3 = v2 + <usize>C;
    for (let c = 0; c < C; c++) {
      const xv = <i32>load<i8>(p + <usize>c);
      const w0 = <i32>load<i8>(v + <usize>c), w1 = <i32>load<i8>(v1 + <usize>c);
      const w2 = <i32>load<i8>(v2 + <usize>c), w3 = <i32>load<i8>(v3 + <usize>c);
      a0 += xv * w0; a1 += xv * w1; a2 += xv * w2; a3 += xv * w3;
      s0 += w0; s1 += w1; s2 += w2; s3 += w3;
    }
    v += <usize>(C << 2);
  }
  const off = a.inputOffset;
  finish(a, a0 + off * s0, o0, pix);
  finish(a, a1 + off * s1, o0 + 1, pix);
  finish(a, a2 + off * s2, o0 + 2, pix);
  finish(a, a3 + off * s3, o0 + 3, pix);
}

/** All channels of one pixel (pix = output index of channel 0) from R x C blocks. */
function pixelBlocks(a: SparseArgs, x: usize, pix: usize): void {
  const R = a.R, C = a.C, off = a.inputOffset;
  let k = 0;
  for (let g = 0; g < a.N / R; g++) {
    const n = <i32>load<u16>(a.counts + (<usize>g << 1));
    if (R == 4) { // the SIMD-friendly 4 x C blocks: accumulators in locals
      group4(a, x, a.steps + <usize>k, a.values + <usize>(k * 4 * C), n, g << 2, pix);
      k += n;
      continue;
    }
    memory.fill(accs, 0, 64);
    let p = x;
    let v = a.values + <usize>(k * R * C);
    for (let j = 0; j < n; j++) {
      p += <usize>(<i32>load<u8>(a.steps + <usize>(k + j)) * C);
      for (let r = 0; r < R; r++) {
        let acc = 0, wsum = 0;
        for (let c = 0; c < C; c++) {
          const w = <i32>load<i8>(v + <usize>c);
          acc += <i32>load<i8>(p + <usize>c) * w;
          wsum += w;
        }
        const cell = accs + (<usize>r << 3);
        store<i32>(cell, load<i32>(cell) + acc);
        store<i32>(cell, load<i32>(cell, 4) + wsum, 4);
        v += <usize>C;
      }
    }
    for (let r = 0; r < R; r++) {
      const cell = accs + (<usize>r << 3);
      finish(a, load<i32>(cell) + off * load<i32>(cell, 4), g * R + r, pix);
    }
    k += n;
  }
}

/** All channels of two pixels (the same pixel twice for a last odd one: `two` false) from 1x1 blocks. */
function pixelPair1x1(a: SparseArgs, x0: usize, x1: usize, pix0: usize, pix1: usize, two: bool): void {
  let k = 0;
  for (let o = 0; o < a.N; o++) {
    const n = <i32>load<u16>(a.counts + (<usize>o << 1));
    row1x1(x0, x1, a.steps + <usize>k, a.values + <usize>k, n, a.inputOffset);
    finish(a, load<i32>(pair), o, pix0);
    if (two) finish(a, load<i32>(pair, 4), o, pix1);
    k += n;
  }
}

/**
 * qs8_spmm_blk__mvp: as qs8_spmm__ref, scalar for the MVP build and for sparse weights the SIMD
 * build does not pack. Runs on the blob as stored (no scratch, no allocation): unstructured
 * weights two output pixels at a time (each decoded step serves both), R x C blocks one pixel at
 * a time with all R rows of a group in one pass; the input offset is folded in through the
 * weight sums.
 */
export function qs8_spmm_blk__mvp(a: SparseArgs): void {
  const unstructured = a.R == 1 && a.C == 1;
  let oy = 0, ox = 0;
  let pend: usize = 0, pendPix: usize = 0;
  let have = false;
  for (let m = 0; m < a.outH * a.outW; m++) {
    const x = a.input + <usize>(oy * a.rowStride + ox * a.colStride);
    const pix = <usize>(m * a.N);
    if (!unstructured) {
      pixelBlocks(a, x, pix);
    } else if (have) {
      pixelPair1x1(a, pend, x, pendPix, pix, true);
      have = false;
    } else {
      pend = x;
      pendPix = pix;
      have = true;
    }
    if (++ox == a.outW) {
      ox = 0;
      oy++;
    }
  }
  if (have) pixelPair1x1(a, pend, pend, pendPix, pendPix, false);
}
