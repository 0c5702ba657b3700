import { SparseArgs } from "./args";
import { qs8_spmm__ref } from "./ref";
import { qs8_spmm_blk__mvp } from "./mvp";
import { qs8_spmm_4x8__simd, sparsePackSimd } from "./simd";
import { qs8_spmm_8x4__simd } from "./spmm-simd";
import { spmmPlan } from "./spmm-plan";
import { SPARSE_REF, SPARSE_SIMD, SPARSE_SPMM_SIMD, sparseSelect } from "./variants";

/**
 * Once at load. SIMD build: the pixels-in-lanes plan for many-pixel layers, else 4x8 chunks
 * when they pay (allocates). MVP: nothing.
 */
export function sparsePrepare(a: SparseArgs): void {
  if (ASC_FEATURE_SIMD) {
    spmmPlan(a);
    if (a.spmm == 0) sparsePackSimd(a);
  }
}

/** tier 0: qs8_spmm__ref; tier 1: this build's fast kernel (see sparseVariants()). */
export function sparseRun(a: SparseArgs, tier: i32): void {
  const v = sparseSelect(a, tier);
  if (v == SPARSE_REF) {
    qs8_spmm__ref(a);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if (v == SPARSE_SPMM_SIMD) {
      qs8_spmm_8x4__simd(a);
      return;
    }
    if (v == SPARSE_SIMD) {
      qs8_spmm_4x8__simd(a);
      return;
    }
  }
  qs8_spmm_blk__mvp(a);
}
