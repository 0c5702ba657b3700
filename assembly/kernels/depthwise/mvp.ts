import { ConvArgs } from "../args";
import { requantizeScalar, storeOutput } from "../common/fused-add";

// @ts-ignore: decorator
@inline function finish(a: ConvArgs, acc: i32, oc: i32, index: usize): void {
  if (a.bias != 0) acc += load<i32>(a.bias + (<usize>oc << 2));
  const q = requantizeScalar(acc, load<i32>(a.mult + <usize>(oc * a.multStride)),
    load<i32>(a.shift + <usize>(oc * a.multStride)), a.outputOffset, a.actMin, a.actMax);
  storeOutput(a.output, index, q, a.residual, a.add);
}

/**
 * qs8_dwconv_1x4__mvp: DEPTHWISE_CONV_2D int8 as qs8_dwconv__ref, scalar for the MVP build.
 * depthMultiplier 1: register-tiled 1 pixel x 4 channels, the tap window clipped once per pixel;
 * other multipliers: one channel at a time. Layouts as the reference; no scratch, no allocation.
 */
export function qs8_dwconv_1x4__mvp(a: ConvArgs): void {
  for (let oy = 0; oy < a.outH; oy++) {
    const iy0 = oy * a.strideH - a.padTop;
    let kh0 = 0;
    while (kh0 < a.kH && iy0 + kh0 * a.dilH < 0) kh0++;
    let kh1 = a.kH;
    while (kh1 > kh0 && iy0 + (kh1 - 1) * a.dilH >= a.inH) kh1--;
    for (let ox = 0; ox < a.outW; ox++) {
      const ix0 = ox * a.strideW - a.padLeft;
      let kw0 = 0;
      while (kw0 < a.kW && ix0 + kw0 * a.dilW < 0) kw0++;
      let kw1 = a.kW;
      while (kw1 > kw0 && ix0 + (kw1 - 1) * a.dilW >= a.inW) kw1--;
      if (a.depthMultiplier == 1) dwPixel4(a, oy, ox, kh0, kh1, kw0, kw1);
      else dwPixelAnyMultiplier(a, oy, ox, kh0, kh1, kw0, kw1);
    }
  }
}

/** depthMultiplier 1: channels in groups of 4, then the last outC % 4 one by one. */
function dwPixel4(a: ConvArgs, oy: i32, ox: i32, kh0: i32, kh1: i32, kw0: i32, kw1: i32): void {
  const C = a.outC, off = a.inputOffset;
  const outIndex = <usize>((oy * a.outW + ox) * C);
  const c4 = C & ~3;
  // First tap of the clipped window, for channel 0 (input) and filter row kh0, column kw0.
  const pxBase = a.input + <usize>(((oy * a.strideH - a.padTop + kh0 * a.dilH) * a.inW +
    ox * a.strideW - a.padLeft + kw0 * a.dilW) * C);
  const wBase = a.filter + <usize>((kh0 * a.kW + kw0) * C);
  const rowStep = <usize>(a.dilH * a.inW * C), colStep = <usize>(a.dilW * C);
  const wRowStep = <usize>(a.kW * C), taps = kw1 - kw0;
  for (let c = 0; c < c4; c += 4) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let prow = pxBase + <usize>c, wrow = wBase + <usize>c;
    for (let kh = kh0; kh < kh1; kh++) {
      let p = prow, w = wrow;
      for (let t = 0; t < taps; t++) {
        a0 += (<i32>load<i8>(p) + off) * <i32>load<i8>(w);
        a1 += (<i32>load<i8>(p, 1) + off) * <i32>load<i8>(w, 1);
        a2 += (<i32>load<i8>(p, 2) + off) * <i32>load<i8>(w, 2);
        a3 += (<i32>load<i8>(p, 3) + off) * <i32>load<i8>(w, 3);
        p += colStep;
        w += <usize>C;
      }
      prow += rowStep;
      wrow += wRowStep;
    }
    finish(a, a0, c, outIndex + <usize>c); finish(a, a1, c + 1, outIndex + <usize>(c + 1));
    finish(a, a2, c + 2, outIndex + <usize>(c + 2)); finish(a, a3, c + 3, outIndex + <usize>(c + 3));
  }
  for (let c = c4; c < C; c++) {
    let acc = 0;
    let prow = pxBase + <usize>c, wrow = wBase + <usize>c;
    for (let kh = kh0; kh < kh1; kh++) {
      let p = prow, w = wrow;
      for (let t = 0; t < taps; t++) {
        acc += (<i32>load<i8>(p) + off) * <i32>load<i8>(w);
        p += colStep;
        w += <usize>C;
      }
      prow += rowStep;
      wrow += wRowStep;
    }
    finish(a, acc, c, outIndex + <usize>c);
  }
}

/** Any depthMultiplier: one output channel at a time, input channel oc / depthMultiplier. */
function dwPixelAnyMultiplier(a: ConvArgs, oy: i32, ox: i32, kh0: i32, kh1: i32, kw0: i32, kw1: i32): void {
  const outIndex = <usize>((oy * a.outW + ox) * a.outC);
  for (let oc = 0; oc < a.outC; oc++) {
    const ic = oc / a.depthMultiplier;
    let acc = 0;
    for (let kh = kh0; kh < kh1; kh++) {
      const iy = oy * a.strideH - a.padTop + kh * a.dilH;
      for (let kw = kw0; kw < kw1; kw++) {
        const ix = ox * a.strideW - a.padLeft + kw * a.dilW;
        const x = <i32>load<i8>(a.input + <usize>((iy * a.inW + ix) * a.inC + ic));
        acc += (x + a.inputOffset) * <i32>load<i8>(a.filter + <usize>((kh * a.kW + kw) * a.outC + oc));
      }
    }
    finish(a, acc, oc, outIndex + <usize>oc);
  }
}
