// Output stage shared by the conv-family kernels: requantize, clamp, optional fused ADD, store.
// The scalar helpers are the specification every kernel ends with; the SIMD helpers (used only
// by the SIMD build, so the MVP build never compiles them) must agree with them bit for bit.

import { AddParams, shiftAt } from "../args";
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

// ---- Fast fused ADD (both builds) ----
// An ADD input x (int8) is rescaled as s = rdbp(srdhm((x + offset) << L, m), e). With
// |x + offset| < 2^9 and T = 31 - L <= 22, srdhm's 64-bit product splits exactly into i32 parts:
// srdhm(x' << L, m) = floor((x' * m + 2^(T-1)) / 2^T) = x' * (m >> T) + ((x' * (m & (2^T-1)) + 2^(T-1)) >> T)
// (floor((a*b + 2^30) / 2^31) is gemmlowp's nudge-and-truncate for every product but
// INT32_MIN * INT32_MIN, and |x' << L| < 2^29). Both products fit 31 bits, so the two input
// rescales need no i64 (WASM3 emulates i64 on 32-bit cores); the output stage keeps one 64-bit
// multiply. TFLite's ADD uses L = 20 (T = 11); other L take the spec path (addInt8).

// Word offsets of the constants addFastSetup writes (scalar block: i32 each; SIMD block: i32x4 each).
const FA_OFF1: i32 = 0, FA_A1: i32 = 1, FA_B1: i32 = 2, FA_E1: i32 = 3, FA_MASK1: i32 = 4;
const FA_OFF2: i32 = 5, FA_A2: i32 = 6, FA_B2: i32 = 7, FA_E2: i32 = 8, FA_MASK2: i32 = 9;
const FA_T: i32 = 10, FA_R: i32 = 11, FA_OUTM: i32 = 12, FA_OUTE: i32 = 13, FA_OUTMASK: i32 = 14;
const FA_OUTOFF: i32 = 15, FA_MIN: i32 = 16, FA_MAX: i32 = 17;
const FA_WORDS: i32 = 18;

// One 72-byte static block (not reentrant; no allocation, so the MVP build may use it at run
// time): rewritten at the start of every kernel call that has a fused ADD.
const addFastScalar: usize = memory.data(FA_WORDS * 4, 16);

// @ts-ignore: decorator
@inline function addFastEligible(p: AddParams): bool {
  return p.leftShift >= 9 && p.leftShift <= 20 && p.in1Shift <= 0 && p.in2Shift <= 0 && p.outShift <= 0;
}

/** Writes the constants as i32 words to addFastScalar; 0 when the fast path does not apply. */
function addFastWords(residual: usize, add: AddParams | null): usize {
  if (residual == 0) return 0;
  const p = changetype<AddParams>(add);
  if (!addFastEligible(p)) return 0;
  const k = addFastScalar;
  const T = 31 - p.leftShift;
  const lowMask = (1 << T) - 1;
  store<i32>(k, p.in1Offset, FA_OFF1 << 2); store<i32>(k, p.in1Mult >> T, FA_A1 << 2);
  store<i32>(k, p.in1Mult & lowMask, FA_B1 << 2); store<i32>(k, -p.in1Shift, FA_E1 << 2);
  store<i32>(k, <i32>((<i64>1 << -p.in1Shift) - 1), FA_MASK1 << 2);
  store<i32>(k, p.in2Offset, FA_OFF2 << 2); store<i32>(k, p.in2Mult >> T, FA_A2 << 2);
  store<i32>(k, p.in2Mult & lowMask, FA_B2 << 2); store<i32>(k, -p.in2Shift, FA_E2 << 2);
  store<i32>(k, <i32>((<i64>1 << -p.in2Shift) - 1), FA_MASK2 << 2);
  store<i32>(k, T, FA_T << 2); store<i32>(k, 1 << (T - 1), FA_R << 2);
  store<i32>(k, p.outMult, FA_OUTM << 2); store<i32>(k, -p.outShift, FA_OUTE << 2);
  store<i32>(k, <i32>((<i64>1 << -p.outShift) - 1), FA_OUTMASK << 2);
  store<i32>(k, p.outOffset, FA_OUTOFF << 2); store<i32>(k, p.actMin, FA_MIN << 2); store<i32>(k, p.actMax, FA_MAX << 2);
  return k;
}

/**
 * Scalar constants of a fused ADD for addInt8Fast, or 0 when there is none (residual == 0) or
 * its shifts are outside the fast path's range (then storeOutputFused uses addInt8).
 */
