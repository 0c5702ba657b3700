import { ConvArgs, shiftAt } from "../args";
import { addFastSetup, requantizeScalar, storeOutputFused } from "../common/fused-add";
import { finishConv4 } from "../common/finish-scalar";

// Scalar CONV_2D for the MVP build (WASM3 on microcontrollers) where qs8_conv2d_3x4_i64__mvp
// (three products per i64 multiply, mvp-i64.ts) cannot pack its inputs: unpadded 1x1 convs,
// which plan no scratch, and scratch too small for one filter row. No scratch, no allocation,
// reads the OHWI filter as is; plain i32 arithmetic in the MAC loops.
//
// Pass 1 runs the border pixels one at a time (window clipped once per pixel, inputs plus the
// offset, all channels). Pass 2 runs the pixels whose window lies inside the image with the
// channels in groups of 4 outermost, so a group's start values stay in locals: they multiply
// the raw inputs and start from bias + inputOffset * sum_k w (the offset folded in once per group
// and call: K loads per channel, no scratch), which saves an add per input load. Inside pixels
// are tiled 4 along x (4 inputs + 4 weights per 16 MACs, k unrolled by 8 with immediate offsets).
// Epilogues are out of line (common/finish-scalar.ts).
// Taps are walked as "runs": with dilW == 1 the kw taps of one filter row are contiguous in both
// input (NHWC) and filter (OHWI), so a row is one run of kW*inC elements; with dilation each tap
// is a run of inC elements.

// Constants of this call's fused ADD (addFastSetup), read by finish().
let addFast: usize = 0;

// @ts-ignore: decorator
@inline function finish(a: ConvArgs, acc: i32, oc: i32, index: usize): void {
  const q = requantizeScalar(acc, load<i32>(a.mult + <usize>(oc * a.multStride)),
    shiftAt(a.shift, oc, a.multStride), a.outputOffset, a.actMin, a.actMax);
  storeOutputFused(a.output, index, q, a.residual, a.add, addFast);
}

// @ts-ignore: decorator
@inline function finish4(a: ConvArgs, index: usize, oc: i32, a0: i32, a1: i32, a2: i32, a3: i32): void {
  finishConv4(a, index, oc, a0, a1, a2, a3, addFast);
}

// @ts-ignore: decorator
@inline function biasOf(a: ConvArgs, oc: i32): i32 {
  return a.bias != 0 ? load<i32>(a.bias + (<usize>oc << 2)) : 0;
}

/** bias[oc] + inputOffset * sum_k w[oc][k]: the start value of an interior pixel. */
function foldedStart(a: ConvArgs, oc: i32, K: i32): i32 {
  const w = a.filter + <usize>(oc * K);
  let s = 0;
  for (let k = 0; k < K; k++) s += <i32>load<i8>(w + <usize>k);
  return biasOf(a, oc) + a.inputOffset * s;
}

/**
 * qs8_conv2d_4x4__mvp: CONV_2D int8 as qs8_conv2d__ref, register-tiled 4 output pixels x 4
 * output channels inside the image (1 x 4 for the last columns), 1 x 4 on the borders, single
 * channels for the last outC % 4. Layouts as the reference. Preconditions: those of the reference; no scratch.
 */
