// gemmlowp's fixed-point logistic and tanh (fixedpoint/fixedpoint.h), scalar int32, as TFLite
// Micro's int8 LOGISTIC and TANH use them. Q formats as in softmax/fixedpoint-exp.ts: F<k> has
// k integer bits. exp_on_negative_values is written for any integer-bit count (4 for logistic,
// 5 for tanh's doubled argument); the barrel-shifter steps apply only while intBits > exponent.

import { srdhm } from "../common/fixedpoint";
import { expOnIntervalNegQuarterTo0, oneOverOnePlusXFor0To1, roundingHalfSum, saturatingShiftLeft } from "../softmax/fixedpoint-exp";

/** exp(a) for a <= 0; a has intBits integer bits (1..5), result F0. */
export function expOnNegativeValues(a: i32, intBits: i32): i32 {
  const fracBits = 31 - intBits;
  const oneQuarter = 1 << (fracBits - 2);
  const aModQuarterMinusQuarter = (a & (oneQuarter - 1)) - oneQuarter;
  let result = expOnIntervalNegQuarterTo0(saturatingShiftLeft(aModQuarterMinusQuarter, intBits));
  const remainder = aModQuarterMinusQuarter - a;
  if (remainder & (1 << (fracBits - 2))) result = srdhm(result, 1672461947); // exp(-1/4)
  if (remainder & (1 << (fracBits - 1))) result = srdhm(result, 1302514674); // exp(-1/2)
  if (intBits > 0 && (remainder & (1 << fracBits))) result = srdhm(result, 790015084); // exp(-1)
  if (intBits > 1 && (remainder & (1 << (fracBits + 1)))) result = srdhm(result, 290630308); // exp(-2)
  if (intBits > 2 && (remainder & (1 << (fracBits + 2)))) result = srdhm(result, 39332535); // exp(-4)
  if (intBits > 3 && (remainder & (1 << (fracBits + 3)))) result = srdhm(result, 720401); // exp(-8)
  if (intBits > 4 && (remainder & (1 << (fracBits + 4)))) result = srdhm(result, 242); // exp(-16)
  return a == 0 ? i32.MAX_VALUE : result;
}

/** (1 - a) / (1 + a) for a in [0, 1): a F0, result F0. Newton-Raphson in F2. */
export function oneMinusXOverOnePlusXFor0To1(a: i32): i32 {
  const halfDenominator = roundingHalfSum(a, i32.MAX_VALUE);
  const oneF2: i32 = 1 << 29;
  let x = 1515870810 + srdhm(halfDenominator, -1010580540); // 48/17 - 32/17 * d, F2
  for (let i = 0; i < 3; i++) {
    const oneMinus = oneF2 - srdhm(halfDenominator, x);
    x = x + saturatingShiftLeft(srdhm(x, oneMinus), 2);
  }
  return saturatingShiftLeft(x - oneF2, 2);
}

/** logistic(a): a F4, result F0 (1/2 at 0; 1 - f(|a|) for negative a). */
export function logisticF4(a: i32): i32 {
  if (a == 0) return 1 << 30;
  const abs = a > 0 ? a : -a;
  const pos = oneOverOnePlusXFor0To1(expOnNegativeValues(-abs, 4));
  return a > 0 ? pos : i32.MAX_VALUE - pos;
}

/** tanh(a): a F4, result F0; exp of the doubled argument is exp on the same raw value read as F5. */
export function tanhF4(a: i32): i32 {
  if (a == 0) return 0;
  const n = a < 0 ? a : -a;
  const t = oneMinusXOverOnePlusXFor0To1(expOnNegativeValues(n, 5));
  return a < 0 ? -t : t;
}
