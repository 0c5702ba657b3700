// Output stage shared by the conv-family kernels: requantize, clamp, optional fused ADD, store.
// The scalar helpers are the specification every kernel ends with; the SIMD helpers (used only
// by the SIMD build, so the MVP build never compiles them) must agree with them bit for bit.

import { AddParams } from "../args";
import { multiplyByQuantizedMultiplier, clampI32 } from "./fixedpoint";

/** TFLite ADD int8 of two quantized values (TFLM reference_integer_ops::Add, one element). */
// @ts-ignore: decorator
@inline export function addInt8(x1: i32, x2: i32, p: AddParams): i32 {
  const v1 = (p.in1Offset + x1) * (1 << p.leftShift);
  const v2 = (p.in2Offset + x2) * (1 << p.leftShift);
  const s1 = multiplyByQuantizedMultiplier(v1, p.in1Mult, p.in1Shift);
  const s2 = multiplyByQuantizedMultiplier(v2, p.in2Mult, p.in2Shift);
  const raw = multiplyByQuantizedMultiplier(s1 + s2, p.outMult, p.outShift) + p.outOffset;
  return clampI32(raw, p.actMin, p.actMax);
}

/** Requantizes one accumulator (bias already added) to the clamped int8 value q of an unfused op. */
// @ts-ignore: decorator
@inline export function requantize(acc: i32, mult: i32, shift: i32, outOffset: i32, actMin: i32, actMax: i32): i32 {
  return clampI32(multiplyByQuantizedMultiplier(acc, mult, shift) + outOffset, actMin, actMax);
}

/**
 * requantize() in fewer operations, for the scalar fast kernels: SRDHM as (x*m + 2^30) >> 31
 * (floor; equal to the spec's sign-dependent nudge and truncating division) and the rounding
 * division with one compare. Precondition: mult >= 0 (TFLite's multipliers are in [2^30, 2^31)),
 * so SRDHM's saturation case (both operands INT32_MIN) cannot occur.
 */
// @ts-ignore: decorator
@inline export function requantizeScalar(acc: i32, mult: i32, shift: i32, outOffset: i32, actMin: i32, actMax: i32): i32 {
  const e = shift > 0 ? 0 : -shift;
  const r = <i32>((<i64>(acc << (shift > 0 ? shift : 0)) * <i64>mult + (<i64>1 << 30)) >> 31);
  const mask = (1 << e) - 1;
  const q = (r >> e) + <i32>((r & mask) > (mask >> 1) + (r >>> 31));
  return clampI32(q + outOffset, actMin, actMax);
}

/**
 * Stores output element `index` (byte offset from `output`): q when there is no residual, else
 * ADD(q, residual[index]). residual may alias output: it is read here, just before the write.
 */
// @ts-ignore: decorator
@inline export function storeOutput(output: usize, index: usize, q: i32, residual: usize, add: AddParams | null): void {
  if (residual != 0) q = addInt8(q, <i32>load<i8>(residual + index), changetype<AddParams>(add));
  store<i8>(output + index, q);
}

// ---- SIMD output stage (SIMD build only) ----

/**
 * Per-lane requantization constants for a group of 4 output channels, 96 bytes:
 * +0 bias, +16 multiplier, +32 2^leftShift, +48 mask 2^e-1, +64 mask>>1, +80 2^(31-e) (u32),
 * where e = max(0, -shift). Lanes n..3 and negative channels (outside the tensor) get harmless zeros.
 */
export const RQ_GROUP_BYTES: i32 = 96;

export function packRequantGroup(dst: usize, bias: usize, mult: usize, shift: usize, multStride: i32, ch0: i32, n: i32): void {
  for (let l = 0; l < 4; l++) {
    let b = 0, m = 0, s = 0;
    if (l < n && ch0 + l >= 0) {
      const ch = ch0 + l;
      b = bias != 0 ? load<i32>(bias + (<usize>ch << 2)) : 0;
      m = load<i32>(mult + <usize>(ch * multStride));
      s = load<i32>(shift + <usize>(ch * multStride));
    }
    const left = s > 0 ? s : 0;
    const e = s > 0 ? 0 : -s;
    const mask = <i32>((<i64>1 << e) - 1);
    const lane = dst + (<usize>l << 2);
    store<i32>(lane, b);
    store<i32>(lane, m, 16);
    store<i32>(lane, 1 << left, 32);
    store<i32>(lane, mask, 48);
    store<i32>(lane, mask >> 1, 64);
    store<u32>(lane, <u32>1 << <u32>(31 - e), 80);
  }
}

/**
 * Requantizes 4 accumulators (bias included) with the constants at rq (see packRequantGroup),
 * adds the output offset and clamps: lane for lane equal to requantize(). Precondition: the
 * multipliers are >= 0 (TFLite's are in [2^30, 2^31)), so SRDHM's saturation case cannot occur.
 */