export function qs8_conv2d_4x4__mvp(a: ConvArgs): void {
  addFast = addFastSetup(a.residual, a.add);
  const K = a.kH * a.kW * a.inC;
  // Columns whose kw taps are all inside the image, rows likewise.
  let oxLo = 0;
  while (oxLo < a.outW && oxLo * a.strideW - a.padLeft < 0) oxLo++;
  let oxHi = a.outW;
  while (oxHi > oxLo && (oxHi - 1) * a.strideW - a.padLeft + (a.kW - 1) * a.dilW >= a.inW) oxHi--;
  let oyLo = 0;
  while (oyLo < a.outH && oyLo * a.strideH - a.padTop < 0) oyLo++;
  let oyHi = a.outH;
  while (oyHi > oyLo && (oyHi - 1) * a.strideH - a.padTop + (a.kH - 1) * a.dilH >= a.inH) oyHi--;
  // Pass 1: border pixels, one at a time with their window clipped once, all channels.
  for (let oy = 0; oy < a.outH; oy++) {
    const rowInside = oy >= oyLo && oy < oyHi;
    for (let ox = 0; ox < a.outW; ox++) {
      if (!rowInside || ox < oxLo || ox >= oxHi) convPixelClipped(a, oy, ox, K);
    }
  }
  // Pass 2: inside pixels, channel groups outermost (folded starts), 4 pixels at a time.
  const oc4 = a.outC & ~3;
  for (let oc = 0; oc < oc4; oc += 4) {
    const f0 = foldedStart(a, oc, K), f1 = foldedStart(a, oc + 1, K);
    const f2 = foldedStart(a, oc + 2, K), f3 = foldedStart(a, oc + 3, K);
    for (let oy = oyLo; oy < oyHi; oy++) {
      let ox = oxLo;
      for (; ox + 4 <= oxHi; ox += 4) conv4x4Inside(a, oy, ox, oc, K, f0, f1, f2, f3);
      for (; ox < oxHi; ox++) conv1x4Inside(a, oy, ox, oc, K, f0, f1, f2, f3);
    }
  }
  for (let oc = oc4; oc < a.outC; oc++) {
    for (let oy = oyLo; oy < oyHi; oy++) {
      for (let ox = oxLo; ox < oxHi; ox++) convChannel(a, oy, ox, oc);
    }
  }
}

