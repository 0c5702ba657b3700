import { rtAlloc } from "../../graph/alloc";
import { ConvArgs } from "../args";
import { RQ_GROUP_BYTES, addFastSetupI32x4, addRowI8, packRequantGroup, requantizeI32x4, storeLanes8 } from "../common/fused-add";
import { transformFilter } from "./winograd";

// SIMD Winograd F(2x2, 3x3) (see winograd.ts for the transforms). At load, U of every output
// channel is packed per block of 8 channels as [p][ic pair][8 channels x 2] i16 after the block's
// requantization constants, followed by the transformed-input row buffer and a sum stash (all in
// a.packed, so the op needs no arena scratch of its own). Per row of tiles the inputs are
// transformed once, 8 input channels per vector (V [p][tile][ic] i16); then per block of
// 8 channels and 4 tiles, each of the 16 positions is the direct kernel's 4 x 8 register tile
// with K = inC (i32x4.dot_i16x8_s on a broadcast V pair), its sums go to the stash, and the output
// transform, bias and requantization finish the 4 x 2 x 2 pixels. A fused ADD runs as a vector
// pass (addRowI8) over each pair of output rows, from a stash of their conv values.

const HEADER_BYTES: i32 = 2 * RQ_GROUP_BYTES;
const STASH_BYTES: i32 = 16 * 4 * 32; // M [p][4 tiles][8 channels] i32

// @ts-ignore: decorator
@inline function blockBytes(a: ConvArgs): i32 {
  return HEADER_BYTES + 16 * a.inC * 16;
}
// @ts-ignore: decorator
@inline function tileSlots(a: ConvArgs): i32 {
  return (((a.outW + 1) >> 1) + 3) & ~3;
}
// @ts-ignore: decorator
@inline function rowBuffer(a: ConvArgs): usize {
  return a.packed + <usize>(((a.outC + 7) >> 3) * blockBytes(a));
}

/** Packs U and the requantization constants, allocates the row buffer and stash (SIMD build, at load). */
export function conv2dPackWinograd(a: ConvArgs): void {
  const blocks = (a.outC + 7) >> 3, bb = blockBytes(a);
  // + the conv values of 2 output rows before a fused ADD (addRowI8)
  a.packed = rtAlloc(<usize>(blocks * bb + 16 * tileSlots(a) * a.inC * 2 + STASH_BYTES +
    (a.residual != 0 ? 2 * a.outW * a.outC : 0)));
  if (a.packed == 0) return; // out of memory: run falls back to the MVP kernels
  const ps = <usize>(a.inC * 16);
  for (let b = 0; b < blocks; b++) {
    const o0 = b * 8, n = min(8, a.outC - o0);
    const dst = a.packed + <usize>(b * bb);
    packRequantGroup(dst, a.bias, a.mult, a.shift, a.multStride, o0, min(4, n));
    packRequantGroup(dst + RQ_GROUP_BYTES, a.bias, a.mult, a.shift, a.multStride, o0 + 4, n - 4);
    const u = dst + <usize>HEADER_BYTES;
    for (let j = 0; j < n; j++) {
      for (let ic = 0; ic < a.inC; ic++) {
        // element (p, pair ic >> 1, channel j, half ic & 1)
        transformFilter(a, o0 + j, ic, u + <usize>((ic >> 1) * 32 + j * 4 + (ic & 1) * 2), ps);
      }
    }
  }
}

/**
 * qs8_conv2d_wino2x2_4x8__simd: CONV_2D int8 as qs8_conv2d__ref for 3x3 stride 1 dilation 1
 * (isWinograd3x3), any padding, NHWC/OHWI; 4 tiles (2x2 pixels each) x 8 channels.
 * Preconditions: a.packed from conv2dPackWinograd.
 */
export function qs8_conv2d_wino2x2_4x8__simd(a: ConvArgs): void {
  const tilesY = (a.outH + 1) >> 1, tilesX = (a.outW + 1) >> 1, slots = tileSlots(a);
  const vrow = rowBuffer(a);
  const stash = vrow + <usize>(16 * slots * a.inC * 2);
  const bb = <usize>blockBytes(a);
  const fast = addFastSetupI32x4(a.residual, a.add);
  const rowBytes = <usize>(a.outW * a.outC);
  const addStash = stash + <usize>STASH_BYTES;
  for (let ty = 0; ty < tilesY; ty++) {
    const at = <usize>(2 * ty) * rowBytes;
    const out = a.residual != 0 ? addStash : a.output + at;
    for (let tx = 0; tx < tilesX; tx++) transformInputTile(a, ty, tx, vrow, slots);
    let pb = a.packed;
    for (let o0 = 0; o0 < a.outC; o0 += 8) {
      for (let t0 = 0; t0 < tilesX; t0 += 4) {
        const u = pb + <usize>HEADER_BYTES;
        for (let p = 0; p < 16; p++) {
          mac4x8(u + <usize>(p * a.inC * 16), vrow + <usize>(((p * slots + t0) * a.inC) << 1), a.inC, stash + <usize>(p * 128));
        }
        const tn = min(4, tilesX - t0);
        for (let t = 0; t < tn; t++) finishTile(a, stash + <usize>(t * 32), pb, ty, t0 + t, o0, out, 2 * ty);
      }
      pb += bb;
    }
    if (a.residual != 0) {
      const n = <i32>rowBytes * min(2, a.outH - 2 * ty);
      addRowI8(a.output + at, addStash, a.residual + at, n, a.add, fast);
    }
  }
}

