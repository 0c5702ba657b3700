// gemmlowp's fixed-point exp and reciprocal (fixedpoint/fixedpoint.h), scalar int32, for
// the int8 softmax. Raw values only: the Q format of each value is named in its comment
// (F<k> = k integer bits, 31 - k fractional bits). Wrapping int32 adds, as gemmlowp's
// non-saturating Add; every step keeps gemmlowp's rounding so results are bit-exact.

import { roundingDivideByPot, srdhm } from "../common/fixedpoint";

/** x * 2^exponent for exponent > 0, saturating to INT32_MIN/MAX (SaturatingRoundingMultiplyByPOT). */
// @ts-ignore: decorator
@inline export function saturatingShiftLeft(x: i32, exponent: i32): i32 {
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return i32.MAX_VALUE;
  if (x < -threshold) return i32.MIN_VALUE;
  return x << exponent;
}

/** (a + b) / 2 rounded half away from zero, in 64 bits (RoundingHalfSum). */
// @ts-ignore: decorator
@inline export function roundingHalfSum(a: i32, b: i32): i32 {
  const sum = <i64>a + <i64>b;
  const sign: i64 = sum >= 0 ? 1 : -1;
  return <i32>((sum + sign) / 2);
}

/** exp(a) for a in [-1/4, 0): a and result F0. Taylor series around -1/8. */
export function expOnIntervalNegQuarterTo0(a: i32): i32 {
  const constantTerm: i32 = 1895147668; // exp(-1/8) in F0
  const oneThird: i32 = 715827883; // 1/3 in F0
  const x = a + (1 << 28); // a + 1/8
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4Over4 = roundingDivideByPot(x4, 2);
  const poly = roundingDivideByPot(srdhm(x4Over4 + x3, oneThird) + x2, 1); // x^4/24 + x^3/6 + x^2/2
  return constantTerm + srdhm(constantTerm, x + poly);
}

/**
 * exp(a) for a <= 0; a is F5 (Q5.26, the softmax's scaled difference), result F0.
 * Splits a into a multiple of 1/4 and a remainder in [-1/4, 0); each set bit of the
 * multiple multiplies by exp(-2^k) (the barrel shifter, k = -2..4).
 */
export function expOnNegativeValuesF5(a: i32): i32 {
  const fractionalBits = 26;
  const oneQuarter = 1 << (fractionalBits - 2);
  const aModQuarterMinusQuarter = (a & (oneQuarter - 1)) - oneQuarter;
  // Rescale F5 -> F0 is a saturating multiply by 2^5.
  let result = expOnIntervalNegQuarterTo0(saturatingShiftLeft(aModQuarterMinusQuarter, 5));
  const remainder = aModQuarterMinusQuarter - a;
  if (remainder & (1 << (fractionalBits - 2))) result = srdhm(result, 1672461947); // exp(-1/4)
  if (remainder & (1 << (fractionalBits - 1))) result = srdhm(result, 1302514674); // exp(-1/2)
  if (remainder & (1 << fractionalBits)) result = srdhm(result, 790015084); // exp(-1)
  if (remainder & (1 << (fractionalBits + 1))) result = srdhm(result, 290630308); // exp(-2)
  if (remainder & (1 << (fractionalBits + 2))) result = srdhm(result, 39332535); // exp(-4)
  if (remainder & (1 << (fractionalBits + 3))) result = srdhm(result, 720401); // exp(-8)
  if (remainder & (1 << (fractionalBits + 4))) result = srdhm(result, 242); // exp(-16)
  // 5 integer bits: no clamp below -32 is needed (gemmlowp only clamps for more bits).
  return a == 0 ? i32.MAX_VALUE : result;
}

/** 1 / (1 + a) for a in [0, 1): a F0, result F0. Three Newton-Raphson steps in F2. */
export function oneOverOnePlusXFor0To1(a: i32): i32 {
  const halfDenominator = roundingHalfSum(a, i32.MAX_VALUE); // F0
  const c48over17: i32 = 1515870810; // F2
  const cNeg32over17: i32 = -1010580540; // F2
  const oneF2: i32 = 1 << 29;
  let x = c48over17 + srdhm(halfDenominator, cNeg32over17); // F0 * F2 -> F2
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = srdhm(halfDenominator, x); // F2
    const oneMinus = oneF2 - halfDenominatorTimesX; // F2
    x = x + saturatingShiftLeft(srdhm(x, oneMinus), 2); // F2 * F2 = F4, rescaled to F2
  }
  // x / 2 read as F1 (exact), rescaled to F0: saturating multiply by 2.
  return saturatingShiftLeft(x, 1);
}
