import { ConvArgs } from "../args";
import { isWinograd3x3 } from "./winograd";
import { conv1x1I64Applies, convI64Applies } from "./mvp-i64";

// The kernels of the CONV_2D family, one list for dispatch, tests and the benchmark
// (XNNPACK-style): name (dtype_family_tile__isa), tier (0 reference, 1 fast), build.

export const BUILD_ANY: i32 = 0;
export const BUILD_MVP: i32 = 1;
export const BUILD_SIMD: i32 = 2;

export class KernelVariant {
  constructor(public name: string, public tier: i32, public build: i32, public applies: string) {}
}

export const CONV2D_REF: i32 = 0;
export const CONV2D_MVP: i32 = 1;
export const CONV2D_SIMD: i32 = 2;
export const CONV2D_I64_MVP: i32 = 3;
export const CONV2D_WINO_SIMD: i32 = 4;
export const CONV2D_1X1_I64_MVP: i32 = 5;

/**
 * The family's variants (name, tier, build, where it applies), built on call: a list held in a
 * global would be allocated at module start in the shipped builds, costing microcontroller RAM.
 */
export function conv2dVariants(): KernelVariant[] {
  return [
    new KernelVariant("qs8_conv2d__ref", 0, BUILD_ANY, "any shape"),
    new KernelVariant("qs8_conv2d_4x4__mvp", 1, BUILD_MVP, "any shape"),
    new KernelVariant("qs8_conv2d_4x8__simd", 1, BUILD_SIMD, "any shape"),
    new KernelVariant("qs8_conv2d_3x4_i64__mvp", 1, BUILD_MVP, "scratch holds a filter row's packing (all but unpadded 1x1)"),
    new KernelVariant("qs8_conv2d_wino2x2_4x8__simd", 1, BUILD_SIMD, "3x3 s1 d1, inC%8=0"),
    new KernelVariant("qs8_conv2d_1x1_3x4_i64__mvp", 1, BUILD_MVP, "unpadded 1x1, any stride"),
  ];
}

/** Index in conv2dVariants() of the kernel conv2dRun(a, tier) executes in this build. */
export function conv2dSelect(a: ConvArgs, tier: i32): i32 {
  if (tier == 0) return CONV2D_REF;
  if (ASC_FEATURE_SIMD) {
    if (a.packed != 0) return isWinograd3x3(a) ? CONV2D_WINO_SIMD : CONV2D_SIMD;
  }
  // Where the planned scratch (sized for the SIMD kernel's widened rows) holds at least one filter
  // row's packing: all of ResNet-8's 3x3 convs; unpadded 1x1 convs plan no scratch and take the twin that packs as it goes.
  if (convI64Applies(a)) return CONV2D_I64_MVP;
  if (conv1x1I64Applies(a)) return CONV2D_1X1_I64_MVP; // packs as it goes: no scratch
  return CONV2D_MVP; // also the SIMD build's fallback when prepare has not packed
}
