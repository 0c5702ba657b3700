// qs8 pooling, SIMD128 variants (compiled only into the SIMD build; index.ts guards every
// call with ASC_FEATURE_SIMD). Bit-exact to pool/ref.ts on every shape.
//
// Both kernels vectorize over channels, 16 per v128. When channels is not a multiple of 16
// the last block is moved back to end at the last channel and overlaps the previous block:
// the overlapped channels are computed twice with the same result, so no scalar tail is
// needed. Fewer than 16 channels take the scalar kernels of mvp.ts.
// Layout and preconditions as in ref.ts, plus -128 <= actMin <= actMax <= 127.

import { PoolArgs } from "../args";
import { clampI32 } from "../common/fixedpoint";
import { qs8_avgpool__ref } from "./ref";
import { qs8_avgpool_4c__mvp, qs8_maxpool_4c__mvp } from "./mvp";

/** Windows up to this many taps sum in i16 lanes without overflow (256 * -128 = -32768). */
const I16_SAFE_TAPS: i32 = 256;
/**
 * The f32 division below truncates exactly while |num| + count < 2^24 (see divideRounded);
 * with |num| <= 128.5 * count that holds for count < 129,000. Larger windows use the ref.
 */
const F32_EXACT_TAPS: i32 = 65536;

/** MAX_POOL_2D, int8 NHWC, 16 channels per step. */
export function qs8_maxpool_16c__simd(a: PoolArgs): void {
  const C = a.channels;
  if (C < 16) {
    qs8_maxpool_4c__mvp(a);
    return;
  }
  const lo = i8x16.splat(<i8>a.actMin);
  const hi = i8x16.splat(<i8>a.actMax);
  const rowBytes = a.inW * C;
  for (let oy = 0; oy < a.outH; oy++) {
    const y0 = oy * a.strideH - a.padTop;
    const fyStart = max(0, -y0);
    const fyEnd = min(a.filterH, a.inH - y0);
    for (let ox = 0; ox < a.outW; ox++) {
      const x0 = ox * a.strideW - a.padLeft;
      const fxStart = max(0, -x0);
      const fxEnd = min(a.filterW, a.inW - x0);
      const out = a.output + <usize>((oy * a.outW + ox) * C);
      const base = a.input + <usize>((y0 + fyStart) * rowBytes + (x0 + fxStart) * C);
      for (let c0 = 0; c0 < C; c0 += 16) {
        const c = min(c0, C - 16);
        let m = i8x16.splat(-128);
        let row = base + <usize>c;
        for (let fy = fyStart; fy < fyEnd; fy++) {
          let p = row;
          for (let fx = fxStart; fx < fxEnd; fx++) {
            m = i8x16.max_s(m, v128.load(p));
            p += <usize>C;
          }
          row += <usize>rowBytes;
        }
        v128.store(out + <usize>c, i8x16.min_s(i8x16.max_s(m, lo), hi));
      }
    }
  }
}

/**
 * Rounded average of four i32 sums by a common count, exactly as roundedAverage in ref.ts.
 * num = sum +/- count/2 is an integer with |num| + count < 2^24, so it converts to f32
 * exactly and the correctly rounded quotient cannot reach the next integer away from zero
 * (that would need |num| + count >= 2^24); truncating it gives C's integer division.
 */
// @ts-ignore: decorator
@inline function divideRounded(sum: v128, half: v128, countF: v128): v128 {
  const positive = i32x4.gt_s(sum, i32x4.splat(0));
  const num = v128.bitselect(i32x4.add(sum, half), i32x4.sub(sum, half), positive);
  return i32x4.trunc_sat_f32x4_s(f32x4.div(f32x4.convert_i32x4_s(num), countF));
}

/** AVERAGE_POOL_2D, int8 NHWC, 16 channels per step. */
export function qs8_avgpool_16c__simd(a: PoolArgs): void {
  const C = a.channels;
  if (C < 16) {
    qs8_avgpool_4c__mvp(a);
    return;
  }
  if (a.filterH * a.filterW > F32_EXACT_TAPS) {
    qs8_avgpool__ref(a);
    return;
  }
  const lo = i32x4.splat(a.actMin);
  const hi = i32x4.splat(a.actMax);
  const rowBytes = a.inW * C;
  for (let oy = 0; oy < a.outH; oy++) {
    const y0 = oy * a.strideH - a.padTop;
    const fyStart = max(0, -y0);
    const fyEnd = min(a.filterH, a.inH - y0);
    for (let ox = 0; ox < a.outW; ox++) {
      const x0 = ox * a.strideW - a.padLeft;
      const fxStart = max(0, -x0);
      const fxEnd = min(a.filterW, a.inW - x0);
      const out = a.output + <usize>((oy * a.outW + ox) * C);
      const rows = fyEnd - fyStart;
      const cols = fxEnd - fxStart;
      if (rows <= 0 || cols <= 0) {
        memory.fill(out, <u8>clampI32(0, a.actMin, a.actMax), <usize>C);
        continue;
      }
      const count = rows * cols;
      const half = i32x4.splat(count >> 1);
      const countF = f32x4.splat(<f32>count);
      const base = a.input + <usize>((y0 + fyStart) * rowBytes + (x0 + fxStart) * C);
      for (let c0 = 0; c0 < C; c0 += 16) {
        const c = min(c0, C - 16);
        let s0 = i32x4.splat(0);
        let s1 = s0;
        let s2 = s0;
        let s3 = s0;
        let row = base + <usize>c;
        if (count <= I16_SAFE_TAPS) {
          let accLo = i16x8.splat(0);
          let accHi = accLo;
          for (let fy = 0; fy < rows; fy++) {
            let p = row;
            for (let fx = 0; fx < cols; fx++) {
              const v = v128.load(p);
              accLo = i16x8.add(accLo, i16x8.extend_low_i8x16_s(v));
              accHi = i16x8.add(accHi, i16x8.extend_high_i8x16_s(v));
              p += <usize>C;
            }
            row += <usize>rowBytes;
          }
          s0 = i32x4.extend_low_i16x8_s(accLo);
          s1 = i32x4.extend_high_i16x8_s(accLo);
          s2 = i32x4.extend_low_i16x8_s(accHi);
          s3 = i32x4.extend_high_i16x8_s(accHi);
        } else {
          for (let fy = 0; fy < rows; fy++) {
            let p = row;
            for (let fx = 0; fx < cols; fx++) {
              const v = v128.load(p);
              const vLo = i16x8.extend_low_i8x16_s(v);
              const vHi = i16x8.extend_high_i8x16_s(v);
              s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(vLo));
              s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(vLo));
              s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(vHi));
              s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(vHi));
              p += <usize>C;
            }
            row += <usize>rowBytes;
          }
        }
        const q0 = i32x4.min_s(i32x4.max_s(divideRounded(s0, half, countF), lo), hi);
        const q1 = i32x4.min_s(i32x4.max_s(divideRounded(s1, half, countF), lo), hi);
        const q2 = i32x4.min_s(i32x4.max_s(divideRounded(s2, half, countF), lo), hi);
        const q3 = i32x4.min_s(i32x4.max_s(divideRounded(s3, half, countF), lo), hi);
        const packed = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3));
        v128.store(out + <usize>c, packed);
      }
    }
  }
}
