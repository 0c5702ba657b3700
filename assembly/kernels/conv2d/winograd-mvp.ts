import { ConvArgs, shiftAt } from "../args";
import { addFastSetup, requantizeScalar, storeOutputFused } from "../common/fused-add";
import { finishConv4 } from "../common/finish-scalar";
import { transformFilter, winoMvpUBytes } from "./winograd";

// Scalar Winograd F(2x2, 3x3) for the MVP build (see winograd.ts for the transforms): 16 i32
// multiplies per 2x2 tile and input channel instead of 36. Nothing is allocated: per group of 4
// output channels the transformed filters U go to the op's scratch, then per pair of tiles the
// transformed inputs V, then for each of the 16 positions a 2 tiles x 4 channels register tile
// sums U . V over the input channels into M, and the output transform makes the 2x2 pixels.
// V is recomputed per group: keeping a row of V (or all of U) would need ~8 KiB more arena at
// ResNet-8's memory peak. Measured in V8 on its 32x32x16 conv: 652 -> 566 us, of which the
// multiply loops take ~280 us and the input transforms ~165 us.
// Scratch layout (winoMvpScratchBytes): U [p][ic][j] i16, V [p][ic][t] i16, M[p] over V's slot p.

let addFast: usize = 0;

/**
 * qs8_conv2d_wino2x2_2x4__mvp: CONV_2D int8 as qs8_conv2d__ref for 3x3 stride 1 dilation 1
 * (isWinograd3x3), any padding, NHWC/OHWI; 2 tiles x 4 channels per position.
 * Preconditions: a.scratch holds winoMvpScratchBytes(a).
 */
export function qs8_conv2d_wino2x2_2x4__mvp(a: ConvArgs): void {
  addFast = addFastSetup(a.residual, a.add);
  const inC = a.inC;
  const U = a.scratch, V = U + <usize>winoMvpUBytes(a);
  const tilesY = (a.outH + 1) >> 1, tilesX = (a.outW + 1) >> 1;
  const ups = <usize>(inC * 8), vps = <usize>(inC * 4);
  for (let oc0 = 0; oc0 < a.outC; oc0 += 4) {
    const n = min(4, a.outC - oc0);
    for (let j = 0; j < 4; j++) {
      for (let ic = 0; ic < inC; ic++) {
        const dst = U + <usize>((ic * 4 + j) * 2);
        if (j < n) transformFilter(a, oc0 + j, ic, dst, ups);
        else for (let p = 0; p < 16; p++) store<i16>(dst + <usize>p * ups, 0);
      }
    }
    for (let ty = 0; ty < tilesY; ty++) {
      for (let tx = 0; tx < tilesX; tx += 2) {
        transformInputTile(a, ty, tx, V, vps);
        if (tx + 1 < tilesX) transformInputTile(a, ty, tx + 1, V + 2, vps);
        for (let p = 0; p < 16; p++) mac2x4(U + <usize>p * ups, V + <usize>p * vps, inC);
        finishTile(a, V, vps, ty, tx, oc0, n);
        if (tx + 1 < tilesX) finishTile(a, V + 16, vps, ty, tx + 1, oc0, n);
      }
    }
  }
}

