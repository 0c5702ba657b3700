// The model compiler's side of the int8 kernels: integer constants computed exactly as
// TFLite / TFLite Micro compute them in Prepare (quantization_util.cc, kernel_util.cc,
// add_common.cc, softmax_common.cc), in JS doubles. Scales come from float32 tensor params,
// so every scale is passed through Math.fround first, then widened to double as C++ does.
// A scale that gives a multiplier outside what an op's Prepare accepts throws EdgerunError
// with code QUANT_MULTIPLIER_RANGE (or QUANT_MULTIPLIER_NOT_FINITE).

import { EdgerunError } from "./errors.js";

export interface QuantizedMultiplier {
  /** Q0.31 multiplier in [2^30, 2^31) (0 for a zero or flushed multiplier). */
  mult: number;
  /** Power-of-two exponent: value = mult * 2^(shift - 31). */
  shift: number;
}

export type FusedActivation = "none" | "relu" | "relu6" | "relu_n1_to_1";

const TWO_31 = 2147483648;

/** C++ std::round: half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** std::frexp: x = fraction * 2^exponent with 0.5 <= |fraction| < 1 (0 -> 0, 0). */
export function frexp(x: number): { fraction: number; exponent: number } {
  if (x === 0 || !Number.isFinite(x)) return { fraction: x, exponent: 0 };
  const view = new DataView(new ArrayBuffer(8));
  let scaleBack = 0;
  let v = x;
  if (Math.abs(v) < 2 ** -1000) {
    v *= 2 ** 64; // subnormal: normalize first, powers of two scale exactly
    scaleBack = 64;
  }
  view.setFloat64(0, v);
  const biased = (view.getUint16(0) >> 4) & 0x7ff;
  const exponent = biased - 1022;
  // Replace the exponent field with that of [0.5, 1): exact.
  view.setUint16(0, (view.getUint16(0) & 0x800f) | (1022 << 4));
  return { fraction: view.getFloat64(0), exponent: exponent - scaleBack };
}

/**
 * TFLite QuantizeMultiplier: frexp, q_fixed = round(q * 2^31), 2^31 -> 2^30 with shift + 1,
 * shift < -31 flushes to (0, 0). `singleRounding` mirrors builds with TFLITE_SINGLE_ROUNDING,
 * which also clamp shift > 30 (TFLite Micro's default build does not).
 */
export function quantizeMultiplier(real: number, opts: { singleRounding?: boolean } = {}): QuantizedMultiplier {
  if (real === 0) return { mult: 0, shift: 0 };
  if (!Number.isFinite(real)) {
    throw new EdgerunError("QUANT_MULTIPLIER_NOT_FINITE", "multiplier is not finite", { real });
  }
  let { fraction, exponent: shift } = frexp(real);
  let qFixed = roundHalfAway(fraction * TWO_31);
  if (qFixed === TWO_31) {
    qFixed /= 2;
    shift += 1;
  }
  if (shift < -31) return { mult: 0, shift: 0 };
  if (opts.singleRounding && shift > 30) return { mult: TWO_31 - 1, shift: 30 };
  return { mult: qFixed, shift };
}

/** Shifts the runtime accepts (TFLite Micro's range): stored as int8 in the .erm. */
export const SHIFT_MIN = -31;
export const SHIFT_MAX = 30;

/**
 * The bytes of a requantization pair as the .erm stores them: multipliers int32, shifts int8
 * (docs/model-format.md). A shift outside [SHIFT_MIN, SHIFT_MAX] (a scale ratio of 2^30 or more)
 * throws QUANT_MULTIPLIER_RANGE instead of wrapping.
 */
export function requantBytes(ms: readonly QuantizedMultiplier[]): { mult: Uint8Array; shift: Uint8Array } {
  const mult = new Int32Array(ms.length), shift = new Int8Array(ms.length);
  ms.forEach((m, i) => {
    if (!Number.isInteger(m.shift) || m.shift < SHIFT_MIN || m.shift > SHIFT_MAX) {
      throw new EdgerunError("QUANT_MULTIPLIER_RANGE", "requantization shift out of range", { channel: i, expected: `${SHIFT_MIN}..${SHIFT_MAX}`, actual: m.shift });
    }
    mult[i] = m.mult;
    shift[i] = m.shift;
  });
  return { mult: new Uint8Array(mult.buffer), shift: new Uint8Array(shift.buffer) };
}