export function addFastSetup(residual: usize, add: AddParams | null): usize {
  return addFastWords(residual, add);
}

// @ts-ignore: decorator
@inline function rdbpScalar(x: i32, e: i32, mask: i32): i32 {
  return (x >> e) + <i32>((x & mask) > (mask >> 1) + (x >>> 31));
}

/** addInt8(x1, x2, p) with the constants k = addFastSetup(...) (see the section comment). */
// @ts-ignore: decorator
@inline export function addInt8Fast(x1: i32, x2: i32, k: usize): i32 {
  const T = load<i32>(k, FA_T << 2), R = load<i32>(k, FA_R << 2);
  const v1 = x1 + load<i32>(k, FA_OFF1 << 2), v2 = x2 + load<i32>(k, FA_OFF2 << 2);
  const h1 = v1 * load<i32>(k, FA_A1 << 2) + ((v1 * load<i32>(k, FA_B1 << 2) + R) >> T);
  const h2 = v2 * load<i32>(k, FA_A2 << 2) + ((v2 * load<i32>(k, FA_B2 << 2) + R) >> T);
  const s = rdbpScalar(h1, load<i32>(k, FA_E1 << 2), load<i32>(k, FA_MASK1 << 2)) +
    rdbpScalar(h2, load<i32>(k, FA_E2 << 2), load<i32>(k, FA_MASK2 << 2));
  const r = <i32>((<i64>s * <i64>load<i32>(k, FA_OUTM << 2) + (<i64>1 << 30)) >> 31);
  const q = rdbpScalar(r, load<i32>(k, FA_OUTE << 2), load<i32>(k, FA_OUTMASK << 2)) + load<i32>(k, FA_OUTOFF << 2);
  return clampI32(q, load<i32>(k, FA_MIN << 2), load<i32>(k, FA_MAX << 2));
}

/** storeOutput with the fast ADD when k != 0 (k = addFastSetup(residual, add)). */
// @ts-ignore: decorator
@inline export function storeOutputFused(output: usize, index: usize, q: i32, residual: usize, add: AddParams | null, k: usize): void {
  if (residual != 0) storeAdded(output, index, q, residual, add, k);
  else store<i8>(output + index, q);
}

/**
 * storeOutputFused for 4 consecutive bytes (index..index+3) with residual != 0: the fast path's
 * constants are read into locals once for the 4 values.
 */
export function storeAdded4(output: usize, index: usize, q0: i32, q1: i32, q2: i32, q3: i32, residual: usize,
    add: AddParams | null, k: usize): void {
  if (k == 0) {
    storeAdded(output, index, q0, residual, add, 0); storeAdded(output, index + 1, q1, residual, add, 0);
    storeAdded(output, index + 2, q2, residual, add, 0); storeAdded(output, index + 3, q3, residual, add, 0);
    return;
  }
  const T = load<i32>(k, FA_T << 2), R = load<i32>(k, FA_R << 2);
  const off1 = load<i32>(k, FA_OFF1 << 2), A1 = load<i32>(k, FA_A1 << 2), B1 = load<i32>(k, FA_B1 << 2);
  const e1 = load<i32>(k, FA_E1 << 2), mask1 = load<i32>(k, FA_MASK1 << 2);
  const off2 = load<i32>(k, FA_OFF2 << 2), A2 = load<i32>(k, FA_A2 << 2), B2 = load<i32>(k, FA_B2 << 2);
  const e2 = load<i32>(k, FA_E2 << 2), mask2 = load<i32>(k, FA_MASK2 << 2);
  const M = <i64>load<i32>(k, FA_OUTM << 2), E = load<i32>(k, FA_OUTE << 2), maskE = load<i32>(k, FA_OUTMASK << 2);
  const zp = load<i32>(k, FA_OUTOFF << 2), lo = load<i32>(k, FA_MIN << 2), hi = load<i32>(k, FA_MAX << 2);
  const r = residual + index, o = output + index;
  // All 4 residual bytes are read before any output byte is written (they may alias).
  const x0 = <i32>load<i8>(r), x1 = <i32>load<i8>(r, 1), x2 = <i32>load<i8>(r, 2), x3 = <i32>load<i8>(r, 3);
  store<i8>(o, addFastLocals(q0, x0, T, R, off1, A1, B1, e1, mask1, off2, A2, B2, e2, mask2, M, E, maskE, zp, lo, hi));
  store<i8>(o, addFastLocals(q1, x1, T, R, off1, A1, B1, e1, mask1, off2, A2, B2, e2, mask2, M, E, maskE, zp, lo, hi), 1);
  store<i8>(o, addFastLocals(q2, x2, T, R, off1, A1, B1, e1, mask1, off2, A2, B2, e2, mask2, M, E, maskE, zp, lo, hi), 2);
  store<i8>(o, addFastLocals(q3, x3, T, R, off1, A1, B1, e1, mask1, off2, A2, B2, e2, mask2, M, E, maskE, zp, lo, hi), 3);
}