/** V = B^T d B of tile (ty, tx), all input channels, to vrow + ((p * slots + tx) * inC + ic) * 2. */
function transformInputTile(a: ConvArgs, ty: i32, tx: i32, vrow: usize, slots: i32): void {
  const inC = a.inC;
  const iy0 = 2 * ty - a.padTop, ix0 = 2 * tx - a.padLeft;
  const offv = i16x8.splat(<i16>a.inputOffset);
  const zero = i16x8.splat(0);
  // Rows/columns outside the image read pixel 0 and are masked to 0 (bit r / bit c set: outside).
  let rows = 0, cols = 0;
  for (let k = 0; k < 4; k++) {
    if (iy0 + k < 0 || iy0 + k >= a.inH) rows |= 1 << k;
    if (ix0 + k < 0 || ix0 + k >= a.inW) cols |= 1 << k;
  }
  const ps = <usize>(slots * inC * 2);
  let dst = vrow + <usize>((tx * inC) << 1);
  for (let ic = 0; ic < inC; ic += 8) {
    const d00 = px(a, iy0, ix0, 0, 0, ic, rows, cols, offv, zero), d01 = px(a, iy0, ix0, 0, 1, ic, rows, cols, offv, zero);
    const d02 = px(a, iy0, ix0, 0, 2, ic, rows, cols, offv, zero), d03 = px(a, iy0, ix0, 0, 3, ic, rows, cols, offv, zero);
    const d10 = px(a, iy0, ix0, 1, 0, ic, rows, cols, offv, zero), d11 = px(a, iy0, ix0, 1, 1, ic, rows, cols, offv, zero);
    const d12 = px(a, iy0, ix0, 1, 2, ic, rows, cols, offv, zero), d13 = px(a, iy0, ix0, 1, 3, ic, rows, cols, offv, zero);
    const d20 = px(a, iy0, ix0, 2, 0, ic, rows, cols, offv, zero), d21 = px(a, iy0, ix0, 2, 1, ic, rows, cols, offv, zero);
    const d22 = px(a, iy0, ix0, 2, 2, ic, rows, cols, offv, zero), d23 = px(a, iy0, ix0, 2, 3, ic, rows, cols, offv, zero);
    const d30 = px(a, iy0, ix0, 3, 0, ic, rows, cols, offv, zero), d31 = px(a, iy0, ix0, 3, 1, ic, rows, cols, offv, zero);
    const d32 = px(a, iy0, ix0, 3, 2, ic, rows, cols, offv, zero), d33 = px(a, iy0, ix0, 3, 3, ic, rows, cols, offv, zero);
    // B^T d, then (B^T d) B.
    inputRow(dst, ps, i16x8.sub(d00, d20), i16x8.sub(d01, d21), i16x8.sub(d02, d22), i16x8.sub(d03, d23));
    inputRow(dst + 4 * ps, ps, i16x8.add(d10, d20), i16x8.add(d11, d21), i16x8.add(d12, d22), i16x8.add(d13, d23));
    inputRow(dst + 8 * ps, ps, i16x8.sub(d20, d10), i16x8.sub(d21, d11), i16x8.sub(d22, d12), i16x8.sub(d23, d13));
    inputRow(dst + 12 * ps, ps, i16x8.sub(d10, d30), i16x8.sub(d11, d31), i16x8.sub(d12, d32), i16x8.sub(d13, d33));
    dst += 16;
  }
}

/** Input (iy0 + r, ix0 + c), channels ic..ic+7, plus the offset as i16; 0 outside the image. */
// @ts-ignore: decorator
@inline function px(a: ConvArgs, iy0: i32, ix0: i32, r: i32, c: i32, ic: i32, rows: i32, cols: i32, offv: v128, zero: v128): v128 {
  if (((rows >> r) | (cols >> c)) & 1) return zero;
  return i16x8.add(v128.load8x8_s(a.input + <usize>(((iy0 + r) * a.inW + ix0 + c) * a.inC + ic)), offv);
}

// @ts-ignore: decorator
@inline function inputRow(v: usize, ps: usize, e0: v128, e1: v128, e2: v128, e3: v128): void {
  v128.store(v, i16x8.sub(e0, e2));
  v128.store(v + ps, i16x8.add(e1, e2));
  v128.store(v + 2 * ps, i16x8.sub(e2, e1));
  v128.store(v + 3 * ps, i16x8.sub(e1, e3));
}