/** V = B^T d B of tile (ty, tx) for all input channels, stored at v + ic * 4 + p * ps (i16). */
function transformInputTile(a: ConvArgs, ty: i32, tx: i32, v: usize, ps: usize): void {
  const inC = a.inC, off = a.inputOffset;
  const iy0 = 2 * ty - a.padTop, ix0 = 2 * tx - a.padLeft;
  const cs = <usize>inC, rs = <usize>(a.inW * inC);
  if (iy0 >= 0 && iy0 + 4 <= a.inH && ix0 >= 0 && ix0 + 4 <= a.inW) {
    // Inside the image the offset adds 4 * off to V[1][1] only (B^T 1 = (0, 2, 0, 0)).
    const q0 = a.input + <usize>((iy0 * a.inW + ix0) * inC), end = q0 + cs;
    const off4 = 4 * off;
    let w = v;
    for (let q = q0; q < end; q++) {
      const r1 = q + rs, r2 = r1 + rs, r3 = r2 + rs;
      inputTransform(w, ps, off4,
        <i32>load<i8>(q), <i32>load<i8>(q + cs), <i32>load<i8>(q + 2 * cs), <i32>load<i8>(q + 3 * cs),
        <i32>load<i8>(r1), <i32>load<i8>(r1 + cs), <i32>load<i8>(r1 + 2 * cs), <i32>load<i8>(r1 + 3 * cs),
        <i32>load<i8>(r2), <i32>load<i8>(r2 + cs), <i32>load<i8>(r2 + 2 * cs), <i32>load<i8>(r2 + 3 * cs),
        <i32>load<i8>(r3), <i32>load<i8>(r3 + cs), <i32>load<i8>(r3 + 2 * cs), <i32>load<i8>(r3 + 3 * cs));
      w += 4;
    }
    return;
  }
  // Border tile: taps outside the image read a clamped pixel and are replaced by 0.
  const y0 = clampTap(iy0, a.inH), y1 = clampTap(iy0 + 1, a.inH), y2 = clampTap(iy0 + 2, a.inH), y3 = clampTap(iy0 + 3, a.inH);
  const x0 = clampTap(ix0, a.inW), x1 = clampTap(ix0 + 1, a.inW), x2 = clampTap(ix0 + 2, a.inW), x3 = clampTap(ix0 + 3, a.inW);
  const vy = ((y0 >> 31) & 1) | ((y1 >> 31) & 2) | ((y2 >> 31) & 4) | ((y3 >> 31) & 8); // bit set: row outside
  const vx = ((x0 >> 31) & 1) | ((x1 >> 31) & 2) | ((x2 >> 31) & 4) | ((x3 >> 31) & 8);
  const r0 = a.input + <usize>((y0 & 0x7fffffff) * a.inW * inC), r1 = a.input + <usize>((y1 & 0x7fffffff) * a.inW * inC);
  const r2 = a.input + <usize>((y2 & 0x7fffffff) * a.inW * inC), r3 = a.input + <usize>((y3 & 0x7fffffff) * a.inW * inC);
  const c0 = <usize>((x0 & 0x7fffffff) * inC), c1 = <usize>((x1 & 0x7fffffff) * inC);
  const c2 = <usize>((x2 & 0x7fffffff) * inC), c3 = <usize>((x3 & 0x7fffffff) * inC);
  for (let ic = 0; ic < inC; ic++) {
    const i = <usize>ic;
    inputTransform(v + <usize>(ic * 4), ps, 0,
      tap(r0 + c0 + i, off, vy, vx, 1, 1), tap(r0 + c1 + i, off, vy, vx, 1, 2), tap(r0 + c2 + i, off, vy, vx, 1, 4), tap(r0 + c3 + i, off, vy, vx, 1, 8),
      tap(r1 + c0 + i, off, vy, vx, 2, 1), tap(r1 + c1 + i, off, vy, vx, 2, 2), tap(r1 + c2 + i, off, vy, vx, 2, 4), tap(r1 + c3 + i, off, vy, vx, 2, 8),
      tap(r2 + c0 + i, off, vy, vx, 4, 1), tap(r2 + c1 + i, off, vy, vx, 4, 2), tap(r2 + c2 + i, off, vy, vx, 4, 4), tap(r2 + c3 + i, off, vy, vx, 4, 8),
      tap(r3 + c0 + i, off, vy, vx, 8, 1), tap(r3 + c1 + i, off, vy, vx, 8, 2), tap(r3 + c2 + i, off, vy, vx, 8, 4), tap(r3 + c3 + i, off, vy, vx, 8, 8));
  }
}

/** Coordinate c if inside 0..size-1, else a valid coordinate with the sign bit set (outside). */
// @ts-ignore: decorator
@inline function clampTap(c: i32, size: i32): i32 {
  return c < 0 ? i32.MIN_VALUE : c >= size ? (size - 1) | i32.MIN_VALUE : c;
}

// @ts-ignore: decorator
@inline function tap(p: usize, off: i32, vy: i32, vx: i32, by: i32, bx: i32): i32 {
  return select<i32>(0, <i32>load<i8>(p) + off, ((vy & by) | (vx & bx)) != 0);
}

// @ts-ignore: decorator
@inline function inputTransform(v: usize, ps: usize, off11: i32,
    d00: i32, d01: i32, d02: i32, d03: i32, d10: i32, d11: i32, d12: i32, d13: i32,
    d20: i32, d21: i32, d22: i32, d23: i32, d30: i32, d31: i32, d32: i32, d33: i32): void {
  // B^T d (rows), then (B^T d) B (columns).
  const e00 = d00 - d20, e01 = d01 - d21, e02 = d02 - d22, e03 = d03 - d23;
  const e10 = d10 + d20, e11 = d11 + d21, e12 = d12 + d22, e13 = d13 + d23;
  const e20 = d20 - d10, e21 = d21 - d11, e22 = d22 - d12, e23 = d23 - d13;
  const e30 = d10 - d30, e31 = d11 - d31, e32 = d12 - d32, e33 = d13 - d33;
  inputRow(v, ps, e00, e01, e02, e03, 0);
  inputRow(v + 4 * ps, ps, e10, e11, e12, e13, off11);
  inputRow(v + 8 * ps, ps, e20, e21, e22, e23, 0);
  inputRow(v + 12 * ps, ps, e30, e31, e32, e33, 0);
}

// @ts-ignore: decorator
@inline function inputRow(v: usize, ps: usize, e0: i32, e1: i32, e2: i32, e3: i32, add1: i32): void {
  store<i16>(v, e0 - e2);
  store<i16>(v + ps, e1 + e2 + add1);
  store<i16>(v + 2 * ps, e2 - e1);
  store<i16>(v + 3 * ps, e1 - e3);
}

