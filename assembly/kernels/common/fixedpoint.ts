// Fixed-point helpers of the TFLite quantization spec (gemmlowp's rounding rules).
// Every int8 kernel requantizes through these, so reference and fast kernels agree bit for bit.

/** (a * b * 2) >> 32 with round-to-nearest; saturates the single overflow case a == b == INT32_MIN. */
// @ts-ignore: decorator
@inline export function srdhm(a: i32, b: i32): i32 {
  if (a == b && a == i32.MIN_VALUE) return i32.MAX_VALUE;
  const ab = <i64>a * <i64>b;
  const nudge: i64 = ab >= 0 ? (<i64>1 << 30) : (<i64>1 - (<i64>1 << 30));
  return <i32>((ab + nudge) / (<i64>1 << 31));
}

/** x / 2^exponent rounded to nearest, ties away from zero (exponent in 0..31). */
// @ts-ignore: decorator
@inline export function roundingDivideByPot(x: i32, exponent: i32): i32 {
  const mask = <i32>((<i64>1 << exponent) - 1);
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** x * multiplier * 2^shift, the spec's requantization (shift > 0 scales up first). */
// @ts-ignore: decorator
@inline export function multiplyByQuantizedMultiplier(x: i32, multiplier: i32, shift: i32): i32 {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPot(srdhm(x * (1 << leftShift), multiplier), rightShift);
}

// @ts-ignore: decorator
@inline export function clampI32(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : v > hi ? hi : v;
}
