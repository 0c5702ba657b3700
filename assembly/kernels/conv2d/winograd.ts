import { ConvArgs } from "../args";

// Winograd minimal filtering F(2x2, 3x3) in exact integers, shared by both builds.
//
// A 2x2 output tile needs a 4x4 input tile d (inputs plus the offset, 0 outside the image):
//   V = B^T d B,   U = G' g G'^T,   M = sum_ic U . V (16 products instead of 36),   Y = A^T M A
// with B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]], A^T = [[1,1,1,0],[0,1,-1,-1]] and
// G' = [[2,0,0],[1,1,1],[1,-1,1],[0,0,2]] (2x the usual G, so U is an integer): Y is exactly 4x
// the direct sum, and Y >> 2 is the direct sum bit for bit. |V| <= 4 * 255 and |U| <= 9 * 128
// fit in i16. Intermediate sums may wrap in i32; wrapping is a ring homomorphism, so Y is still
// exact as long as 4x the direct sum fits in i32, which inC <= WINO_MAX_IN_C guarantees
// (4 * 9 * 1024 * 255 * 128 < 2^31).

export const WINO_MAX_IN_C: i32 = 1024;

/** 3x3, stride 1, dilation 1, inC a multiple of 8 (vector input transform), inC <= WINO_MAX_IN_C. */
export function isWinograd3x3(a: ConvArgs): bool {
  return a.kH == 3 && a.kW == 3 && a.strideH == 1 && a.strideW == 1 && a.dilH == 1 && a.dilW == 1 &&
    (a.inC & 7) == 0 && a.inC > 0 && a.inC <= WINO_MAX_IN_C;
}

/**
 * U = G' g G'^T of filter[oc][.][.][ic] (OHWI), the 16 values stored at dst + p * pStride
 * (p = 4 * row + column), as i16.
 */
export function transformFilter(a: ConvArgs, oc: i32, ic: i32, dst: usize, pStride: usize): void {
  const inC = a.inC;
  const w = a.filter + <usize>(oc * 9 * inC + ic);
  const s = <usize>inC;
  const g00 = <i32>load<i8>(w), g01 = <i32>load<i8>(w + s), g02 = <i32>load<i8>(w + 2 * s);
  const g10 = <i32>load<i8>(w + 3 * s), g11 = <i32>load<i8>(w + 4 * s), g12 = <i32>load<i8>(w + 5 * s);
  const g20 = <i32>load<i8>(w + 6 * s), g21 = <i32>load<i8>(w + 7 * s), g22 = <i32>load<i8>(w + 8 * s);
  // T = G' g (rows 0..3, columns 0..2)
  const t00 = 2 * g00, t01 = 2 * g01, t02 = 2 * g02;
  const t10 = g00 + g10 + g20, t11 = g01 + g11 + g21, t12 = g02 + g12 + g22;
  const t20 = g00 - g10 + g20, t21 = g01 - g11 + g21, t22 = g02 - g12 + g22;
  const t30 = 2 * g20, t31 = 2 * g21, t32 = 2 * g22;
  rowTimesGt(dst, pStride, t00, t01, t02);
  rowTimesGt(dst + 4 * pStride, pStride, t10, t11, t12);
  rowTimesGt(dst + 8 * pStride, pStride, t20, t21, t22);
  rowTimesGt(dst + 12 * pStride, pStride, t30, t31, t32);
}

// @ts-ignore: decorator
@inline function rowTimesGt(dst: usize, pStride: usize, t0: i32, t1: i32, t2: i32): void {
  store<i16>(dst, 2 * t0);
  store<i16>(dst + pStride, t0 + t1 + t2);
  store<i16>(dst + 2 * pStride, t0 - t1 + t2);
  store<i16>(dst + 3 * pStride, 2 * t2);
}
