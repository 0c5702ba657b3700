// QUANTIZE / DEQUANTIZE dispatch. These run once at a model's edges on a few hundred values;
// tier 1 is the reference in both builds.

import { QuantArgs } from "../args";
import { qs8_quantize__ref } from "./ref";

export const QUANTIZE_VARIANTS: StaticArray<string> = ["qs8_quantize__ref"];

export function quantizeRun(a: QuantArgs, tier: i32): void {
  qs8_quantize__ref(a);
}
