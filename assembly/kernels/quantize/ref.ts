// qs8_quantize__ref: QUANTIZE and DEQUANTIZE as TFLite Micro's reference kernels compute them.
// mode 0 f32 -> i8:  clamp(round(x / scale) + outZp) with f32 division and std::round
//                    (half away from zero); NaN gives -128 (TFLM leaves it undefined).
// mode 1 i8 -> i8:   clamp(multiplyByQuantizedMultiplier(x - inZp, mult, shift) + outZp)
// mode 2 i8 -> f32:  f32(f64(scale) * (x - inZp))
// mode 3 u8 -> i8:   as mode 1 with uint8 input
// mode 4 i8 -> u8:   as mode 1 with the result clamped to [0, 255] and stored as uint8
// Layout: `count` contiguous elements (f32 little-endian, 4 bytes each, where f32).
// Preconditions: mode in 0..4; buffers do not overlap unless input and output have the same
// element size (elementwise, read before write).

import { QuantArgs } from "../args";
import { clampI32, multiplyByQuantizedMultiplier } from "../common/fixedpoint";

/** C++ std::round on float: half away from zero. x - trunc(x) is exact in f32. */
// @ts-ignore: decorator
@inline export function roundHalfAwayF32(x: f32): f32 {
  const t = Mathf.trunc(x);
  const frac = x - t;
  if (frac >= 0.5) return t + 1;
  if (frac <= -0.5) return t - 1;
  return t;
}

/** A rounded f32 to i32 for an int8 result: values far outside int8 (and NaN) pin to +/-1024. */
// @ts-ignore: decorator
@inline export function roundedToI32(r: f32): i32 {
  if (!(r >= -1024)) return -1024;
  if (r > 1024) return 1024;
  return <i32>r;
}

export function qs8_quantize__ref(a: QuantArgs): void {
  const n = a.count;
  const mode = a.mode;
  if (mode == 0) {
    for (let i = 0; i < n; i++) {
      const x = load<f32>(a.input + (<usize>i << 2));
      const q = roundedToI32(roundHalfAwayF32(x / a.scale)) + a.outZp;
      store<i8>(a.output + <usize>i, <i8>clampI32(q, -128, 127));
    }
  } else if (mode == 2) {
    const scale = <f64>a.scale;
    for (let i = 0; i < n; i++) {
      const x = <i32>load<i8>(a.input + <usize>i);
      store<f32>(a.output + (<usize>i << 2), <f32>(scale * <f64>(x - a.inZp)));
    }
  } else {
    const lo = mode == 4 ? 0 : -128;
    const hi = mode == 4 ? 255 : 127;
    for (let i = 0; i < n; i++) {
      const x = mode == 3 ? <i32>load<u8>(a.input + <usize>i) : <i32>load<i8>(a.input + <usize>i);
      const q = multiplyByQuantizedMultiplier(x - a.inZp, a.mult, a.shift) + a.outZp;
      store<u8>(a.output + <usize>i, <u8>clampI32(q, lo, hi));
    }
  }
}
