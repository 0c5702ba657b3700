import { ConvArgs } from "../args";
import { requantizeScalar, storeOutput } from "../common/fused-add";

// Scalar CONV_2D for the MVP build (WASM3 on microcontrollers): no scratch, no allocation,
// reads the OHWI filter as is. Taps are walked as "runs": with dilW == 1 the kw taps of one
// filter row are contiguous in both input (NHWC) and filter (OHWI), so a row is one run of
// (kw1-kw0)*inC elements; with dilation each tap is a run of inC elements.

// @ts-ignore: decorator
@inline function finish(a: ConvArgs, acc: i32, oc: i32, index: usize): void {
  if (a.bias != 0) acc += load<i32>(a.bias + (<usize>oc << 2));
  const q = requantizeScalar(acc, load<i32>(a.mult + <usize>(oc * a.multStride)),
    load<i32>(a.shift + <usize>(oc * a.multStride)), a.outputOffset, a.actMin, a.actMax);
  storeOutput(a.output, index, q, a.residual, a.add);
}

/**
 * qs8_conv2d_2x4__mvp: CONV_2D int8 as qs8_conv2d__ref, register-tiled 2 output pixels x 4
 * output channels (interior pixels), 1x4 on the borders, 1x1 for the last outC % 4 channels.
 * Layouts as the reference. Preconditions: those of the reference; no scratch.
 */
export function qs8_conv2d_2x4__mvp(a: ConvArgs): void {
  // Columns whose kw taps are all inside the image.
  let oxLo = 0;
  while (oxLo < a.outW && oxLo * a.strideW - a.padLeft < 0) oxLo++;
  let oxHi = a.outW;
  while (oxHi > oxLo && (oxHi - 1) * a.strideW - a.padLeft + (a.kW - 1) * a.dilW >= a.inW) oxHi--;
  for (let oy = 0; oy < a.outH; oy++) {
    const iy0 = oy * a.strideH - a.padTop;
    let kh0 = 0;
    while (kh0 < a.kH && iy0 + kh0 * a.dilH < 0) kh0++;
    let kh1 = a.kH;
    while (kh1 > kh0 && iy0 + (kh1 - 1) * a.dilH >= a.inH) kh1--;
    let ox = 0;
    while (ox < a.outW) {
      if (ox >= oxLo && ox + 1 < oxHi) {
        conv2Pixels(a, oy, ox, kh0, kh1);
        ox += 2;
      } else {
        conv1Pixel(a, oy, ox, kh0, kh1);
        ox++;
      }
    }
  }
}

