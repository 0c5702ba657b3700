import { FcArgs } from "../args";
import { qs8_fc__ref } from "./ref";
import { qs8_fc_1x4__mvp } from "./mvp";
import { fcPackSimd, qs8_fc_1x8__simd } from "./simd";
import { FC_REF, FC_SIMD, fcSelect } from "./variants";

/** Once at load. SIMD build: packs i16 weights and requant constants into a.packed (allocates). MVP: nothing. */
export function fcPrepare(a: FcArgs): void {
  if (ASC_FEATURE_SIMD) fcPackSimd(a);
}

/** Fully-connected kernels need no scratch. */
export function fcScratchBytes(a: FcArgs): i32 {
  return 0;
}

/** tier 0: qs8_fc__ref; tier 1: this build's fast kernel (see fcVariants()). */
export function fcRun(a: FcArgs, tier: i32): void {
  const v = fcSelect(a, tier);
  if (v == FC_REF) {
    qs8_fc__ref(a);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if (v == FC_SIMD) {
      qs8_fc_1x8__simd(a);
      return;
    }
  }
  qs8_fc_1x4__mvp(a);
}
