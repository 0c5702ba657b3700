// qs8_add_16x__simd: same-shape ADD (AddArgs.broadcast == 0), 16 elements per step in
// SIMD128, bit-exact to add/ref.ts; the count % 16 tail runs the scalar formula.
// The fixed-point helpers are lane-wise copies of common/fixedpoint.ts:
// - srdhm(a, b) = (a * b + 2^30) >> 31 in 64-bit lanes: for a negative product gemmlowp's
//   nudge (1 - 2^30) followed by truncation toward zero lands on the same integer as this
//   floor; only a == b == INT32_MIN would saturate, and the multiplier never is INT32_MIN
//   (the kernel falls back to the reference if it is);
// - roundingDivideByPot with the spec's mask/threshold rule.
// Layout as in ref.ts. Output may alias an input: each block is loaded before it is stored.

import { AddArgs, AddParams } from "../args";
import { addOne, qs8_add__ref } from "./ref";

// @ts-ignore: decorator
@inline export function srdhmV(x: v128, mult: v128): v128 {
  const nudge = i64x2.splat(<i64>1 << 30);
  const lo = i64x2.shr_s(i64x2.add(i64x2.extmul_low_i32x4_s(x, mult), nudge), 31);
  const hi = i64x2.shr_s(i64x2.add(i64x2.extmul_high_i32x4_s(x, mult), nudge), 31);
  return i32x4.shuffle(lo, hi, 0, 2, 4, 6);
}

// @ts-ignore: decorator
@inline export function roundingDivideByPotV(x: v128, exponent: i32): v128 {
  const mask = i32x4.splat(<i32>((<i64>1 << exponent) - 1));
  const remainder = v128.and(x, mask);
  // threshold = mask/2 + (x < 0 ? 1 : 0); comparisons give -1 for true.
  const threshold = i32x4.sub(i32x4.shr_s(mask, 1), i32x4.lt_s(x, i32x4.splat(0)));
  return i32x4.sub(i32x4.shr_s(x, exponent), i32x4.gt_s(remainder, threshold));
}

/** multiplyByQuantizedMultiplier on four lanes (shift > 0 scales up first). */
// @ts-ignore: decorator
@inline function mulQuantV(x: v128, mult: v128, shift: i32): v128 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return roundingDivideByPotV(srdhmV(i32x4.shl(x, left), mult), right);
}

// @ts-ignore: decorator
@inline function addLanes(x1: v128, x2: v128, p: AddParams, m1: v128, m2: v128, mo: v128, off1: v128, off2: v128, outOff: v128): v128 {
  const s1 = mulQuantV(i32x4.shl(i32x4.add(x1, off1), p.leftShift), m1, p.in1Shift);
  const s2 = mulQuantV(i32x4.shl(i32x4.add(x2, off2), p.leftShift), m2, p.in2Shift);
  return i32x4.add(mulQuantV(i32x4.add(s1, s2), mo, p.outShift), outOff);
}

export function qs8_add_16x__simd(a: AddArgs): void {
  const p = changetype<AddParams>(a.p);
  if (a.broadcast != 0 || p.in1Mult == i32.MIN_VALUE || p.in2Mult == i32.MIN_VALUE || p.outMult == i32.MIN_VALUE) {
    qs8_add__ref(a);
    return;
  }
  const m1 = i32x4.splat(p.in1Mult);
  const m2 = i32x4.splat(p.in2Mult);
  const mo = i32x4.splat(p.outMult);
  const off1 = i32x4.splat(p.in1Offset);
  const off2 = i32x4.splat(p.in2Offset);
  const outOff = i32x4.splat(p.outOffset);
  const lo = i32x4.splat(p.actMin);
  const hi = i32x4.splat(p.actMax);
  const n = a.count;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const v1 = v128.load(a.in1 + <usize>i);
    const v2 = v128.load(a.in2 + <usize>i);
    const a16lo = i16x8.extend_low_i8x16_s(v1);
    const a16hi = i16x8.extend_high_i8x16_s(v1);
    const b16lo = i16x8.extend_low_i8x16_s(v2);
    const b16hi = i16x8.extend_high_i8x16_s(v2);
    let r0 = addLanes(i32x4.extend_low_i16x8_s(a16lo), i32x4.extend_low_i16x8_s(b16lo), p, m1, m2, mo, off1, off2, outOff);
    let r1 = addLanes(i32x4.extend_high_i16x8_s(a16lo), i32x4.extend_high_i16x8_s(b16lo), p, m1, m2, mo, off1, off2, outOff);
    let r2 = addLanes(i32x4.extend_low_i16x8_s(a16hi), i32x4.extend_low_i16x8_s(b16hi), p, m1, m2, mo, off1, off2, outOff);
    let r3 = addLanes(i32x4.extend_high_i16x8_s(a16hi), i32x4.extend_high_i16x8_s(b16hi), p, m1, m2, mo, off1, off2, outOff);
    r0 = i32x4.min_s(i32x4.max_s(r0, lo), hi);
    r1 = i32x4.min_s(i32x4.max_s(r1, lo), hi);
    r2 = i32x4.min_s(i32x4.max_s(r2, lo), hi);
    r3 = i32x4.min_s(i32x4.max_s(r3, lo), hi);
    // Values are already in [actMin, actMax] within int8, so the saturating narrows are exact.
    v128.store(a.output + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(r0, r1), i16x8.narrow_i32x4_s(r2, r3)));
  }
  for (; i < n; i++) {
    const x1 = <i32>load<i8>(a.in1 + <usize>i);
    const x2 = <i32>load<i8>(a.in2 + <usize>i);
    store<i8>(a.output + <usize>i, <i8>addOne(x1, x2, p));
  }
}