// @ts-ignore: decorator
@inline function addFastLocals(x1: i32, x2: i32, T: i32, R: i32, off1: i32, A1: i32, B1: i32, e1: i32, mask1: i32,
    off2: i32, A2: i32, B2: i32, e2: i32, mask2: i32, M: i64, E: i32, maskE: i32, zp: i32, lo: i32, hi: i32): i32 {
  const v1 = x1 + off1, v2 = x2 + off2;
  const s = rdbpScalar(v1 * A1 + ((v1 * B1 + R) >> T), e1, mask1) + rdbpScalar(v2 * A2 + ((v2 * B2 + R) >> T), e2, mask2);
  const r = <i32>((<i64>s * M + (<i64>1 << 30)) >> 31);
  return clampI32(rdbpScalar(r, E, maskE) + zp, lo, hi);
}

// Out of line so the kernels' inner loops stay small.
function storeAdded(output: usize, index: usize, q: i32, residual: usize, add: AddParams | null, k: usize): void {
  const r = <i32>load<i8>(residual + index);
  store<i8>(output + index, k != 0 ? addInt8Fast(q, r, k) : addInt8(q, r, changetype<AddParams>(add)));
}

// ---- SIMD output stage (SIMD build only) ----

/**
 * Per-lane requantization constants for a group of 4 output channels, 112 bytes. Two layouts,
 * told apart by the i32 at +96 (E):
 * - E == 0 (general): +0 bias, +16 multiplier, +32 2^leftShift, +48 mask 2^e-1, +64 mask>>1,
 *   +80 2^(31-e) (u32), where e = max(0, -shift);
 * - E in [1, 21] (every channel's shift <= 0, E = the group's largest exponent e): +0 bias,
 *   +16 multiplier, +32 2^(E-e), +48 -L, +64 L with L = floor((2^31 - 2^E) / 2^(E-e)),
 *   +80 2^(E-1). rdbp(r, e) == rdbp(r * 2^(E-e), E) (the same rational), so one shift count
 *   serves all 4 lanes: about 10 fewer operations than the per-lane floor of the general layout.
 *   Clamping r to +-L first keeps r * 2^(E-e) + 2^(E-1) inside i32 and changes nothing: any
 *   |r| >= L gives |rdbp(r, e)| >= 2^(31-E) - 2 >= 1022, which the int8 clamp saturates either way.
 * Lanes n..3 and negative channels (outside the tensor) get harmless zeros.
 */
export const RQ_GROUP_BYTES: i32 = 112;
const RQ_FAST_MAX_E: i32 = 21;

export function packRequantGroup(dst: usize, bias: usize, mult: usize, shift: usize, multStride: i32, ch0: i32, n: i32): void {
  let E = 0, fast = true;
  for (let l = 0; l < 4; l++) {
    if (l < n && ch0 + l >= 0) {
      const s = shiftAt(shift, ch0 + l, multStride);
      if (s > 0) fast = false;
      else E = max(E, -s);
    }
  }
  if (E < 1 || E > RQ_FAST_MAX_E) fast = false;
  for (let l = 0; l < 4; l++) {
    let b = 0, m = 0, s = 0;
    const valid = l < n && ch0 + l >= 0;
    if (valid) {
      const ch = ch0 + l;
      b = bias != 0 ? load<i32>(bias + (<usize>ch << 2)) : 0;
      m = load<i32>(mult + <usize>(ch * multStride));
      s = shiftAt(shift, ch, multStride);
    }
    const lane = dst + (<usize>l << 2);
    store<i32>(lane, b);
    store<i32>(lane, m, 16);
    if (fast) {
      const d = valid ? E + s : 0; // E - e
      const L = <i32>(((<i64>1 << 31) - (<i64>1 << E)) >> d);
      store<i32>(lane, 1 << d, 32);
      store<i32>(lane, -L, 48);
      store<i32>(lane, L, 64);
      store<i32>(lane, 1 << (E - 1), 80);
    } else {
      const left = s > 0 ? s : 0;
      const e = s > 0 ? 0 : -s;
      const mask = <i32>((<i64>1 << e) - 1);
      store<i32>(lane, 1 << left, 32);
      store<i32>(lane, mask, 48);
      store<i32>(lane, mask >> 1, 64);
      store<u32>(lane, <u32>1 << <u32>(31 - e), 80);
    }
    store<i32>(lane, l == 0 && fast ? E : 0, 96);
  }
}

