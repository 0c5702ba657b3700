// The pooling variants of each build, by name. Tests and benchmarks iterate this list by
// index; dispatch (index.ts) picks from it by tier. A variant absent from a build (SIMD in
// the MVP build) reports false and is skipped. ASC_FEATURE_SIMD must be the whole `if`
// condition: only then does the compiler drop the SIMD code from the MVP build.

import { PoolArgs } from "../args";
import { qs8_avgpool__ref, qs8_maxpool__ref } from "./ref";
import { qs8_avgpool_4c__mvp, qs8_maxpool_4c__mvp } from "./mvp";
import { qs8_avgpool_16c__simd, qs8_maxpool_16c__simd } from "./simd";

export const POOL_AVG: i32 = 0;
export const POOL_MAX: i32 = 1;

/** Variant names, index = variant id. Entry 0 of each op is the reference. */
export const AVGPOOL_VARIANTS: StaticArray<string> = [
  "qs8_avgpool__ref",
  "qs8_avgpool_4c__mvp",
  "qs8_avgpool_16c__simd",
];
export const MAXPOOL_VARIANTS: StaticArray<string> = [
  "qs8_maxpool__ref",
  "qs8_maxpool_4c__mvp",
  "qs8_maxpool_16c__simd",
];

/** Runs variant `id` of AVERAGE_POOL_2D; false when it is not part of this build. */
export function runAvgPoolVariant(a: PoolArgs, id: i32): bool {
  if (id == 0) {
    qs8_avgpool__ref(a);
    return true;
  }
  if (id == 1) {
    qs8_avgpool_4c__mvp(a);
    return true;
  }
  if (ASC_FEATURE_SIMD) {
    if (id == 2) {
      qs8_avgpool_16c__simd(a);
      return true;
    }
  }
  return false;
}

/** Runs variant `id` of MAX_POOL_2D; false when it is not part of this build. */
export function runMaxPoolVariant(a: PoolArgs, id: i32): bool {
  if (id == 0) {
    qs8_maxpool__ref(a);
    return true;
  }
  if (id == 1) {
    qs8_maxpool_4c__mvp(a);
    return true;
  }
  if (ASC_FEATURE_SIMD) {
    if (id == 2) {
      qs8_maxpool_16c__simd(a);
      return true;
    }
  }
  return false;
}