// @ts-ignore: decorator
@inline export function requantizeI32x4(acc: v128, rq: usize, outOffset: v128, lo: v128, hi: v128): v128 {
  const x = i32x4.mul(acc, v128.load(rq, 32));
  const m = v128.load(rq, 16);
  const nudge = i64x2.splat(<i64>1 << 30);
  // SRDHM: (x*m + 2^30) >> 31 (floor), the low 32 bits of each 64-bit lane.
  const plo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(x, m), nudge), 31);
  const phi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(x, m), nudge), 31);
  const r = v128.shuffle<i32>(plo, phi, 0, 2, 4, 6);
  // floor(r / 2^e) per lane: ((r + 2^31) as u32 * 2^(31-e)) >> 31, minus 2^(31-e).
  const p2 = v128.load(rq, 80);
  const u = v128.xor(r, i32x4.splat(i32.MIN_VALUE));
  const flo = i64x2.shr_u(i64x2.extmul_low_i32x4_u(u, p2), 31);
  const fhi = i64x2.shr_u(i64x2.extmul_high_i32x4_u(u, p2), 31);
  const fl = i32x4.sub(v128.shuffle<i32>(flo, fhi, 0, 2, 4, 6), p2);
  // Round half away from zero as roundingDivideByPot does.
  const rem = v128.and(r, v128.load(rq, 48));
  const thr = i32x4.sub(v128.load(rq, 64), i32x4.shr_s(r, 31));
  const q = i32x4.add(i32x4.sub(fl, i32x4.gt_s(rem, thr)), outOffset);
  return i32x4.min_s(i32x4.max_s(q, lo), hi);
}

/** multiplyByQuantizedMultiplier on 4 lanes with one multiplier (>= 0) and shift for all lanes. */
// @ts-ignore: decorator
@inline function mulByQuantizedMultiplierI32x4(x: v128, mult: i32, shift: i32): v128 {
  const e = shift > 0 ? 0 : -shift;
  const xs = i32x4.shl(x, shift > 0 ? shift : 0);
  const m = i32x4.splat(mult);
  const nudge = i64x2.splat(<i64>1 << 30);
  const plo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(xs, m), nudge), 31);
  const phi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(xs, m), nudge), 31);
  const r = v128.shuffle<i32>(plo, phi, 0, 2, 4, 6);
  const mask = <i32>((<i64>1 << e) - 1);
  const rem = v128.and(r, i32x4.splat(mask));
  const thr = i32x4.sub(i32x4.splat(mask >> 1), i32x4.shr_s(r, 31));
  return i32x4.sub(i32x4.shr_s(r, e), i32x4.gt_s(rem, thr));
}

/** addInt8 on 4 lanes (q = conv values, r = residual values, both as i32 lanes). */
// @ts-ignore: decorator
@inline function addInt8I32x4(q: v128, r: v128, p: AddParams): v128 {
  const s1 = mulByQuantizedMultiplierI32x4(i32x4.shl(i32x4.add(q, i32x4.splat(p.in1Offset)), p.leftShift), p.in1Mult, p.in1Shift);
  const s2 = mulByQuantizedMultiplierI32x4(i32x4.shl(i32x4.add(r, i32x4.splat(p.in2Offset)), p.leftShift), p.in2Mult, p.in2Shift);
  const raw = i32x4.add(mulByQuantizedMultiplierI32x4(i32x4.add(s1, s2), p.outMult, p.outShift), i32x4.splat(p.outOffset));
  return i32x4.min_s(i32x4.max_s(raw, i32x4.splat(p.actMin)), i32x4.splat(p.actMax));
}

// Lane spill area for stores that cannot take a whole vector (channel tails, fused ADD).
const laneTmp: usize = memory.data(32, 16);

/**
 * Stores 8 requantized lanes q0|q1 for channels ch0.. of one pixel (`index` = byte offset of
 * channel ch0 in output): lanes first..n-1 only, through the fused ADD when residual != 0
 * (vectorized when all 8 lanes are stored, lane by lane otherwise).
 */
// @ts-ignore: decorator
@inline export function storeLanes8(output: usize, index: usize, q0: v128, q1: v128, first: i32, n: i32,
    residual: usize, add: AddParams | null): void {
  if (first == 0 && n == 8) {
    if (residual != 0) {
      // The 8 residual bytes are read before the 8 output bytes are written (they may alias).
      const r = i16x8.extend_low_i8x16_s(v128.load64_zero(residual + index));
      const p = changetype<AddParams>(add);
      q0 = addInt8I32x4(q0, i32x4.extend_low_i16x8_s(r), p);
      q1 = addInt8I32x4(q1, i32x4.extend_high_i16x8_s(r), p);
    }
    const b = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), q0);
    v128.store64_lane(output + index, b, 0);
    return;
  }
  v128.store(laneTmp, q0);
  v128.store(laneTmp, q1, 16);
  for (let l = first; l < n; l++) {
    storeOutput(output, index + <usize>l, load<i32>(laneTmp + (<usize>l << 2)), residual, add);
  }
}
