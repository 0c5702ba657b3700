import { SparseArgs } from "./args";
import { BUILD_ANY, BUILD_MVP, BUILD_SIMD, KernelVariant } from "../conv2d/variants";

// The kernels of the sparse family (FULLY_CONNECTED_SPARSE, CONV_2D_SPARSE), one list for
// dispatch, tests and the benchmark (see conv2d/variants.ts). The scalar kernel also runs in the
// SIMD build when the weights are too scattered for 4x8 chunks.

export const SPARSE_REF: i32 = 0;
export const SPARSE_MVP: i32 = 1;
export const SPARSE_SIMD: i32 = 2;
export const SPARSE_SPMM_SIMD: i32 = 3;

/**
 * The family's variants (name, tier, build, where it applies), built on call: a list held in a
 * global would be allocated at module start in the shipped builds, costing microcontroller RAM.
 */
export function sparseVariants(): KernelVariant[] {
  return [
    new KernelVariant("qs8_spmm__ref", 0, BUILD_ANY, "any blocks"),
    new KernelVariant("qs8_spmm_blk__mvp", 1, BUILD_ANY, "any blocks; the SIMD build's choice for scattered weights"),
    new KernelVariant("qs8_spmm_4x8__simd", 1, BUILD_SIMD, "N % 4 == 0, K % 8 == 0, weights clustered in 4x8 chunks"),
    new KernelVariant("qs8_spmm_8x4__simd", 1, BUILD_SIMD, "N % 4 == 0, >= 8 output pixels (1x1 conv, batched FC), |acc| bounded; any weight pattern"),
  ];
}

/** Index in sparseVariants() of the kernel sparseRun(a, tier) executes in this build. */
export function sparseSelect(a: SparseArgs, tier: i32): i32 {
  if (tier == 0) return SPARSE_REF;
  if (ASC_FEATURE_SIMD) {
    if (a.spmm != 0) return SPARSE_SPMM_SIMD;
    if (a.packed != 0) return SPARSE_SIMD;
  }
  return SPARSE_MVP;
}