/** M[t][0..7] = sum_ic V[t][ic] * U[ic][0..7] for one position, 4 tiles (V stride inC i16), to m. */
function mac4x8(u: usize, v: usize, inC: i32, m: usize): void {
  const ts = <usize>(inC * 2);
  let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const end = v + ts;
  for (let p = v; p < end; p += 4) {
    const w0 = v128.load(u), w1 = v128.load(u, 16);
    let x = v128.load32_splat(p);
    c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x, w0));
    c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x, w1));
    x = v128.load32_splat(p + ts);
    c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x, w0));
    c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x, w1));
    x = v128.load32_splat(p + 2 * ts);
    c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x, w0));
    c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x, w1));
    x = v128.load32_splat(p + 3 * ts);
    c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x, w0));
    c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x, w1));
    u += 32;
  }
  v128.store(m, c00); v128.store(m, c01, 16); v128.store(m, c10, 32); v128.store(m, c11, 48);
  v128.store(m, c20, 64); v128.store(m, c21, 80); v128.store(m, c30, 96); v128.store(m, c31, 112);
}

/**
 * Output transform of one tile (M[p] at m + p * 128, 8 channels), bias, requantization, store
 * at out (pixel (oy, ox) at ((oy - 2 * ty0) * outW + ox) * outC: the output or the ADD stash).
 */
function finishTile(a: ConvArgs, m: usize, pb: usize, ty: i32, tx: i32, o0: i32, out: usize, oyBase: i32): void {
  outputTransform(m, v128.load(pb), yTmp);
  outputTransform(m + 16, v128.load(pb, RQ_GROUP_BYTES), yTmp + 64);
  const outv = i32x4.splat(a.outputOffset), lo = i32x4.splat(a.actMin), hi = i32x4.splat(a.actMax);
  const rq1 = pb + <usize>RQ_GROUP_BYTES;
  const n = min(8, a.outC - o0);
  const oy = 2 * ty, ox = 2 * tx;
  const outPx = <usize>a.outC;
  const index = <usize>(((oy - oyBase) * a.outW + ox) * a.outC + o0);
  const right = ox + 1 < a.outW, below = oy + 1 < a.outH;
  storeLanes8(out, index, requantizeI32x4(v128.load(yTmp), pb, outv, lo, hi),
    requantizeI32x4(v128.load(yTmp, 64), rq1, outv, lo, hi), 0, n, 0, null);
  if (right) {
    storeLanes8(out, index + outPx, requantizeI32x4(v128.load(yTmp, 16), pb, outv, lo, hi),
      requantizeI32x4(v128.load(yTmp, 80), rq1, outv, lo, hi), 0, n, 0, null);
  }
  if (below) {
    const i2 = index + <usize>(a.outW * a.outC);
    storeLanes8(out, i2, requantizeI32x4(v128.load(yTmp, 32), pb, outv, lo, hi),
      requantizeI32x4(v128.load(yTmp, 96), rq1, outv, lo, hi), 0, n, 0, null);
    if (right) {
      storeLanes8(out, i2 + outPx, requantizeI32x4(v128.load(yTmp, 48), pb, outv, lo, hi),
        requantizeI32x4(v128.load(yTmp, 112), rq1, outv, lo, hi), 0, n, 0, null);
    }
  }
}

const yTmp: usize = memory.data(128, 16); // Y of one tile: [h][q] i32x4

/** Y = A^T M A / 4 + bias for 4 channels (M[p] at m + p * 128), pixels q = 2 * dy + dx to y + q * 16. */
// @ts-ignore: decorator
@inline function outputTransform(m: usize, bias: v128, y: usize): void {
  // Row stage: s_r0 = M_r0 + M_r1 + M_r2, s_r1 = M_r1 - M_r2 - M_r3; then the same over r.
  let a1 = v128.load(m, 128), a2 = v128.load(m, 256);
  const s00 = i32x4.add(i32x4.add(v128.load(m), a1), a2), s01 = i32x4.sub(i32x4.sub(a1, a2), v128.load(m, 384));
  a1 = v128.load(m, 640); a2 = v128.load(m, 768);
  const s10 = i32x4.add(i32x4.add(v128.load(m, 512), a1), a2), s11 = i32x4.sub(i32x4.sub(a1, a2), v128.load(m, 896));
  a1 = v128.load(m, 1152); a2 = v128.load(m, 1280);
  const s20 = i32x4.add(i32x4.add(v128.load(m, 1024), a1), a2), s21 = i32x4.sub(i32x4.sub(a1, a2), v128.load(m, 1408));
  a1 = v128.load(m, 1664); a2 = v128.load(m, 1792);
  const s30 = i32x4.add(i32x4.add(v128.load(m, 1536), a1), a2), s31 = i32x4.sub(i32x4.sub(a1, a2), v128.load(m, 1920));
  v128.store(y, i32x4.add(i32x4.shr_s(i32x4.add(i32x4.add(s00, s10), s20), 2), bias));
  v128.store(y, i32x4.add(i32x4.shr_s(i32x4.add(i32x4.add(s01, s11), s21), 2), bias), 16);
  v128.store(y, i32x4.add(i32x4.shr_s(i32x4.sub(i32x4.sub(s10, s20), s30), 2), bias), 32);
  v128.store(y, i32x4.add(i32x4.shr_s(i32x4.sub(i32x4.sub(s11, s21), s31), 2), bias), 48);
}
