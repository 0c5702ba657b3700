import { ConvArgs } from "../args";

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

export const CONV2D_VARIANTS: KernelVariant[] = [
  new KernelVariant("qs8_conv2d__ref", 0, BUILD_ANY, "any shape"),
  new KernelVariant("qs8_conv2d_4x4__mvp", 1, BUILD_MVP, "any shape"),
  new KernelVariant("qs8_conv2d_4x8__simd", 1, BUILD_SIMD, "any shape"),
];

/** Index in CONV2D_VARIANTS of the kernel conv2dRun(a, tier) executes in this build. */
export function conv2dSelect(a: ConvArgs, tier: i32): i32 {
  if (tier == 0) return CONV2D_REF;
  if (ASC_FEATURE_SIMD) {
    if (a.packed != 0) return CONV2D_SIMD;
  }
  return CONV2D_MVP; // also the SIMD build's fallback when prepare has not packed
}
