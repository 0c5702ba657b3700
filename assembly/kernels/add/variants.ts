// The ADD variants of each build, by name (index = variant id, 0 = reference). Tests and
// benchmarks iterate this list; a variant absent from this build reports false.

import { AddArgs } from "../args";
import { qs8_add__ref } from "./ref";
import { qs8_add_lut__mvp } from "./mvp";
import { qs8_add_16x__simd } from "./simd";

export const ADD_VARIANTS: StaticArray<string> = ["qs8_add__ref", "qs8_add_lut__mvp", "qs8_add_16x__simd"];

export function runAddVariant(a: AddArgs, id: i32): bool {
  if (id == 0) {
    qs8_add__ref(a);
    return true;
  }
  if (id == 1) {
    qs8_add_lut__mvp(a);
    return true;
  }
  if (ASC_FEATURE_SIMD) {
    // Alone in the condition, so the MVP build does not compile the SIMD kernel.
    if (id == 2) {
      qs8_add_16x__simd(a);
      return true;
    }
  }
  return false;
}