/** M[t][j] = sum_ic V[ic][t] * U[ic][j] for one position (2 tiles x 4 channels), stored (i32) over V's slot at v. */
function mac2x4(u: usize, v: usize, inC: i32): void {
  let m00 = 0, m01 = 0, m02 = 0, m03 = 0, m10 = 0, m11 = 0, m12 = 0, m13 = 0;
  let x0 = 0, x1 = 0, w = 0;
  const end = v + <usize>(inC * 4);
  for (let p = v; p < end; p += 8) {
    x0 = <i32>load<i16>(p, 0); x1 = <i32>load<i16>(p, 2);
    w = <i32>load<i16>(u, 0); m00 += x0 * w; m10 += x1 * w;
    w = <i32>load<i16>(u, 2); m01 += x0 * w; m11 += x1 * w;
    w = <i32>load<i16>(u, 4); m02 += x0 * w; m12 += x1 * w;
    w = <i32>load<i16>(u, 6); m03 += x0 * w; m13 += x1 * w;
    x0 = <i32>load<i16>(p, 4); x1 = <i32>load<i16>(p, 6);
    w = <i32>load<i16>(u, 8); m00 += x0 * w; m10 += x1 * w;
    w = <i32>load<i16>(u, 10); m01 += x0 * w; m11 += x1 * w;
    w = <i32>load<i16>(u, 12); m02 += x0 * w; m12 += x1 * w;
    w = <i32>load<i16>(u, 14); m03 += x0 * w; m13 += x1 * w;
    u += 16;
  }
  store<i32>(v, m00); store<i32>(v, m01, 4); store<i32>(v, m02, 8); store<i32>(v, m03, 12);
  store<i32>(v, m10, 16); store<i32>(v, m11, 20); store<i32>(v, m12, 24); store<i32>(v, m13, 28);
}

/**
 * Output transform of one tile (M[p][j] at m + p * ps + j * 4, m = V + 16 * t): Y = A^T M A per channel, written
 * back over M[q][j] for pixel q = 2 * dy + dx, then requantized and stored.
 */
function finishTile(a: ConvArgs, m: usize, ps: usize, ty: i32, tx: i32, oc0: i32, n: i32): void {
  for (let j = 0; j < n; j++) {
    const p = m + (<usize>j << 2);
    const s00 = load<i32>(p) + load<i32>(p + ps) + load<i32>(p + 2 * ps);
    const s01 = load<i32>(p + ps) - load<i32>(p + 2 * ps) - load<i32>(p + 3 * ps);
    const s10 = load<i32>(p + 4 * ps) + load<i32>(p + 5 * ps) + load<i32>(p + 6 * ps);
    const s11 = load<i32>(p + 5 * ps) - load<i32>(p + 6 * ps) - load<i32>(p + 7 * ps);
    const s20 = load<i32>(p + 8 * ps) + load<i32>(p + 9 * ps) + load<i32>(p + 10 * ps);
    const s21 = load<i32>(p + 9 * ps) - load<i32>(p + 10 * ps) - load<i32>(p + 11 * ps);
    const s30 = load<i32>(p + 12 * ps) + load<i32>(p + 13 * ps) + load<i32>(p + 14 * ps);
    const s31 = load<i32>(p + 13 * ps) - load<i32>(p + 14 * ps) - load<i32>(p + 15 * ps);
    const b = a.bias != 0 ? load<i32>(a.bias + (<usize>(oc0 + j) << 2)) : 0;
    store<i32>(p, ((s00 + s10 + s20) >> 2) + b);
    store<i32>(p + ps, ((s01 + s11 + s21) >> 2) + b);
    store<i32>(p + 2 * ps, ((s10 - s20 - s30) >> 2) + b);
    store<i32>(p + 3 * ps, ((s11 - s21 - s31) >> 2) + b);
  }
  for (let q = 0; q < 4; q++) {
    const oy = 2 * ty + (q >> 1), ox = 2 * tx + (q & 1);
    if (oy >= a.outH || ox >= a.outW) continue;
    const p = m + <usize>q * ps;
    const index = <usize>((oy * a.outW + ox) * a.outC + oc0);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const pj = p + (<usize>j << 2);
      finishConv4(a, index + <usize>j, oc0 + j, load<i32>(pj), load<i32>(pj, 4), load<i32>(pj, 8), load<i32>(pj, 12), addFast);
    }
    for (; j < n; j++) {
      const oc = oc0 + j;
      const r = requantizeScalar(load<i32>(p + (<usize>j << 2)), load<i32>(a.mult + <usize>(oc * a.multStride)),
        shiftAt(a.shift, oc, a.multStride), a.outputOffset, a.actMin, a.actMax);
      storeOutputFused(a.output, index + <usize>j, r, a.residual, a.add, addFast);
    }
  }
}