/** Pixels (oy, ox..ox+3) x channels oc..oc+3, all taps inside the image: raw inputs, folded starts. */
function conv4x4Inside(a: ConvArgs, oy: i32, ox: i32, oc: i32, K: i32, f0: i32, f1: i32, f2: i32, f3: i32): void {
  const inC = a.inC;
  const merged = a.dilW == 1;
  const runs = merged ? 1 : a.kW;
  const runLen = merged ? a.kW * inC : inC;
  const inRunStep = <usize>(a.dilW * inC);
  const pxStep = <usize>(a.strideW * inC);
  let a00 = f0, a01 = f1, a02 = f2, a03 = f3, a10 = f0, a11 = f1, a12 = f2, a13 = f3;
  let a20 = f0, a21 = f1, a22 = f2, a23 = f3, a30 = f0, a31 = f1, a32 = f2, a33 = f3;
  let w0 = a.filter + <usize>(oc * K);
  for (let kh = 0; kh < a.kH; kh++) {
    const iy = oy * a.strideH - a.padTop + kh * a.dilH;
    let p0 = a.input + <usize>((iy * a.inW + ox * a.strideW - a.padLeft) * inC);
    for (let r = 0; r < runs; r++) {
      const p1 = p0 + pxStep, p2 = p1 + pxStep, p3 = p2 + pxStep;
      const w1 = w0 + <usize>K, w2 = w1 + <usize>K, w3 = w2 + <usize>K;
      let i = 0;
      let x0 = 0, x1 = 0, x2 = 0, x3 = 0, v = 0;
      for (; i + 8 <= runLen; i += 8) {
        const j = <usize>i;
        const q0 = p0 + j, q1 = p1 + j, q2 = p2 + j, q3 = p3 + j;
        const v0 = w0 + j, v1 = w1 + j, v2 = w2 + j, v3 = w3 + j;
        x0 = <i32>load<i8>(q0, 0); x1 = <i32>load<i8>(q1, 0); x2 = <i32>load<i8>(q2, 0); x3 = <i32>load<i8>(q3, 0);
        v = <i32>load<i8>(v0, 0); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 0); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 0); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 0); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
        x0 = <i32>load<i8>(q0, 1); x1 = <i32>load<i8>(q1, 1); x2 = <i32>load<i8>(q2, 1); x3 = <i32>load<i8>(q3, 1);
        v = <i32>load<i8>(v0, 1); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 1); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 1); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 1); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
        x0 = <i32>load<i8>(q0, 2); x1 = <i32>load<i8>(q1, 2); x2 = <i32>load<i8>(q2, 2); x3 = <i32>load<i8>(q3, 2);
        v = <i32>load<i8>(v0, 2); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 2); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 2); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 2); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
        x0 = <i32>load<i8>(q0, 3); x1 = <i32>load<i8>(q1, 3); x2 = <i32>load<i8>(q2, 3); x3 = <i32>load<i8>(q3, 3);
        v = <i32>load<i8>(v0, 3); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 3); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 3); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 3); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
        x0 = <i32>load<i8>(q0, 4); x1 = <i32>load<i8>(q1, 4); x2 = <i32>load<i8>(q2, 4); x3 = <i32>load<i8>(q3, 4);
        v = <i32>load<i8>(v0, 4); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 4); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 4); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 4); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
        x0 = <i32>load<i8>(q0, 5); x1 = <i32>load<i8>(q1, 5); x2 = <i32>load<i8>(q2, 5); x3 = <i32>load<i8>(q3, 5);
        v = <i32>load<i8>(v0, 5); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 5); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 5); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 5); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
        x0 = <i32>load<i8>(q0, 6); x1 = <i32>load<i8>(q1, 6); x2 = <i32>load<i8>(q2, 6); x3 = <i32>load<i8>(q3, 6);
        v = <i32>load<i8>(v0, 6); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 6); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 6); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 6); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
        x0 = <i32>load<i8>(q0, 7); x1 = <i32>load<i8>(q1, 7); x2 = <i32>load<i8>(q2, 7); x3 = <i32>load<i8>(q3, 7);
        v = <i32>load<i8>(v0, 7); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 7); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 7); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 7); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
      }
      for (; i < runLen; i++) {
        const j = <usize>i;
        const q0 = p0 + j, q1 = p1 + j, q2 = p2 + j, q3 = p3 + j;
        const v0 = w0 + j, v1 = w1 + j, v2 = w2 + j, v3 = w3 + j;
        x0 = <i32>load<i8>(q0, 0); x1 = <i32>load<i8>(q1, 0); x2 = <i32>load<i8>(q2, 0); x3 = <i32>load<i8>(q3, 0);
        v = <i32>load<i8>(v0, 0); a00 += x0 * v; a10 += x1 * v; a20 += x2 * v; a30 += x3 * v;
        v = <i32>load<i8>(v1, 0); a01 += x0 * v; a11 += x1 * v; a21 += x2 * v; a31 += x3 * v;
        v = <i32>load<i8>(v2, 0); a02 += x0 * v; a12 += x1 * v; a22 += x2 * v; a32 += x3 * v;
        v = <i32>load<i8>(v3, 0); a03 += x0 * v; a13 += x1 * v; a23 += x2 * v; a33 += x3 * v;
      }
      p0 += inRunStep;
      w0 += <usize>runLen;
    }
  }
  const o0 = <usize>((oy * a.outW + ox) * a.outC + oc), step = <usize>a.outC;
  finish4(a, o0, oc, a00, a01, a02, a03);
  finish4(a, o0 + step, oc, a10, a11, a12, a13);
  finish4(a, o0 + 2 * step, oc, a20, a21, a22, a23);
  finish4(a, o0 + 3 * step, oc, a30, a31, a32, a33);
}

/** Pixel (oy, ox) x channels oc..oc+3, all taps inside the image: raw inputs from the folded starts. */
function conv1x4Inside(a: ConvArgs, oy: i32, ox: i32, oc: i32, K: i32, f0: i32, f1: i32, f2: i32, f3: i32): void {
  const inC = a.inC;
  const merged = a.dilW == 1;
  const runs = merged ? 1 : a.kW;
  const runLen = merged ? a.kW * inC : inC;
  const inRunStep = <usize>(a.dilW * inC);
  let a0 = f0, a1 = f1, a2 = f2, a3 = f3;
  let w0 = a.filter + <usize>(oc * K);
  for (let kh = 0; kh < a.kH; kh++) {
    let p = a.input + <usize>(((oy * a.strideH - a.padTop + kh * a.dilH) * a.inW + ox * a.strideW - a.padLeft) * inC);
    for (let r = 0; r < runs; r++) {
      const w1 = w0 + <usize>K, w2 = w1 + <usize>K, w3 = w2 + <usize>K;
      for (let i = 0; i < runLen; i++) {
        const j = <usize>i;
        const x = <i32>load<i8>(p + j);
        a0 += x * <i32>load<i8>(w0 + j); a1 += x * <i32>load<i8>(w1 + j);
        a2 += x * <i32>load<i8>(w2 + j); a3 += x * <i32>load<i8>(w3 + j);
      }
      p += inRunStep;
      w0 += <usize>runLen;
    }
  }
  finish4(a, <usize>((oy * a.outW + ox) * a.outC + oc), oc, a0, a1, a2, a3);
}

