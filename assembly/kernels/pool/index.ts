// Pooling dispatch. tier 0 = reference; tier 1 = the fast variant of this build (SIMD128 in
// the SIMD build, the scalar kernels of mvp.ts in the MVP build).

import { PoolArgs } from "../args";
import { qs8_avgpool__ref, qs8_maxpool__ref } from "./ref";
import { qs8_avgpool_4c__mvp, qs8_maxpool_4c__mvp } from "./mvp";
import { qs8_avgpool_16c__simd, qs8_maxpool_16c__simd } from "./simd";

export function avgPoolRun(a: PoolArgs, tier: i32): void {
  if (tier == 0) {
    qs8_avgpool__ref(a);
  } else if (ASC_FEATURE_SIMD) {
    qs8_avgpool_16c__simd(a);
  } else {
    qs8_avgpool_4c__mvp(a);
  }
}

export function maxPoolRun(a: PoolArgs, tier: i32): void {
  if (tier == 0) {
    qs8_maxpool__ref(a);
  } else if (ASC_FEATURE_SIMD) {
    qs8_maxpool_16c__simd(a);
  } else {
    qs8_maxpool_4c__mvp(a);
  }
}

/** One entry point for both pooling ops: op 0 = AVERAGE_POOL_2D, 1 = MAX_POOL_2D. */
export function poolRun(a: PoolArgs, op: i32, tier: i32): void {
  if (op == 0) avgPoolRun(a, tier);
  else maxPoolRun(a, tier);
}
