// qs8 pooling reference kernels: the specification the fast variants are tested against.
//
// qs8_avgpool__ref / qs8_maxpool__ref compute AVERAGE_POOL_2D / MAX_POOL_2D exactly as
// TFLite Micro's reference_integer_ops::AveragePool / MaxPool do for int8:
// - the window of output (oy, ox) starts at (oy * strideH - padTop, ox * strideW - padLeft)
//   and only its in-bounds taps count (padding is neither zero nor part of the count);
// - average: acc = sum of taps, count = in-bounds taps,
//   avg = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count (C division,
//   truncating toward zero), then clamped to [actMin, actMax];
// - max: maximum of the taps (starting from -128), then clamped.
// Layout: input [inH][inW][channels] int8, output [outH][outW][channels] int8 (one batch item).
// Preconditions (checked in prepare): every window has at least one in-bounds tap; input and
// output do not overlap. A window with no tap writes clamp(0) instead of trapping.

import { PoolArgs } from "../args";
import { clampI32 } from "../common/fixedpoint";

/** Integer average rounded half away from zero, as TFLM's pooling rounds. */
// @ts-ignore: decorator
@inline export function roundedAverage(sum: i32, count: i32): i32 {
  if (count <= 0) return 0;
  const half = count / 2;
  return sum > 0 ? (sum + half) / count : (sum - half) / count;
}

export function qs8_avgpool__ref(a: PoolArgs): void {
  const C = a.channels;
  for (let oy = 0; oy < a.outH; oy++) {
    const y0 = oy * a.strideH - a.padTop;
    const fyStart = max(0, -y0);
    const fyEnd = min(a.filterH, a.inH - y0);
    for (let ox = 0; ox < a.outW; ox++) {
      const x0 = ox * a.strideW - a.padLeft;
      const fxStart = max(0, -x0);
      const fxEnd = min(a.filterW, a.inW - x0);
      const out = a.output + <usize>((oy * a.outW + ox) * C);
      for (let c = 0; c < C; c++) {
        let sum = 0;
        let count = 0;
        for (let fy = fyStart; fy < fyEnd; fy++) {
          for (let fx = fxStart; fx < fxEnd; fx++) {
            const idx = ((y0 + fy) * a.inW + (x0 + fx)) * C + c;
            sum += <i32>load<i8>(a.input + <usize>idx);
            count++;
          }
        }
        store<i8>(out + <usize>c, <i8>clampI32(roundedAverage(sum, count), a.actMin, a.actMax));
      }
    }
  }
}

export function qs8_maxpool__ref(a: PoolArgs): void {
  const C = a.channels;
  for (let oy = 0; oy < a.outH; oy++) {
    const y0 = oy * a.strideH - a.padTop;
    const fyStart = max(0, -y0);
    const fyEnd = min(a.filterH, a.inH - y0);
    for (let ox = 0; ox < a.outW; ox++) {
      const x0 = ox * a.strideW - a.padLeft;
      const fxStart = max(0, -x0);
      const fxEnd = min(a.filterW, a.inW - x0);
      const out = a.output + <usize>((oy * a.outW + ox) * C);
      for (let c = 0; c < C; c++) {
        let m: i32 = -128;
        for (let fy = fyStart; fy < fyEnd; fy++) {
          for (let fx = fxStart; fx < fxEnd; fx++) {
            const idx = ((y0 + fy) * a.inW + (x0 + fx)) * C + c;
            m = max(m, <i32>load<i8>(a.input + <usize>idx));
          }
        }
        store<i8>(out + <usize>c, <i8>clampI32(m, a.actMin, a.actMax));
      }
    }
  }
}
