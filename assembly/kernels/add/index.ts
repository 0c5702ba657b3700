// ADD dispatch. tier 0 = reference; tier 1 = SIMD128 for same shapes in the SIMD build,
// otherwise the table-driven scalar kernel (which itself takes the reference on tiny calls).

import { AddArgs } from "../args";
import { qs8_add__ref } from "./ref";
import { qs8_add_lut__mvp } from "./mvp";
export { addScratchBytes } from "./mvp";
import { qs8_add_16x__simd } from "./simd";

export function addRun(a: AddArgs, tier: i32): void {
  if (tier == 0) {
    qs8_add__ref(a);
    return;
  }
  // ASC_FEATURE_SIMD alone in the condition: the MVP build then never compiles SIMD code.
  if (ASC_FEATURE_SIMD) {
    if (a.broadcast == 0) {
      qs8_add_16x__simd(a);
      return;
    }
  }
  qs8_add_lut__mvp(a);
}
