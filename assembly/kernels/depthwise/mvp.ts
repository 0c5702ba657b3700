import { ConvArgs, shiftAt } from "../args";
import { addFastSetup, requantizeScalar, storeAdded4, storeOutputFused } from "../common/fused-add";
import { finishConv4 } from "../common/finish-scalar";

// Constants of this call's fused ADD (addFastSetup), read by finish().
let addFast: usize = 0;

// @ts-ignore: decorator
@inline function biasOf(a: ConvArgs, oc: i32): i32 {
  return a.bias != 0 ? load<i32>(a.bias + (<usize>oc << 2)) : 0;
}

/** Requantizes acc (bias included) for channel oc and stores it (through the fused ADD). */
// @ts-ignore: decorator
@inline function finish(a: ConvArgs, acc: i32, oc: i32, index: usize): void {
  const q = requantizeScalar(acc, load<i32>(a.mult + <usize>(oc * a.multStride)),
    shiftAt(a.shift, oc, a.multStride), a.outputOffset, a.actMin, a.actMax);
  storeOutputFused(a.output, index, q, a.residual, a.add, addFast);
}

/**
 * qs8_dwconv_1x4__mvp: DEPTHWISE_CONV_2D int8 as qs8_dwconv__ref, scalar for the MVP build.
 * depthMultiplier 1: register-tiled 1 pixel x 4 channels. Pixels whose window lies inside the
 * image run channel group by channel group, multiplying raw inputs from bias + inputOffset *
 * sum_t w (folded once per group and call: no scratch); border pixels clip their taps and add
 * the offset. Other multipliers: one channel at a time. Layouts as the reference; no scratch,
 * no allocation; plain i32 arithmetic (see conv2d/mvp.ts).
 */
export function qs8_dwconv_1x4__mvp(a: ConvArgs): void {
  addFast = addFastSetup(a.residual, a.add);
  // Rows and columns whose taps all lie inside the image.
  let oxLo = 0;
  while (oxLo < a.outW && oxLo * a.strideW - a.padLeft < 0) oxLo++;
  let oxHi = a.outW;
  while (oxHi > oxLo && (oxHi - 1) * a.strideW - a.padLeft + (a.kW - 1) * a.dilW >= a.inW) oxHi--;
  let oyLo = 0;
  while (oyLo < a.outH && oyLo * a.strideH - a.padTop < 0) oyLo++;
  let oyHi = a.outH;
  while (oyHi > oyLo && (oyHi - 1) * a.strideH - a.padTop + (a.kH - 1) * a.dilH >= a.inH) oyHi--;
  const fast = a.depthMultiplier == 1;
  for (let oy = 0; oy < a.outH; oy++) {
    const iy0 = oy * a.strideH - a.padTop;
    let kh0 = 0;
    while (kh0 < a.kH && iy0 + kh0 * a.dilH < 0) kh0++;
    let kh1 = a.kH;
    while (kh1 > kh0 && iy0 + (kh1 - 1) * a.dilH >= a.inH) kh1--;
    const rowInside = oy >= oyLo && oy < oyHi;
    for (let ox = 0; ox < a.outW; ox++) {
      if (fast && rowInside && ox >= oxLo && ox < oxHi) continue; // second pass
      const ix0 = ox * a.strideW - a.padLeft;
      let kw0 = 0;
      while (kw0 < a.kW && ix0 + kw0 * a.dilW < 0) kw0++;
      let kw1 = a.kW;
      while (kw1 > kw0 && ix0 + (kw1 - 1) * a.dilW >= a.inW) kw1--;
      if (fast) dwPixel4(a, oy, ox, kh0, kh1, kw0, kw1);
      else dwPixelAnyMultiplier(a, oy, ox, kh0, kh1, kw0, kw1);
    }
  }
  if (fast && oyLo < oyHi && oxLo < oxHi) dwInside(a, oyLo, oyHi, oxLo, oxHi);
}

/**
 * depthMultiplier 1, pixels [oyLo, oyHi) x [oxLo, oxHi): channel groups of 4 outermost, folded
 * starts. Every argument field and per-channel constant is read into a local first (V8 does not
 * keep linear-memory loads across the output stores; WASM3 reads locals without a bounds check).
 */