/**
 * Requantizes 4 accumulators (bias included) with the constants at rq (see packRequantGroup),
 * adds the output offset and clamps: lane for lane equal to requantize(). Precondition: the
 * multipliers are >= 0 (TFLite's are in [2^30, 2^31)), so SRDHM's saturation case cannot occur.
 */
// @ts-ignore: decorator
@inline export function requantizeI32x4(acc: v128, rq: usize, outOffset: v128, lo: v128, hi: v128): v128 {
  const E = load<i32>(rq, 96);
  const m = v128.load(rq, 16);
  const nudge = i64x2.splat(<i64>1 << 30);
  if (E != 0) {
    // SRDHM: (acc*m + 2^30) >> 31 (floor), the low 32 bits of each 64-bit lane (no left shifts here).
    const plo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(acc, m), nudge), 31);
    const phi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(acc, m), nudge), 31);
    const r = v128.shuffle<i32>(plo, phi, 0, 2, 4, 6);
    const v = i32x4.mul(i32x4.min_s(i32x4.max_s(r, v128.load(rq, 48)), v128.load(rq, 64)), v128.load(rq, 32));
    // rdbp(v, E) = (v + 2^(E-1) - [v < 0]) >> E for E >= 1.
    const q = i32x4.shr_s(i32x4.add(i32x4.add(v, v128.load(rq, 80)), i32x4.shr_s(v, 31)), E);
    return i32x4.min_s(i32x4.max_s(i32x4.add(q, outOffset), lo), hi);
  }
  const x = i32x4.mul(acc, v128.load(rq, 32));
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

// The SIMD build's splat copy (288 bytes; the MVP build never references it).
const addFastVector: usize = memory.data(FA_WORDS * 16, 16);

/** SIMD twin of addFastSetup: the same constants, each splat to 4 lanes (shift counts read from lane 0). */
export function addFastSetupI32x4(residual: usize, add: AddParams | null): usize {
  const k = addFastWords(residual, add);
  if (k == 0) return 0;
  for (let i = 0; i < FA_WORDS; i++) v128.store(addFastVector + (<usize>i << 4), i32x4.splat(load<i32>(k + (<usize>i << 2))));
  return addFastVector;
}

// rdbp(h, e) for |h| < 2^30: (h + half + (h < 0 && e > 0 ? -1 : 0)) >> e, with half = 2^(e-1)
// (0 when e == 0) and nz = -1 when e > 0, else 0.
// @ts-ignore: decorator
@inline function rdbpSmallI32x4(h: v128, e: i32, half: v128, nz: v128): v128 {
  return i32x4.shr_s(i32x4.add(i32x4.add(h, half), v128.and(i32x4.shr_s(h, 31), nz)), e);
}

// One ADD input rescaled (see the section comment): v = x + offset, then srdhm split in two i32 products.
// @ts-ignore: decorator
@inline function rescaleI32x4(x: v128, off: v128, A: v128, B: v128, R: v128, T: i32, e: i32, half: v128, nz: v128): v128 {
  const v = i32x4.add(x, off);
  const h = i32x4.add(i32x4.mul(v, A), i32x4.shr_s(i32x4.add(i32x4.mul(v, B), R), T));
  return rdbpSmallI32x4(h, e, half, nz);
}

// rdbpSmallI32x4's constants for exponent e.
// @ts-ignore: decorator
@inline function halfOf(e: i32): v128 {
  return i32x4.splat(e > 0 ? 1 << (e - 1) : 0);
}
// @ts-ignore: decorator
@inline function nzOf(e: i32): v128 {
  return i32x4.splat(e > 0 ? -1 : 0);
}

/**
 * Fused-ADD pass over n bytes (SIMD build): out[i] = ADD(q[i], residual[i]). residual may alias
 * out (each 16-byte block is read before it is written); q must not overlap either. fast is
 * addFastSetupI32x4(residual, add) (0: the spec-shaped vector path).
 */