/** Pixels (oy, ox) and (oy, ox+1), all kw taps inside the image, kh in [kh0, kh1). */
function conv2Pixels(a: ConvArgs, oy: i32, ox: i32, kh0: i32, kh1: i32): void {
  const inC = a.inC, off = a.inputOffset;
  const K = a.kH * a.kW * inC; // filter elements per output channel
  const merged = a.dilW == 1;
  const runs = merged ? 1 : a.kW;
  const runLen = merged ? a.kW * inC : inC;
  const inRunStep = <usize>(a.dilW * inC);
  const pxStep = <usize>(a.strideW * inC);
  const ix0 = ox * a.strideW - a.padLeft;
  const outIndex = <usize>((oy * a.outW + ox) * a.outC);
  const oc4 = a.outC & ~3;
  for (let oc = 0; oc < oc4; oc += 4) {
    let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
    for (let kh = kh0; kh < kh1; kh++) {
      const iy = oy * a.strideH - a.padTop + kh * a.dilH;
      let p0 = a.input + <usize>((iy * a.inW + ix0) * inC);
      let w0 = a.filter + <usize>((oc * a.kH + kh) * a.kW * inC);
      for (let r = 0; r < runs; r++) {
        const p1 = p0 + pxStep, w1 = w0 + <usize>K, w2 = w1 + <usize>K, w3 = w2 + <usize>K;
        let i = 0;
        for (; i + 2 <= runLen; i += 2) {
          const j = <usize>i;
          let x0 = <i32>load<i8>(p0 + j) + off, x1 = <i32>load<i8>(p1 + j) + off;
          let v0 = <i32>load<i8>(w0 + j), v1 = <i32>load<i8>(w1 + j);
          let v2 = <i32>load<i8>(w2 + j), v3 = <i32>load<i8>(w3 + j);
          a00 += x0 * v0; a01 += x0 * v1; a02 += x0 * v2; a03 += x0 * v3;
          a10 += x1 * v0; a11 += x1 * v1; a12 += x1 * v2; a13 += x1 * v3;
          x0 = <i32>load<i8>(p0 + j, 1) + off; x1 = <i32>load<i8>(p1 + j, 1) + off;
          v0 = <i32>load<i8>(w0 + j, 1); v1 = <i32>load<i8>(w1 + j, 1);
          v2 = <i32>load<i8>(w2 + j, 1); v3 = <i32>load<i8>(w3 + j, 1);
          a00 += x0 * v0; a01 += x0 * v1; a02 += x0 * v2; a03 += x0 * v3;
          a10 += x1 * v0; a11 += x1 * v1; a12 += x1 * v2; a13 += x1 * v3;
        }
        if (i < runLen) {
          const j = <usize>i;
          const x0 = <i32>load<i8>(p0 + j) + off, x1 = <i32>load<i8>(p1 + j) + off;
          const v0 = <i32>load<i8>(w0 + j), v1 = <i32>load<i8>(w1 + j);
          const v2 = <i32>load<i8>(w2 + j), v3 = <i32>load<i8>(w3 + j);
          a00 += x0 * v0; a01 += x0 * v1; a02 += x0 * v2; a03 += x0 * v3;
          a10 += x1 * v0; a11 += x1 * v1; a12 += x1 * v2; a13 += x1 * v3;
        }
        p0 += inRunStep;
        w0 += <usize>inC;
      }
    }
    const o1 = outIndex + <usize>a.outC;
    finish(a, a00, oc, outIndex + <usize>oc); finish(a, a01, oc + 1, outIndex + <usize>(oc + 1));
    finish(a, a02, oc + 2, outIndex + <usize>(oc + 2)); finish(a, a03, oc + 3, outIndex + <usize>(oc + 3));
    finish(a, a10, oc, o1 + <usize>oc); finish(a, a11, oc + 1, o1 + <usize>(oc + 1));
    finish(a, a12, oc + 2, o1 + <usize>(oc + 2)); finish(a, a13, oc + 3, o1 + <usize>(oc + 3));
  }
  for (let oc = oc4; oc < a.outC; oc++) {
    convChannel(a, oy, ox, kh0, kh1, 0, a.kW, oc);
    convChannel(a, oy, ox + 1, kh0, kh1, 0, a.kW, oc);
  }
}

/** Pixel (oy, ox), any taps, kh in [kh0, kh1): 4 channels at a time, then single channels. */
function conv1Pixel(a: ConvArgs, oy: i32, ox: i32, kh0: i32, kh1: i32): void {
  const inC = a.inC, off = a.inputOffset;
  const K = a.kH * a.kW * inC;
  const ix0 = ox * a.strideW - a.padLeft;
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
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let kh = kh0; kh < kh1; kh++) {
      const iy = oy * a.strideH - a.padTop + kh * a.dilH;
      let p = a.input + <usize>((iy * a.inW + ix0 + kw0 * a.dilW) * inC);
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
    finish(a, a0, oc, outIndex + <usize>oc); finish(a, a1, oc + 1, outIndex + <usize>(oc + 1));
    finish(a, a2, oc + 2, outIndex + <usize>(oc + 2)); finish(a, a3, oc + 3, outIndex + <usize>(oc + 3));
  }
  for (let oc = oc4; oc < a.outC; oc++) convChannel(a, oy, ox, kh0, kh1, kw0, kw1, oc);
}

/** One output value: pixel (oy, ox), channel oc, taps kh in [kh0, kh1), kw in [kw0, kw1). */
function convChannel(a: ConvArgs, oy: i32, ox: i32, kh0: i32, kh1: i32, kw0: i32, kw1: i32, oc: i32): void {
  let acc = 0;
  const ix0 = ox * a.strideW - a.padLeft;
  for (let kh = kh0; kh < kh1; kh++) {
    const iy = oy * a.strideH - a.padTop + kh * a.dilH;
    for (let kw = kw0; kw < kw1; kw++) {
      const p = a.input + <usize>((iy * a.inW + ix0 + kw * a.dilW) * a.inC);
      const w = a.filter + <usize>(((oc * a.kH + kh) * a.kW + kw) * a.inC);
      for (let i = 0; i < a.inC; i++) {
        acc += (<i32>load<i8>(p + <usize>i) + a.inputOffset) * <i32>load<i8>(w + <usize>i);
      }
    }
  }
  finish(a, acc, oc, <usize>((oy * a.outW + ox) * a.outC + oc));
}
