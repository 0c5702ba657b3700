// Scratch memory the conv-family kernels need, for the model compiler's arena plan. These are the
// same formulas as conv2dScratchBytes / depthwiseScratchBytes / fcScratchBytes in
// assembly/kernels/<family>/index.ts, and they do not depend on the build: a model compiled once
// runs on both the SIMD and the MVP runtime. test/kernels/conv-family.test.ts checks that the two
// copies agree on every shape it runs.

/** Shape fields of a CONV_2D or DEPTHWISE_CONV_2D (the ConvArgs fields the formulas read). */
export interface ConvScratchShape {
  inC: number;
  kH: number;
  kW: number;
  outW: number;
  strideW: number;
  dilW: number;
  padTop: number;
  padLeft: number;
}

/** Shape fields of a FULLY_CONNECTED. */
export interface FcScratchShape {
  depth: number;
  outC: number;
  batches: number;
}

/** An unpadded 1x1 convolution needs no arena scratch (it runs at the peak of the memory plan). */
export function isPointwiseConv(s: ConvScratchShape): boolean {
  return s.kH === 1 && s.kW === 1 && s.padTop === 0 && s.padLeft === 0;
}

/**
 * CONV_2D scratch bytes: 0 for an unpadded 1x1; otherwise kH rows of input widened to int16
 * (with the padding as zeros) covering one output row, each
 * roundUp16((((outW - 1) * strideW + (kW - 1) * dilW + 1) * inC + 2) * 2).
 * For the MLPerf Tiny models this stays at or under 3,888 bytes (ResNet-8's 8x8x64 3x3 conv).
 * The MVP build's i64-lane kernel packs its inputs into it (the whole K vector, or a few filter
 * rows per pass) and leaves the op to the plain scalar kernel where not even one row fits, so it
 * never grows the arena.
 */
export function convScratchBytes(s: ConvScratchShape): number {
  if (isPointwiseConv(s)) return 0;
  const paddedWidth = (s.outW - 1) * s.strideW + (s.kW - 1) * s.dilW + 1;
  const rowBytes = (((paddedWidth * s.inC + 2) * 2 + 15) & ~15) >>> 0;
  return s.kH * rowBytes;
}

/** DEPTHWISE_CONV_2D needs no scratch (it runs at the peak of the memory plan). */
export function depthwiseScratchBytes(_s: ConvScratchShape): number {
  return 0;
}

/** FULLY_CONNECTED needs no scratch. */
export function fcScratchBytes(_s: FcScratchShape): number {
  return 0;
}

/** ADD: the MVP kernel's input tables when the op is large enough (assembly/kernels/add/mvp.ts). */
export const ADD_LUT_MIN_COUNT = 512;
export const ADD_LUT_BYTES = 2048;
export function addScratchBytes(count: number): number {
  return count >= ADD_LUT_MIN_COUNT ? ADD_LUT_BYTES : 0;
}
