import { ConvArgs } from "../args";
import { BUILD_ANY, BUILD_MVP, BUILD_SIMD, KernelVariant } from "../conv2d/variants";

// The kernels of the DEPTHWISE_CONV_2D family (see conv2d/variants.ts for the list's meaning).

export const DWCONV_REF: i32 = 0;
export const DWCONV_MVP: i32 = 1;
export const DWCONV_SIMD: i32 = 2;

/**
 * The family's variants (name, tier, build, where it applies), built on call: a list held in a
 * global would be allocated at module start in the shipped builds, costing microcontroller RAM.
 */
export function depthwiseVariants(): KernelVariant[] {
  return [
    new KernelVariant("qs8_dwconv__ref", 0, BUILD_ANY, "any shape"),
    // The SIMD build also runs it for depthMultiplier != 1.
    new KernelVariant("qs8_dwconv_1x4__mvp", 1, BUILD_MVP, "any shape"),
    new KernelVariant("qs8_dwconv_1x8__simd", 1, BUILD_SIMD, "depthMultiplier 1"),
  ];
}

/** Index in depthwiseVariants() of the kernel depthwiseRun(a, tier) executes in this build. */
export function depthwiseSelect(a: ConvArgs, tier: i32): i32 {
  if (tier == 0) return DWCONV_REF;
  if (ASC_FEATURE_SIMD) {
    if (a.packed != 0 && a.depthMultiplier == 1) return DWCONV_SIMD;
  }
  return DWCONV_MVP;
}
