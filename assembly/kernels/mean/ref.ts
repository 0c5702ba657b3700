// qs8_mean__ref: MEAN of a 4D int8 tensor over any set of axes, TFLite Micro's
// reference_integer_ops::Mean generalized from axes {1, 2} to an axes mask:
//   acc = sum(x - inZp) over the reduced axes (n elements)
//   acc = multiplyByQuantizedMultiplier(acc, mult, shift)
//   acc = acc > 0 ? (acc + n/2) / n : (acc - n/2) / n   (C division)
//   out = clamp(acc + outZp, -128, 127)
// Layout: input dense [d0][d1][d2][d3]; output dense over the kept dims in order (a reduced
// dim counts as size 1). axesMask bit k reduces dim k. Preconditions: n * 255 fits in i32;
// input and output do not overlap.

import { MeanArgs } from "../args";
import { clampI32, multiplyByQuantizedMultiplier } from "../common/fixedpoint";

export function qs8_mean__ref(a: MeanArgs): void {
  const m = a.axesMask;
  // Loop extents: kept dims iterate outside, reduced dims inside.
  const o0 = m & 1 ? 1 : a.d0;
  const o1 = m & 2 ? 1 : a.d1;
  const o2 = m & 4 ? 1 : a.d2;
  const o3 = m & 8 ? 1 : a.d3;
  const r0 = m & 1 ? a.d0 : 1;
  const r1 = m & 2 ? a.d1 : 1;
  const r2 = m & 4 ? a.d2 : 1;
  const r3 = m & 8 ? a.d3 : 1;
  const n = r0 * r1 * r2 * r3;
  let out = a.output;
  for (let i0 = 0; i0 < o0; i0++) {
    for (let i1 = 0; i1 < o1; i1++) {
      for (let i2 = 0; i2 < o2; i2++) {
        for (let i3 = 0; i3 < o3; i3++) {
          let acc = 0;
          for (let j0 = 0; j0 < r0; j0++) {
            for (let j1 = 0; j1 < r1; j1++) {
              for (let j2 = 0; j2 < r2; j2++) {
                for (let j3 = 0; j3 < r3; j3++) {
                  const idx = (((i0 + j0) * a.d1 + (i1 + j1)) * a.d2 + (i2 + j2)) * a.d3 + (i3 + j3);
                  acc += <i32>load<i8>(a.input + <usize>idx) - a.inZp;
                }
              }
            }
          }
          acc = multiplyByQuantizedMultiplier(acc, a.mult, a.shift);
          acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
          store<i8>(out, <i8>clampI32(acc + a.outZp, -128, 127));
          out++;
        }
      }
    }
  }
}
