// qs8_mul__ref: MUL of two int8 tensors as TFLite Micro's reference_integer_ops::Mul /
// BroadcastMul4DSlow compute it:
//   out = clamp(outOffset + MBQM((in1Offset + x1) * (in2Offset + x2), mult, shift), actMin, actMax)
// Layout and aliasing as ADD (add/ref.ts): dense output [d0][d1][d2][d3], inputs read through
// element strides (0 on broadcast dims).

import { MulArgs } from "./args";
import { clampI32, multiplyByQuantizedMultiplier } from "../common/fixedpoint";

// @ts-ignore: decorator
@inline function mulOne(a: MulArgs, x1: i32, x2: i32): i32 {
  const p = (a.in1Offset + x1) * (a.in2Offset + x2);
  return clampI32(a.outOffset + multiplyByQuantizedMultiplier(p, a.mult, a.shift), a.actMin, a.actMax);
}

export function qs8_mul__ref(a: MulArgs): void {
  if (a.broadcast == 0) {
    for (let i = 0; i < a.count; i++) {
      store<i8>(a.output + <usize>i, <i8>mulOne(a, <i32>load<i8>(a.in1 + <usize>i), <i32>load<i8>(a.in2 + <usize>i)));
    }
    return;
  }
  let o = 0;
  for (let i0 = 0; i0 < a.d0; i0++) {
    for (let i1 = 0; i1 < a.d1; i1++) {
      for (let i2 = 0; i2 < a.d2; i2++) {
        for (let i3 = 0; i3 < a.d3; i3++) {
          const k1 = i0 * a.s1_0 + i1 * a.s1_1 + i2 * a.s1_2 + i3 * a.s1_3;
          const k2 = i0 * a.s2_0 + i1 * a.s2_1 + i2 * a.s2_2 + i3 * a.s2_3;
          store<i8>(a.output + <usize>o, <i8>mulOne(a, <i32>load<i8>(a.in1 + <usize>k1), <i32>load<i8>(a.in2 + <usize>k2)));
          o++;
        }
      }
    }
  }
}