function smallerThanOneExp(real: number, what: string): QuantizedMultiplier {
  if (!(real > 0 && real < 1)) {
    throw new EdgerunError("QUANT_MULTIPLIER_RANGE", `${what} must be in (0, 1)`, { what, expected: "(0, 1)", actual: real });
  }
  return quantizeMultiplier(real);
}

/** AddParams fields (assembly/kernels/args.ts) for an int8 ADD, as TFLM's CalculateOpDataAdd. */
export interface AddParamsValues {
  in1Offset: number;
  in2Offset: number;
  leftShift: number;
  in1Mult: number;
  in1Shift: number;
  in2Mult: number;
  in2Shift: number;
  outMult: number;
  outShift: number;
  outOffset: number;
  actMin: number;
  actMax: number;
}

export function addParams(
  s1: number, zp1: number, s2: number, zp2: number, sOut: number, zpOut: number,
  actMin = -128, actMax = 127,
): AddParamsValues {
  const f1 = Math.fround(s1);
  const f2 = Math.fround(s2);
  const fOut = Math.fround(sOut);
  const leftShift = 20;
  const twiceMaxInputScale = 2 * Math.max(f1, f2);
  const in1 = smallerThanOneExp(f1 / twiceMaxInputScale, "ADD input 1 multiplier");
  const in2 = smallerThanOneExp(f2 / twiceMaxInputScale, "ADD input 2 multiplier");
  const out = smallerThanOneExp(twiceMaxInputScale / ((1 << leftShift) * fOut), "ADD output multiplier");
  return {
    in1Offset: -zp1, in2Offset: -zp2, leftShift,
    in1Mult: in1.mult, in1Shift: in1.shift,
    in2Mult: in2.mult, in2Shift: in2.shift,
    outMult: out.mult, outShift: out.shift,
    outOffset: zpOut, actMin, actMax,
  };
}

/** SoftmaxArgs constants for int8 -> int8 (PreprocessSoftmaxScaling, 5 integer bits). */
export function softmaxParams(beta: number, inputScale: number): { inputMult: number; inputLeftShift: number; diffMin: number } {
  const scaledDiffIntegerBits = 5;
  const maxRealMultiplier = TWO_31 - 1;
  const real = Math.min(Math.fround(beta) * Math.fround(inputScale) * 2 ** (31 - scaledDiffIntegerBits), maxRealMultiplier);
  if (!(real > 1)) {
    throw new EdgerunError("QUANT_MULTIPLIER_RANGE", "softmax beta * input scale * 2^26 must exceed 1", { expected: "> 1", actual: real });
  }
  const q = quantizeMultiplier(real);
  // CalculateInputRadius(5, leftShift, 31): floor(31 * 2^26 / 2^leftShift), in double.
  const radius = Math.floor((((1 << scaledDiffIntegerBits) - 1) * 2 ** (31 - scaledDiffIntegerBits)) / 2 ** q.shift);
  return { inputMult: q.mult, inputLeftShift: q.shift, diffMin: radius === 0 ? 0 : -radius };
}

/** CalculateActivationRangeQuantized for int8: zp + round(f / scale) in float32, clamped. */
export function activationRange(act: FusedActivation, scale: number, zp: number): { actMin: number; actMax: number } {
  const fScale = Math.fround(scale);
  const quantize = (f: number): number => zp + Math.trunc(roundHalfAway(Math.fround(Math.fround(f) / fScale)));
  switch (act) {
    case "none":
      return { actMin: -128, actMax: 127 };
    case "relu":
      return { actMin: Math.max(-128, quantize(0)), actMax: 127 };
    case "relu6":
      return { actMin: Math.max(-128, quantize(0)), actMax: Math.min(127, quantize(6)) };
    case "relu_n1_to_1":
      return { actMin: Math.max(-128, quantize(-1)), actMax: Math.min(127, quantize(1)) };
  }
}

/** Requantization (QUANTIZE int8 -> int8, MEAN): QuantizeMultiplier(inScale / outScale). */
export function requantizeParams(inScale: number, outScale: number): QuantizedMultiplier {
  return quantizeMultiplier(Math.fround(inScale) / Math.fround(outScale));
}

