// qs8_add__ref: ADD of two int8 tensors with requantization, as TFLite Micro's
// reference_integer_ops::Add / BroadcastAdd4DSlow compute it:
//   v = (inOffset + x) * 2^leftShift, s = multiplyByQuantizedMultiplier(v, inMult, inShift)
//   out = clamp(multiplyByQuantizedMultiplier(s1 + s2, outMult, outShift) + outOffset,
//               actMin, actMax)
// Layout: broadcast == 0: in1, in2 and output are `count` contiguous int8 values.
// broadcast != 0: output is dense [d0][d1][d2][d3]; input k is read at
// sum(i_d * sk_d) (element strides, 0 on broadcast dims).
// Preconditions (checked in prepare): a.p set; output may alias an input only when that
// input has the output's shape and dense strides (elementwise, read before write).

import { AddArgs, AddParams } from "../args";
import { clampI32, multiplyByQuantizedMultiplier } from "../common/fixedpoint";

/** The input side of the spec: one int8 value rescaled to the common 2^leftShift scale. */
// @ts-ignore: decorator
@inline export function addScaleInput(x: i32, offset: i32, leftShift: i32, mult: i32, shift: i32): i32 {
  return multiplyByQuantizedMultiplier((offset + x) * (1 << leftShift), mult, shift);
}

/** The output side: sum of two rescaled inputs back to int8. */
// @ts-ignore: decorator
@inline export function addFinish(sum: i32, p: AddParams): i32 {
  return clampI32(multiplyByQuantizedMultiplier(sum, p.outMult, p.outShift) + p.outOffset, p.actMin, p.actMax);
}

// @ts-ignore: decorator
@inline export function addOne(x1: i32, x2: i32, p: AddParams): i32 {
  const s1 = addScaleInput(x1, p.in1Offset, p.leftShift, p.in1Mult, p.in1Shift);
  const s2 = addScaleInput(x2, p.in2Offset, p.leftShift, p.in2Mult, p.in2Shift);
  return addFinish(s1 + s2, p);
}

export function qs8_add__ref(a: AddArgs): void {
  const p = changetype<AddParams>(a.p);
  if (a.broadcast == 0) {
    for (let i = 0; i < a.count; i++) {
      const x1 = <i32>load<i8>(a.in1 + <usize>i);
      const x2 = <i32>load<i8>(a.in2 + <usize>i);
      store<i8>(a.output + <usize>i, <i8>addOne(x1, x2, p));
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
          const x1 = <i32>load<i8>(a.in1 + <usize>k1);
          const x2 = <i32>load<i8>(a.in2 + <usize>k2);
          store<i8>(a.output + <usize>o, <i8>addOne(x1, x2, p));
          o++;
        }
      }
    }
  }
}
