import { FcArgs } from "../args";
import { BUILD_ANY, BUILD_MVP, BUILD_SIMD, KernelVariant } from "../conv2d/variants";

// The kernels of the FULLY_CONNECTED family (see conv2d/variants.ts for the list's meaning).

export const FC_REF: i32 = 0;
export const FC_MVP: i32 = 1;
export const FC_SIMD: i32 = 2;

/**
 * The family's variants (name, tier, build, where it applies), built on call: a list held in a
 * global would be allocated at module start in the shipped builds, costing microcontroller RAM.
 */
export function fcVariants(): KernelVariant[] {
  return [
    new KernelVariant("qs8_fc__ref", 0, BUILD_ANY, "any shape"),
    new KernelVariant("qs8_fc_1x4__mvp", 1, BUILD_MVP, "any shape"),
    new KernelVariant("qs8_fc_1x8__simd", 1, BUILD_SIMD, "any shape"),
  ];
}

/** Index in fcVariants() of the kernel fcRun(a, tier) executes in this build. */
export function fcSelect(a: FcArgs, tier: i32): i32 {
  if (tier == 0) return FC_REF;
  if (ASC_FEATURE_SIMD) {
    if (a.packed != 0) return FC_SIMD;
  }
  return FC_MVP;
}
