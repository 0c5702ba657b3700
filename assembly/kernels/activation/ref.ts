// qs8_act__ref: the int8 activations as TFLite Micro's reference kernels compute them, one
// element at a time (the specification of the family).
// LOGISTIC (reference_integer_ops::Logistic), words inZp, radius, mult, leftShift:
//   v = x - inZp; v <= -radius -> -128; v >= radius -> 127; else
//   clamp(RDBPOT(logistic(MBQM(v, mult, leftShift) as F4), 23) - 128). Output scale 1/256, zp -128.
// TANH (reference_integer_ops::Tanh), same words: ... clamp(RDBPOT(tanh(...), 24)). Scale 1/128, zp 0.
// HARD_SWISH (reference_ops::HardSwish<int8>), words inZp, outZp, outMult16, outExp,
//   reluishMult16, reluishExp: int16 fixed point with TFLite's saturation and rounding.
// LEAKY_RELU (reference_ops::QuantizeLeakyRelu) plus a clamp, words inZp, outZp, idMult,
//   idShift, alphaMult, alphaShift, actMin, actMax.
// Layout: `count` contiguous int8 values; output may alias input (elementwise).

import { ActArgs, ACT_HARD_SWISH, ACT_LOGISTIC, ACT_TANH } from "./args";
import { clampI32, multiplyByQuantizedMultiplier, roundingDivideByPot } from "../common/fixedpoint";
import { logisticF4, tanhF4 } from "./fixedpoint-act";

function sigmoidTanhOne(a: ActArgs, x: i32, tanh: bool): i32 {
  const v = x - a.p0;
  if (v <= -a.p1) return -128;
  if (v >= a.p1) return 127;
  const inQ4 = multiplyByQuantizedMultiplier(v, a.p2, a.p3);
  if (tanh) return clampI32(roundingDivideByPot(tanhF4(inQ4), 24), -128, 127);
  return clampI32(roundingDivideByPot(logisticF4(inQ4), 23) - 128, -128, 127);
}

/** gemmlowp SaturatingRoundingDoublingHighMul on int16. */
function srdhm16(a: i32, b: i32): i32 {
  if (a == b && a == -32768) return 32767;
  const ab = a * b;
  const nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
  return (ab + nudge) / (1 << 15); // C division truncates toward zero, as AssemblyScript's
}

/** TFLite SaturatingDoublingHighMul on int16 (no rounding nudge). */
function sdhm16(a: i32, b: i32): i32 {
  if (a == b && a == -32768) return 32767;
  return (a * b) / (1 << 15);
}

function satShl16(v: i32, amount: i32): i32 {
  return clampI32(v << amount, -32768, 32767);
}

function hardSwishOne(a: ActArgs, x: i32): i32 {
  const hires = (x - a.p0) * 128;
  const preshiftOut = srdhm16(hires, a.p2);
  let reluish = hires;
  if (a.p5 > 0) reluish = satShl16(reluish, a.p5 - 1);
  reluish = srdhm16(reluish, a.p4);
  if (a.p5 > 0) reluish = satShl16(reluish, 1);
  if (a.p5 < 0) reluish = roundingDivideByPot(reluish, -a.p5);
  reluish = (reluish + 32768) >> 1;
  const out = roundingDivideByPot(sdhm16(reluish, preshiftOut), -a.p3) + a.p1;
  return clampI32(out, -128, 127);
}

function leakyOne(a: ActArgs, x: i32): i32 {
  const v = x - a.p0;
  const r = v >= 0 ? multiplyByQuantizedMultiplier(v, a.p2, a.p3) : multiplyByQuantizedMultiplier(v, a.p4, a.p5);
  return clampI32(clampI32(a.p1 + r, -128, 127), a.p6, a.p7);
}

export function activationOne(a: ActArgs, x: i32): i32 {
  if (a.kind == ACT_LOGISTIC) return sigmoidTanhOne(a, x, false);
  if (a.kind == ACT_TANH) return sigmoidTanhOne(a, x, true);
  if (a.kind == ACT_HARD_SWISH) return hardSwishOne(a, x);
  return leakyOne(a, x);
}

export function qs8_act__ref(a: ActArgs): void {
  for (let i = 0; i < a.count; i++) {
    store<i8>(a.output + <usize>i, <i8>activationOne(a, <i32>load<i8>(a.input + <usize>i)));
  }
}