/** CONCATENATION requantization of one input (ConcatenationWithScaling), float32 math. */
export function concatRequantParams(inScale: number, inZp: number, outScale: number): { scale: number; bias: number } {
  const inverseOutputScale = Math.fround(1 / Math.fround(outScale));
  const scale = Math.fround(Math.fround(inScale) * inverseOutputScale);
  return { scale, bias: Math.fround(-inZp * scale) };
}

/** MUL int8 (TFLM mul_common.cc): QuantizeMultiplier(s1 * s2 / sOut) in double. */
export function mulParams(s1: number, zp1: number, s2: number, zp2: number, sOut: number, zpOut: number, actMin = -128, actMax = 127): number[] {
  const m = quantizeMultiplier((Math.fround(s1) * Math.fround(s2)) / Math.fround(sOut));
  return [-zp1, -zp2, zpOut, m.mult, m.shift, actMin, actMax];
}

/**
 * LOGISTIC and TANH int8 (TFLM logistic_common.cc / tanh.cc): input multiplier of
 * scale * 2^(31 - 4) by frexp, without QuantizeMultiplier's 2^31 correction, and the input
 * radius CalculateInputRadius(4, leftShift, 31). Words: inZp, radius, inputMult, inputLeftShift.
 */
export function sigmoidTanhParams(inScale: number, inZp: number): number[] {
  const inputIntegerBits = 4;
  const real = Math.fround(inScale) * 2 ** (31 - inputIntegerBits);
  const { fraction, exponent } = frexp(real);
  const mult = roundHalfAway(fraction * TWO_31);
  if (mult >= TWO_31) throw new EdgerunError("QUANT_MULTIPLIER_RANGE", "logistic/tanh input multiplier rounds to 2^31", { actual: real });
  const maxInputRescaled = ((1 << inputIntegerBits) - 1) * 2 ** (31 - inputIntegerBits) / 2 ** exponent;
  const radius = Math.floor(maxInputRescaled);
  return [inZp, radius, mult, exponent];
}

/** DownScaleInt32ToInt16Multiplier: a Q31 multiplier rounded to Q15. */
function toInt16Multiplier(m: number): number {
  if (m >= 2147483647 - (1 << 15)) return 32767;
  return Math.floor((m + (1 << 15)) / 65536);
}

/**
 * HARD_SWISH int8 (TFLM hard_swish_common.cc), float32 arithmetic as in Prepare. Words: inZp,
 * outZp, outputMultiplierInt16, outputExponent, reluishMultiplierInt16, reluishExponent.
 */
export function hardSwishParams(inScale: number, inZp: number, outScale: number, outZp: number): number[] {
  const hiresInputScale = Math.fround(Math.fround(1 / 128) * Math.fround(inScale));
  const reluishScale = Math.fround(3 / 32768);
  const out = quantizeMultiplier(Math.fround(hiresInputScale / Math.fround(outScale)));
  if (out.shift > 0) throw new EdgerunError("QUANT_MULTIPLIER_RANGE", "hard-swish output scale is too small for the input scale", { expected: "<= 0", actual: out.shift });
  const reluish = quantizeMultiplier(Math.fround(hiresInputScale / reluishScale));
  return [inZp, outZp, toInt16Multiplier(out.mult), out.shift, toInt16Multiplier(reluish.mult), reluish.shift];
}

/**
 * LEAKY_RELU int8 (TFLM leaky_relu_common.cc) plus an activation clamp, so one op also covers
 * ReLU (alpha 0) and Clip (alpha 1, clamp) that could not fuse. Words: inZp, outZp, identity
 * mult/shift, alpha mult/shift, actMin, actMax.
 */
export function leakyReluParams(inScale: number, inZp: number, outScale: number, outZp: number, alpha: number, actMin = -128, actMax = 127): number[] {
  const fi = Math.fround(inScale), fo = Math.fround(outScale);
  const a = quantizeMultiplier(Math.fround(Math.fround(fi * Math.fround(alpha)) / fo));
  const id = quantizeMultiplier(Math.fround(fi / fo));
  return [inZp, outZp, id.mult, id.shift, a.mult, a.shift, actMin, actMax];
}
