// qs8_softmax__ref: SOFTMAX int8 -> int8 (output scale 1/256, zero point -128) along the last
// dim, bit-exact to TFLite's reference_ops::Softmax<int8_t, int8_t> (the gemmlowp version
// TFLite Micro runs): per row, diff = x - max; taps with diff >= diffMin contribute
// exp(srdhm(diff * 2^inputLeftShift, inputMult) as Q5.26) to a Q12.19 sum; the sum's
// reciprocal (GetReciprocal) scales each exp, output = RDBPOT(scale * exp, nbou + 23) - 128;
// taps below diffMin output -128.
// Layout: input and output [outer][depth] int8. Preconditions (prepare): 1 <= depth < 512
// (TFLM's exponent check 0 <= nbou + 23 <= 31); inputMult, inputLeftShift, diffMin from
// PreprocessSoftmaxScaling / CalculateInputRadius (host/format/quant-params.ts).
// Output may alias the input only if it is not read back: it is, so no aliasing.

import { SoftmaxArgs } from "../args";
import { roundingDivideByPot, srdhm } from "../common/fixedpoint";
import { expOnNegativeValuesF5, oneOverOnePlusXFor0To1 } from "./fixedpoint-exp";

const ACCUM_INTEGER_BITS: i32 = 12;

export function qs8_softmax__ref(a: SoftmaxArgs): void {
  const depth = a.depth;
  for (let r = 0; r < a.outer; r++) {
    const inRow = a.input + <usize>(r * depth);
    const outRow = a.output + <usize>(r * depth);
    let maxInRow: i32 = -128;
    for (let c = 0; c < depth; c++) maxInRow = max(maxInRow, <i32>load<i8>(inRow + <usize>c));

    let sumOfExps = 0; // Q12.19
    for (let c = 0; c < depth; c++) {
      const diff = <i32>load<i8>(inRow + <usize>c) - maxInRow;
      if (diff >= a.diffMin) {
        const scaled = srdhm(diff * (1 << a.inputLeftShift), a.inputMult);
        sumOfExps += roundingDivideByPot(expOnNegativeValuesF5(scaled), ACCUM_INTEGER_BITS);
      }
    }

    // GetReciprocal: normalize the sum to [1, 2), take 1 / (1 + (sum - 1)) in F0.
    const headroomPlusOne = <i32>clz(sumOfExps);
    const numBitsOverUnit = ACCUM_INTEGER_BITS - headroomPlusOne;
    const shiftedSumMinusOne = <i32>((<u32>sumOfExps << headroomPlusOne) - (<u32>1 << 31));
    const shiftedScale = oneOverOnePlusXFor0To1(shiftedSumMinusOne);
    const exponent = numBitsOverUnit + 31 - 8;

    for (let c = 0; c < depth; c++) {
      const diff = <i32>load<i8>(inRow + <usize>c) - maxInRow;
      let out: i32 = -128;
      if (diff >= a.diffMin) {
        const scaled = srdhm(diff * (1 << a.inputLeftShift), a.inputMult);
        const e = expOnNegativeValuesF5(scaled);
        out = roundingDivideByPot(srdhm(shiftedScale, e), exponent) - 128;
        out = out > 127 ? 127 : out < -128 ? -128 : out;
      }
      store<i8>(outRow + <usize>c, <i8>out);
    }
  }
}