export function addRowI8(out: usize, q: usize, residual: usize, n: i32, add: AddParams | null, fast: usize): void {
  let i = 0;
  if (fast != 0) {
    const k = fast;
    const off1 = v128.load(k, FA_OFF1 << 4), A1 = v128.load(k, FA_A1 << 4), B1 = v128.load(k, FA_B1 << 4);
    const off2 = v128.load(k, FA_OFF2 << 4), A2 = v128.load(k, FA_A2 << 4), B2 = v128.load(k, FA_B2 << 4);
    const R = v128.load(k, FA_R << 4), T = load<i32>(k, FA_T << 4);
    const e1 = load<i32>(k, FA_E1 << 4), half1 = halfOf(e1), nz1 = nzOf(e1);
    const e2 = load<i32>(k, FA_E2 << 4), half2 = halfOf(e2), nz2 = nzOf(e2);
    const M = v128.load(k, FA_OUTM << 4), E = load<i32>(k, FA_OUTE << 4), halfO = halfOf(E), nzO = nzOf(E);
    const zp = v128.load(k, FA_OUTOFF << 4), lo = v128.load(k, FA_MIN << 4), hi = v128.load(k, FA_MAX << 4);
    const nudge = i64x2.splat(<i64>1 << 30);
    for (; i + 8 <= n; i += 8) {
      const j = <usize>i;
      const qv = i16x8.extend_low_i8x16_s(v128.load64_zero(q + j)), rv = i16x8.extend_low_i8x16_s(v128.load64_zero(residual + j));
      // Lanes 0-3 and 4-7: s = rescale(q) + rescale(r), then srdhm(s, M) in 64-bit lanes and rdbp.
      const s0 = i32x4.add(rescaleI32x4(i32x4.extend_low_i16x8_s(qv), off1, A1, B1, R, T, e1, half1, nz1),
        rescaleI32x4(i32x4.extend_low_i16x8_s(rv), off2, A2, B2, R, T, e2, half2, nz2));
      const s1 = i32x4.add(rescaleI32x4(i32x4.extend_high_i16x8_s(qv), off1, A1, B1, R, T, e1, half1, nz1),
        rescaleI32x4(i32x4.extend_high_i16x8_s(rv), off2, A2, B2, R, T, e2, half2, nz2));
      const h0 = v128.shuffle<i32>(i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(s0, M), nudge), 31),
        i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(s0, M), nudge), 31), 0, 2, 4, 6);
      const h1 = v128.shuffle<i32>(i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(s1, M), nudge), 31),
        i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(s1, M), nudge), 31), 0, 2, 4, 6);
      // |h| < 2^30: the out stage's input is below 2^30 and its multiplier below 2^31.
      const o0 = i32x4.add(rdbpSmallI32x4(h0, E, halfO, nzO), zp);
      const o1 = i32x4.add(rdbpSmallI32x4(h1, E, halfO, nzO), zp);
      const b = i16x8.narrow_i32x4_s(i32x4.min_s(i32x4.max_s(o0, lo), hi), i32x4.min_s(i32x4.max_s(o1, lo), hi));
      v128.store64_lane(out + j, i8x16.narrow_i16x8_s(b, b), 0);
    }
  } else {
    const p = changetype<AddParams>(add);
    for (; i + 8 <= n; i += 8) {
      const j = <usize>i;
      const qv = i16x8.extend_low_i8x16_s(v128.load64_zero(q + j)), rv = i16x8.extend_low_i8x16_s(v128.load64_zero(residual + j));
      const o0 = addInt8I32x4(i32x4.extend_low_i16x8_s(qv), i32x4.extend_low_i16x8_s(rv), p);
      const o1 = addInt8I32x4(i32x4.extend_high_i16x8_s(qv), i32x4.extend_high_i16x8_s(rv), p);
      v128.store64_lane(out + j, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(o0, o1), o0), 0);
    }
  }
  const k = fast != 0 ? addFastScalar : 0; // addFastSetupI32x4 filled both blocks
  for (; i < n; i++) {
    const j = <usize>i;
    const x1 = <i32>load<i8>(q + j), x2 = <i32>load<i8>(residual + j);
    store<i8>(out + j, k != 0 ? addInt8Fast(x1, x2, k) : addInt8(x1, x2, changetype<AddParams>(add)));
  }
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
