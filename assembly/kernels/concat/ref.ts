// qs8_concat__ref: CONCATENATION of int8 tensors along one axis. The caller flattens the
// shapes to [outer][axis * inner]: for each outer index, each input in order contributes
// axisBytes bytes, copied as is (same quantization as the output) or requantized
// (TFLite's ConcatenationWithScaling): q = i32(round(x * scale + bias)) + outZp, clamped to
// int8, in f32 arithmetic with round half away from zero; scale = inScale / outScale,
// bias = -inZp * scale, computed at load.
// Layout: a.inputs points to numInputs contiguous ConcatInput records; input k is
// [outer][axisBytes_k]; output [outer][outAxisBytes], outAxisBytes = sum of axisBytes_k.
// Preconditions: no input overlaps the output.

import { ConcatArgs, ConcatInput } from "../args";
import { clampI32 } from "../common/fixedpoint";
import { roundHalfAwayF32, roundedToI32 } from "../quantize/ref";

export function qs8_concat__ref(a: ConcatArgs): void {
  const recordBytes = offsetof<ConcatInput>();
  let out = a.output;
  for (let o = 0; o < a.outer; o++) {
    for (let k = 0; k < a.numInputs; k++) {
      const inp = changetype<ConcatInput>(a.inputs + <usize>k * recordBytes);
      const n = inp.axisBytes;
      const src = inp.data + <usize>(o * n);
      if (inp.requant == 0) {
        memory.copy(out, src, <usize>n);
      } else {
        for (let j = 0; j < n; j++) {
          const x = <f32>load<i8>(src + <usize>j);
          const q = roundedToI32(roundHalfAwayF32(x * inp.scale + inp.bias)) + inp.outZp;
          store<i8>(out + <usize>j, <i8>clampI32(q, -128, 127));
        }
      }
      out += <usize>n;
    }
  }
}
