// SOFTMAX dispatch. The per-tap work is the scalar fixed-point exp chain; a vector version
// would need i64 lanes for every srdhm and a per-lane barrel shifter, so tier 1 runs the
// reference in both builds (softmax runs once per inference on a handful of classes).

import { SoftmaxArgs } from "../args";
import { qs8_softmax__ref } from "./ref";

export const SOFTMAX_VARIANTS: StaticArray<string> = ["qs8_softmax__ref"];

export function softmaxRun(a: SoftmaxArgs, tier: i32): void {
  qs8_softmax__ref(a);
}
