import { ConvArgs } from "../args";
import { qs8_conv2d__ref } from "./ref";
import { qs8_conv2d_4x4__mvp } from "./mvp";
import { qs8_conv2d_1x1_3x4_i64__mvp, qs8_conv2d_3x4_i64__mvp } from "./mvp-i64";
import { conv2dPackSimd, isPointwise, qs8_conv2d_4x8__simd, rowBufferBytes } from "./simd";
import { CONV2D_1X1_I64_MVP, CONV2D_I64_MVP, CONV2D_REF, CONV2D_SIMD, CONV2D_WINO_SIMD, conv2dSelect } from "./variants";
import { conv2dPackWinograd, qs8_conv2d_wino2x2_4x8__simd } from "./winograd-simd";
import { isWinograd3x3 } from "./winograd";

/**
 * Once at load. SIMD build: packs i16 weight pairs (Winograd-transformed filters for 3x3 stride 1,
 * see winograd-simd.ts) and requant constants into a.packed (allocates). MVP: nothing.
 */
export function conv2dPrepare(a: ConvArgs): void {
  if (ASC_FEATURE_SIMD) {
    if (isWinograd3x3(a)) conv2dPackWinograd(a);
    else conv2dPackSimd(a);
  }
}

/**
 * Scratch bytes for these shapes, the same in both builds (host/format/scratch.ts has the same
 * formula): 0 for an unpadded 1x1, else kH widened input rows of
 * roundUp16(((outW-1)*strideW + (kW-1)*dilW + 1) * inC * 2 + 4). The MVP build's
 * qs8_conv2d_3x4_i64__mvp packs its inputs here (convI64PassRows: in one or several passes
 * over the filter rows) and leaves the op to qs8_conv2d_4x4__mvp where not even one row fits.
 */
export function conv2dScratchBytes(a: ConvArgs): i32 {
  return isPointwise(a) ? 0 : a.kH * rowBufferBytes(a);
}

/** tier 0: qs8_conv2d__ref; tier 1: this build's fast kernel (see conv2dVariants()). */
export function conv2dRun(a: ConvArgs, tier: i32): void {
  const v = conv2dSelect(a, tier);
  if (v == CONV2D_REF) {
    qs8_conv2d__ref(a);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if (v == CONV2D_SIMD) {
      qs8_conv2d_4x8__simd(a);
      return;
    }
    if (v == CONV2D_WINO_SIMD) {
      qs8_conv2d_wino2x2_4x8__simd(a);
      return;
    }
  }
  if (v == CONV2D_I64_MVP) {
    qs8_conv2d_3x4_i64__mvp(a);
    return;
  }
  if (v == CONV2D_1X1_I64_MVP) {
    qs8_conv2d_1x1_3x4_i64__mvp(a);
    return;
  }
  qs8_conv2d_4x4__mvp(a);
}
