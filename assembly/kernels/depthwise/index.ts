import { ConvArgs } from "../args";
import { qs8_dwconv__ref } from "./ref";
import { qs8_dwconv_1x4__mvp } from "./mvp";
import { depthwisePackSimd, qs8_dwconv_1x8__simd } from "./simd";
import { DWCONV_REF, DWCONV_SIMD, depthwiseSelect } from "./variants";

/** Once at load. SIMD build, depthMultiplier 1: packs tap table, i16 weights, requant constants (allocates). */
export function depthwisePrepare(a: ConvArgs): void {
  if (ASC_FEATURE_SIMD) {
    if (a.depthMultiplier == 1) depthwisePackSimd(a);
  }
}

/** Depthwise kernels need no scratch (they run at the peak of the memory plan). */
export function depthwiseScratchBytes(a: ConvArgs): i32 {
  return 0;
}

/** tier 0: qs8_dwconv__ref; tier 1: this build's fast kernel (see depthwiseVariants()). */
export function depthwiseRun(a: ConvArgs, tier: i32): void {
  const v = depthwiseSelect(a, tier);
  if (v == DWCONV_REF) {
    qs8_dwconv__ref(a);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if (v == DWCONV_SIMD) {
      qs8_dwconv_1x8__simd(a);
      return;
    }
  }
  qs8_dwconv_1x4__mvp(a);
}
