// qs8_add_lut__mvp: ADD for the MVP build, bit-exact to add/ref.ts.
// Each input takes only 256 values, so its rescaled value (offset, left shift, multiplier)
// is tabulated once per call; per element only the output requantization remains, with the
// high multiply done as one shift ((a*b + 2^30) >> 31 equals gemmlowp's nudge-and-truncate
// rounding for every product; only a == b == INT32_MIN saturates, which a multiplier never is).
// Handles both the same-shape and the broadcast layout of AddArgs. Calls with fewer than
// ADD_LUT_MIN_COUNT elements take the reference (building the tables would cost more).
// The tables live in the op's planned scratch (ADD_LUT_BYTES of the arena, see addScratchBytes),
// so they cost RAM only while an ADD runs.

import { AddArgs, AddParams } from "../args";
import { clampI32, roundingDivideByPot } from "../common/fixedpoint";
import { addScaleInput, qs8_add__ref } from "./ref";

/** Calls this large and larger get tables; the same constants are in host/format/scratch.ts. */
export const ADD_LUT_MIN_COUNT: i32 = 512;
export const ADD_LUT_BYTES: i32 = 2048; // [in1: 256 x i32][in2: 256 x i32], index x + 128

/** Scratch an ADD of `count` output elements needs (build-independent). */
export function addScratchBytes(count: i32): i32 {
  return count >= ADD_LUT_MIN_COUNT ? ADD_LUT_BYTES : 0;
}

/** srdhm for b != INT32_MIN: one 64-bit multiply, add and shift (see the header). */
// @ts-ignore: decorator
@inline export function srdhmByShift(a: i32, b: i32): i32 {
  return <i32>((<i64>a * <i64>b + (<i64>1 << 30)) >> 31);
}

// @ts-ignore: decorator
@inline function requantOut(sum: i32, p: AddParams): i32 {
  // outShift <= 0 for ADD (QuantizeMultiplierSmallerThanOneExp); positive shifts go to ref.
  const high = srdhmByShift(sum, p.outMult);
  return clampI32(roundingDivideByPot(high, -p.outShift) + p.outOffset, p.actMin, p.actMax);
}

export function qs8_add_lut__mvp(a: AddArgs): void {
  const p = changetype<AddParams>(a.p);
  if (a.count < ADD_LUT_MIN_COUNT || a.scratch == 0 || p.outShift > 0 || p.outMult == i32.MIN_VALUE) {
    qs8_add__ref(a);
    return;
  }
  const t1 = a.scratch;
  const t2 = a.scratch + 1024;
  for (let x = -128; x < 128; x++) {
    const k = <usize>((x + 128) << 2);
    store<i32>(t1 + k, addScaleInput(x, p.in1Offset, p.leftShift, p.in1Mult, p.in1Shift));
    store<i32>(t2 + k, addScaleInput(x, p.in2Offset, p.leftShift, p.in2Mult, p.in2Shift));
  }
  // Index by the byte value biased to 0..255: (x + 128) * 4.
  if (a.broadcast == 0) {
    for (let i = 0; i < a.count; i++) {
      const k1 = <usize>((<i32>load<i8>(a.in1 + <usize>i) + 128) << 2);
      const k2 = <usize>((<i32>load<i8>(a.in2 + <usize>i) + 128) << 2);
      store<i8>(a.output + <usize>i, <i8>requantOut(load<i32>(t1 + k1) + load<i32>(t2 + k2), p));
    }
    return;
  }
  let out = a.output;
  for (let i0 = 0; i0 < a.d0; i0++) {
    for (let i1 = 0; i1 < a.d1; i1++) {
      for (let i2 = 0; i2 < a.d2; i2++) {
        let q1 = a.in1 + <usize>(i0 * a.s1_0 + i1 * a.s1_1 + i2 * a.s1_2);
        let q2 = a.in2 + <usize>(i0 * a.s2_0 + i1 * a.s2_1 + i2 * a.s2_2);
        for (let i3 = 0; i3 < a.d3; i3++) {
          const k1 = <usize>((<i32>load<i8>(q1) + 128) << 2);
          const k2 = <usize>((<i32>load<i8>(q2) + 128) << 2);
          store<i8>(out, <i8>requantOut(load<i32>(t1 + k1) + load<i32>(t2 + k2), p));
          q1 += <usize>a.s1_3;
          q2 += <usize>a.s2_3;
          out++;
        }
      }
    }
  }
}
