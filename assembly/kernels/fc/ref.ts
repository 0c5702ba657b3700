import { FcArgs, shiftAt } from "../args";
import { requantize } from "../common/fused-add";

/**
 * qs8_fc__ref: FULLY_CONNECTED int8, the specification (TFLM reference_integer_ops::FullyConnected,
 * per-channel when multStride is 4).
 * out[b][o] = requant(sum_d (in[b][d] + inputOffset) * w[o][d] + bias[o]).
 * Layouts: input [batches][depth], filter [outC][depth], output [batches][outC], bias int32 or 0.
 */
export function qs8_fc__ref(a: FcArgs): void {
  for (let b = 0; b < a.batches; b++) {
    for (let o = 0; o < a.outC; o++) {
      let acc = 0;
      for (let d = 0; d < a.depth; d++) {
        const x = <i32>load<i8>(a.input + <usize>(b * a.depth + d));
        const w = <i32>load<i8>(a.filter + <usize>(o * a.depth + d));
        acc += (x + a.inputOffset) * w;
      }
      if (a.bias != 0) acc += load<i32>(a.bias + (<usize>o << 2));
      const q = requantize(acc, load<i32>(a.mult + <usize>(o * a.multStride)),
        shiftAt(a.shift, o, a.multStride), a.outputOffset, a.actMin, a.actMax);
      store<i8>(a.output + <usize>(b * a.outC + o), q);
    }
  }
}
