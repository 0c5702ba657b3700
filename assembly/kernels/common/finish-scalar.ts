// Scalar epilogue shared by the MVP conv and depthwise kernels: requantize 4 accumulators of
// one pixel and store them (through the fused ADD when there is one).
//
// Out of line on purpose: V8 allocates registers per function and reloads linear memory after
// every store, so keeping the epilogue out of the MAC loop functions keeps their accumulators in
// registers, and the argument fields are read once per 4 outputs instead of once per output.

import { ConvArgs } from "../args";
import { requantizeScalar, storeAdded4 } from "./fused-add";

/**
 * Requantizes a0..a3 (bias included) for channels oc..oc+3 and stores them at output bytes
 * index..index+3. addFast is the call's addFastSetup(a.residual, a.add).
 */
export function finishConv4(a: ConvArgs, index: usize, oc: i32, a0: i32, a1: i32, a2: i32, a3: i32, addFast: usize): void {
  const ms = <usize>a.multStride;
  const ss = ms >> 2; // shifts are int8
  const pm = a.mult + <usize>oc * ms, ps = a.shift + <usize>oc * ss;
  const outOff = a.outputOffset, lo = a.actMin, hi = a.actMax;
  const q0 = requantizeScalar(a0, load<i32>(pm), <i32>load<i8>(ps), outOff, lo, hi);
  const q1 = requantizeScalar(a1, load<i32>(pm + ms), <i32>load<i8>(ps + ss), outOff, lo, hi);
  const q2 = requantizeScalar(a2, load<i32>(pm + 2 * ms), <i32>load<i8>(ps + 2 * ss), outOff, lo, hi);
  const q3 = requantizeScalar(a3, load<i32>(pm + 3 * ms), <i32>load<i8>(ps + 3 * ss), outOff, lo, hi);
  const out = a.output, residual = a.residual;
  if (residual == 0) {
    store<i8>(out + index, q0); store<i8>(out + index, q1, 1); store<i8>(out + index, q2, 2); store<i8>(out + index, q3, 3);
  } else {
    storeAdded4(out, index, q0, q1, q2, q3, residual, a.add, addFast);
  }
}
