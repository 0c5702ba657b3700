// qs8_pad__ref: PAD of a 4D int8 tensor with a constant (TFLite PAD / PADV2, int8): the
// output is filled with padValue and the input is copied at offset (before0..3).
// Layout: input dense [in0][in1][in2][in3], output dense [out0][out1][out2][out3].
// Preconditions: out_d >= in_d + before_d, before_d >= 0, padValue in int8 (the quantized
// zero for PAD), input and output do not overlap.

import { PadArgs } from "../args";

export function qs8_pad__ref(a: PadArgs): void {
  const total = a.out0 * a.out1 * a.out2 * a.out3;
  memory.fill(a.output, <u8>a.padValue, <usize>total);
  const rowBytes = <usize>a.in3;
  let src = a.input;
  for (let i0 = 0; i0 < a.in0; i0++) {
    for (let i1 = 0; i1 < a.in1; i1++) {
      for (let i2 = 0; i2 < a.in2; i2++) {
        const o = (((i0 + a.before0) * a.out1 + (i1 + a.before1)) * a.out2 + (i2 + a.before2)) * a.out3 + a.before3;
        memory.copy(a.output + <usize>o, src, rowBytes);
        src += rowBytes;
      }
    }
  }
}