function dwInside(a: ConvArgs, oyLo: i32, oyHi: i32, oxLo: i32, oxHi: i32): void {
  const C = a.outC, kH = a.kH, kW = a.kW, filter = a.filter, input = a.input;
  const output = a.output, residual = a.residual;
  const outOff = a.outputOffset, lo = a.actMin, hi = a.actMax, off = a.inputOffset;
  const rowStep = <usize>(a.dilH * a.inW * C), colStep = <usize>(a.dilW * C);
  const pxStep = <usize>(a.strideW * C), inRow = <usize>(a.strideH * a.inW * C), outRow = <usize>(a.outW * C);
  const c4 = C & ~3;
  for (let c = 0; c < c4; c += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let t = 0; t < kH * kW; t++) {
      const w = filter + <usize>(t * C + c);
      s0 += <i32>load<i8>(w); s1 += <i32>load<i8>(w, 1); s2 += <i32>load<i8>(w, 2); s3 += <i32>load<i8>(w, 3);
    }
    const f0 = biasOf(a, c) + off * s0, f1 = biasOf(a, c + 1) + off * s1;
    const f2 = biasOf(a, c + 2) + off * s2, f3 = biasOf(a, c + 3) + off * s3;
    const ms = <usize>a.multStride;
    const ss = ms >> 2; // shifts are int8
    const pm = a.mult + <usize>c * ms, ps = a.shift + <usize>c * ss;
    const m0 = load<i32>(pm), m1 = load<i32>(pm + ms), m2 = load<i32>(pm + 2 * ms), m3 = load<i32>(pm + 3 * ms);
    const e0 = <i32>load<i8>(ps), e1 = <i32>load<i8>(ps + ss), e2 = <i32>load<i8>(ps + 2 * ss), e3 = <i32>load<i8>(ps + 3 * ss);
    let rowOrigin = input + <usize>(((oyLo * a.strideH - a.padTop) * a.inW + oxLo * a.strideW - a.padLeft) * C + c);
    let rowOut = <usize>((oyLo * a.outW + oxLo) * C + c);
    for (let oy = oyLo; oy < oyHi; oy++) {
      let origin = rowOrigin, out = rowOut;
      for (let ox = oxLo; ox < oxHi; ox++) {
        let a0 = f0, a1 = f1, a2 = f2, a3 = f3;
        let prow = origin, w = filter + <usize>c;
        for (let kh = 0; kh < kH; kh++) {
          let p = prow;
          for (let kw = 0; kw < kW; kw++) {
            a0 += <i32>load<i8>(p) * <i32>load<i8>(w); a1 += <i32>load<i8>(p, 1) * <i32>load<i8>(w, 1);
            a2 += <i32>load<i8>(p, 2) * <i32>load<i8>(w, 2); a3 += <i32>load<i8>(p, 3) * <i32>load<i8>(w, 3);
            p += colStep;
            w += <usize>C;
          }
          prow += rowStep;
        }
        const q0 = requantizeScalar(a0, m0, e0, outOff, lo, hi), q1 = requantizeScalar(a1, m1, e1, outOff, lo, hi);
        const q2 = requantizeScalar(a2, m2, e2, outOff, lo, hi), q3 = requantizeScalar(a3, m3, e3, outOff, lo, hi);
        if (residual != 0) storeAdded4(output, out, q0, q1, q2, q3, residual, a.add, addFast);
        else {
          const o = output + out;
          store<i8>(o, q0); store<i8>(o, q1, 1); store<i8>(o, q2, 2); store<i8>(o, q3, 3);
        }
        origin += pxStep;
        out += <usize>C;
      }
      rowOrigin += inRow;
      rowOut += outRow;
    }
  }
  // The last C % 4 channels of the inside pixels, one by one.
  if (c4 < C) {
    for (let oy = oyLo; oy < oyHi; oy++) {
      for (let ox = oxLo; ox < oxHi; ox++) dwTailChannels(a, oy, ox, c4);
    }
  }
}

/** Channels c0.. of an inside pixel (all taps inside), one by one. */
function dwTailChannels(a: ConvArgs, oy: i32, ox: i32, c0: i32): void {
  const C = a.outC, off = a.inputOffset;
  const outIndex = <usize>((oy * a.outW + ox) * C);
  for (let c = c0; c < C; c++) {
    let acc = biasOf(a, c);
    for (let kh = 0; kh < a.kH; kh++) {
      const iy = oy * a.strideH - a.padTop + kh * a.dilH;
      for (let kw = 0; kw < a.kW; kw++) {
        const ix = ox * a.strideW - a.padLeft + kw * a.dilW;
        acc += (<i32>load<i8>(a.input + <usize>((iy * a.inW + ix) * C + c)) + off) * <i32>load<i8>(a.filter + <usize>((kh * a.kW + kw) * C + c));
      }
    }
    finish(a, acc, c, outIndex + <usize>c);
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
    let a0 = biasOf(a, c), a1 = biasOf(a, c + 1), a2 = biasOf(a, c + 2), a3 = biasOf(a, c + 3);
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
    finishConv4(a, outIndex + <usize>c, c, a0, a1, a2, a3, addFast);
  }
  for (let c = c4; c < C; c++) {
    let acc = biasOf(a, c);
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
    let acc = biasOf(a, oc);
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