/** Border pixel (oy, ox), all channels: taps clipped to the image, inputs plus the offset. */
function convPixelClipped(a: ConvArgs, oy: i32, ox: i32, K: i32): void {
  const inC = a.inC, off = a.inputOffset;
  const iy0 = oy * a.strideH - a.padTop, ix0 = ox * a.strideW - a.padLeft;
  let kh0 = 0;
  while (kh0 < a.kH && iy0 + kh0 * a.dilH < 0) kh0++;
  let kh1 = a.kH;
  while (kh1 > kh0 && iy0 + (kh1 - 1) * a.dilH >= a.inH) kh1--;
  let kw0 = 0;
  while (kw0 < a.kW && ix0 + kw0 * a.dilW < 0) kw0++;
  let kw1 = a.kW;
  while (kw1 > kw0 && ix0 + (kw1 - 1) * a.dilW >= a.inW) kw1--;
  const merged = a.dilW == 1;
  const runs = merged ? (kw1 > kw0 ? 1 : 0) : kw1 - kw0;
  const runLen = merged ? (kw1 - kw0) * inC : inC;
  const inRunStep = <usize>(a.dilW * inC);
  const outIndex = <usize>((oy * a.outW + ox) * a.outC);
  const oc4 = a.outC & ~3;
  for (let oc = 0; oc < oc4; oc += 4) {
    let a0 = biasOf(a, oc), a1 = biasOf(a, oc + 1), a2 = biasOf(a, oc + 2), a3 = biasOf(a, oc + 3);
    for (let kh = kh0; kh < kh1; kh++) {
      let p = a.input + <usize>(((iy0 + kh * a.dilH) * a.inW + ix0 + kw0 * a.dilW) * inC);
      let w0 = a.filter + <usize>(((oc * a.kH + kh) * a.kW + kw0) * inC);
      for (let r = 0; r < runs; r++) {
        const w1 = w0 + <usize>K, w2 = w1 + <usize>K, w3 = w2 + <usize>K;
        for (let i = 0; i < runLen; i++) {
          const j = <usize>i;
          const x = <i32>load<i8>(p + j) + off;
          a0 += x * <i32>load<i8>(w0 + j); a1 += x * <i32>load<i8>(w1 + j);
          a2 += x * <i32>load<i8>(w2 + j); a3 += x * <i32>load<i8>(w3 + j);
        }
        p += inRunStep;
        w0 += <usize>inC;
      }
    }
    finish4(a, outIndex + <usize>oc, oc, a0, a1, a2, a3);
  }
  for (let oc = oc4; oc < a.outC; oc++) convChannel(a, oy, ox, oc);
}

/** One output value: pixel (oy, ox), channel oc, taps clipped to the image. */
function convChannel(a: ConvArgs, oy: i32, ox: i32, oc: i32): void {
  let acc = biasOf(a, oc);
  for (let kh = 0; kh < a.kH; kh++) {
    const iy = oy * a.strideH - a.padTop + kh * a.dilH;
    if (iy < 0 || iy >= a.inH) continue;
    for (let kw = 0; kw < a.kW; kw++) {
      const ix = ox * a.strideW - a.padLeft + kw * a.dilW;
      if (ix < 0 || ix >= a.inW) continue;
      const p = a.input + <usize>((iy * a.inW + ix) * a.inC);
      const w = a.filter + <usize>(((oc * a.kH + kh) * a.kW + kw) * a.inC);
      for (let i = 0; i < a.inC; i++) {
        acc += (<i32>load<i8>(p + <usize>i) + a.inputOffset) * <i32>load<i8>(w + <usize>i);
      }
    }
  }
  finish(a, acc, oc, <usize>((oy * a.outW + ox) * a.outC + oc));
}
