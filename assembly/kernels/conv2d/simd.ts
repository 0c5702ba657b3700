import { rtAlloc } from "../../graph/alloc";
import { ConvArgs } from "../args";
import { RQ_GROUP_BYTES, addFastSetupI32x4, addRowI8, packRequantGroup, requantizeI32x4, storeLanes8 } from "../common/fused-add";

// SIMD CONV_2D. General case: for each output row, the kH input rows it reads are widened to
// i16 (x + inputOffset) into scratch, with zeros where the filter hangs over the image, so
// every tap is uniform. Lanes hold 4 output channels; one i32 load-splat broadcasts a pair of
// i16 inputs, and i32x4.dot_i16x8_s against pre-packed i16 weight pairs does 8 MACs.
// With dilW == 1 the kW taps of a filter row are one contiguous run of kW*inC elements in
// the row buffer, so K is packed in pairs along that run (inC = 1 or 3 wastes nothing).
// Unpadded 1x1 convolutions get no arena scratch; their buffer (one widened row, or 64 pixels
// at a time when stride 1 makes all pixels one contiguous run) is allocated with the packed
// weights at load (SIMD build only; the MVP kernel needs none).
// A fused ADD runs as a separate vector pass per output row (or 64-pixel chunk): the tiles write
// the conv values to a stash after the packed weights, then addRowI8 combines stash and residual
// into the output 16 bytes at a time, which keeps the tiles' registers for the accumulators.

const BLOCK_HEADER_BYTES: i32 = 2 * RQ_GROUP_BYTES; // requant constants of 8 channels

/** An unpadded 1x1: no arena scratch. Same test as isPointwiseConv in host/format/scratch.ts. */
// @ts-ignore: decorator
@inline export function isPointwise(a: ConvArgs): bool {
  return a.kH == 1 && a.kW == 1 && a.padTop == 0 && a.padLeft == 0;
}

// Shape of the packed K axis for one filter row: `taps` runs of `pairs` i16 pairs.
// @ts-ignore: decorator
@inline function rowTaps(a: ConvArgs): i32 {
  return a.dilW == 1 ? 1 : a.kW;
}
// @ts-ignore: decorator
@inline function runPairs(a: ConvArgs): i32 {
  return ((a.dilW == 1 ? a.kW * a.inC : a.inC) + 1) >> 1;
}
// @ts-ignore: decorator
@inline function blockBytes(a: ConvArgs): i32 {
  return BLOCK_HEADER_BYTES + a.kH * rowTaps(a) * runPairs(a) * 32;
}

/** Widened row buffer: Wp pixels of inC i16 plus 2 elements of slack (odd runs read one past). */
// @ts-ignore: decorator
@inline export function paddedRowWidth(a: ConvArgs): i32 {
  return (a.outW - 1) * a.strideW + (a.kW - 1) * a.dilW + 1;
}
// @ts-ignore: decorator
@inline export function rowBufferBytes(a: ConvArgs): i32 {
  return ((paddedRowWidth(a) * a.inC + 2) * 2 + 15) & ~15;
}

/** Packs weights and requantization constants (SIMD build, at load). */
export function conv2dPackSimd(a: ConvArgs): void {
  const taps = rowTaps(a), pairs = runPairs(a);
  const runLen = a.dilW == 1 ? a.kW * a.inC : a.inC;
  const bb = blockBytes(a);
  // An unpadded 1x1 has no arena scratch (it runs at the peak of the memory plan): its widened
  // input buffer lives after the weights, in load-time memory.
  a.packed = rtAlloc(<usize>(((a.outC + 7) >> 3) * bb + (isPointwise(a) ? pointwiseBufferBytes(a) : 0) +
    (a.residual != 0 ? stashBytes(a) : 0)));
  if (a.packed == 0) return; // out of memory: run falls back to the MVP kernel
  let dst = a.packed;
  for (let o0 = 0; o0 < a.outC; o0 += 8) {
    const n = min(8, a.outC - o0);
    packRequantGroup(dst, a.bias, a.mult, a.shift, a.multStride, o0, min(4, n));
    packRequantGroup(dst + RQ_GROUP_BYTES, a.bias, a.mult, a.shift, a.multStride, o0 + 4, n - 4);
    let pw = dst + <usize>BLOCK_HEADER_BYTES;
    for (let kh = 0; kh < a.kH; kh++) {
      for (let t = 0; t < taps; t++) {
        for (let e = 0; e < pairs * 2; e += 2) {
          for (let j = 0; j < 8; j++) {
            for (let h = 0; h < 2; h++) {
              const k = e + h; // element of the run
              let w = 0;
              if (j < n && k < runLen) {
                const kw = a.dilW == 1 ? k / a.inC : t, ic = a.dilW == 1 ? k % a.inC : k;
                w = <i32>load<i8>(a.filter + <usize>((((o0 + j) * a.kH + kh) * a.kW + kw) * a.inC + ic));
              }
              store<i16>(pw + <usize>((j << 2) + (h << 1)), w);
            }
          }
          pw += 32;
        }
      }
    }
    dst += <usize>bb;
  }
}

const POINTWISE_CHUNK: i32 = 64; // pixels widened at a time by a stride-1 1x1

// @ts-ignore: decorator
@inline function pointwiseBufferBytes(a: ConvArgs): i32 {
  return max(rowBufferBytes(a), ((POINTWISE_CHUNK * a.inC + 2) * 2 + 15) & ~15);
}

/** Conv values of one output row or pointwise chunk before the fused ADD. */
// @ts-ignore: decorator
@inline function stashBytes(a: ConvArgs): i32 {
  return (max(a.outW, POINTWISE_CHUNK) * a.outC + 15) & ~15;
}
// @ts-ignore: decorator
@inline function stash(a: ConvArgs): usize {
  return a.packed + <usize>(((a.outC + 7) >> 3) * blockBytes(a) + (isPointwise(a) ? pointwiseBufferBytes(a) : 0));
}

/** The widened input rows: arena scratch, or for an unpadded 1x1 the area after the packed weights. */
// @ts-ignore: decorator
@inline function rowBuffers(a: ConvArgs): usize {
  return isPointwise(a) ? a.packed + <usize>(((a.outC + 7) >> 3) * blockBytes(a)) : a.scratch;
}

/** Widens input row iy into the row buffer at dst: element (bx, ic) = in[iy][bx - padLeft][ic] + offset, 0 outside. */
function fillRow(a: ConvArgs, iy: i32, dst: usize): void {
  const Wp = paddedRowWidth(a), inC = a.inC;
  const bxa = min(max(a.padLeft, 0), Wp), bxb = max(min(a.padLeft + a.inW, Wp), bxa);
  const rowElems = Wp * inC + 2;
  memory.fill(dst, 0, <usize>(bxa * inC * 2));
  memory.fill(dst + <usize>(bxb * inC * 2), 0, <usize>((rowElems - bxb * inC) * 2));
  widen(a.input + <usize>((iy * a.inW + bxa - a.padLeft) * inC), dst + <usize>(bxa * inC * 2), (bxb - bxa) * inC, a.inputOffset);
}

/** dst[i] = src[i] + offset as i16, for i < n. */
function widen(src: usize, dst: usize, n: i32, offset: i32): void {
  const offv = i16x8.splat(<i16>offset);
  let i = 0;
  for (; i + 8 <= n; i += 8) v128.store(dst + (<usize>i << 1), i16x8.add(v128.load8x8_s(src + <usize>i), offv));
  for (; i < n; i++) store<i16>(dst + (<usize>i << 1), <i32>load<i8>(src + <usize>i) + offset);
}

/**
 * qs8_conv2d_4x8__simd: CONV_2D int8 as qs8_conv2d__ref, register-tiled 4 output pixels (along
 * x) x 8 output channels, 1 x 8 for the last outW % 4 pixels. Preconditions: a.packed from
 * conv2dPackSimd, a.scratch holds conv2dScratchBytes(a) bytes (none for an unpadded 1x1).
 */
export function qs8_conv2d_4x8__simd(a: ConvArgs): void {
  const fast = addFastSetupI32x4(a.residual, a.add);
  if (isPointwise(a) && a.strideH == 1 && a.strideW == 1) {
    pointwiseContiguous(a, fast);
    return;
  }
  const rowBytes = <usize>rowBufferBytes(a);
  const rows = rowBuffers(a);
  const outRow = <usize>(a.outW * a.outC);
  for (let oy = 0; oy < a.outH; oy++) {
    const iy0 = oy * a.strideH - a.padTop;
    let kh0 = 0;
    while (kh0 < a.kH && iy0 + kh0 * a.dilH < 0) kh0++;
    let kh1 = a.kH;
    while (kh1 > kh0 && iy0 + (kh1 - 1) * a.dilH >= a.inH) kh1--;
    for (let kh = kh0; kh < kh1; kh++) fillRow(a, iy0 + kh * a.dilH, rows + <usize>kh * rowBytes);
    const at = <usize>oy * outRow;
    const out = a.residual != 0 ? stash(a) : a.output + at;
    let ox = 0;
    for (; ox + 4 <= a.outW; ox += 4) convTile4(a, rows, rowBytes, ox, out + <usize>(ox * a.outC), kh0, kh1);
    for (; ox < a.outW; ox++) convTile1(a, rows, rowBytes, ox, out + <usize>(ox * a.outC), kh0, kh1);
    if (a.residual != 0) addRowI8(a.output + at, out, a.residual + at, <i32>outRow, a.add, fast);
  }
}

/** Unpadded stride-1 1x1: the pixels are one contiguous run, tiled POINTWISE_CHUNK at a time across rows. */
function pointwiseContiguous(a: ConvArgs, fast: usize): void {
  const rows = rowBuffers(a);
  const pixels = a.outH * a.outW;
  for (let p0 = 0; p0 < pixels; p0 += POINTWISE_CHUNK) {
    const n = min(POINTWISE_CHUNK, pixels - p0);
    widen(a.input + <usize>(p0 * a.inC), rows, n * a.inC, a.inputOffset);
    const at = <usize>(p0 * a.outC);
    const out = a.residual != 0 ? stash(a) : a.output + at;
    let m = 0;
    for (; m + 4 <= n; m += 4) convTile4(a, rows, 0, m, out + <usize>(m * a.outC), 0, 1);
    for (; m < n; m++) convTile1(a, rows, 0, m, out + <usize>(m * a.outC), 0, 1);
    if (a.residual != 0) addRowI8(a.output + at, out, a.residual + at, n * a.outC, a.add, fast);
  }
}

/** Pixels bufX..bufX+3 of the row buffers x all channels, stored at out (pixel stride outC). */
function convTile4(a: ConvArgs, rows: usize, rowBytes: usize, bufX: i32, out: usize, kh0: i32, kh1: i32): void {
  const taps = rowTaps(a), pairs = runPairs(a);
  const bb = <usize>blockBytes(a);
  const ps = <usize>(a.strideW * a.inC * 2), ts = <usize>(a.dilW * a.inC * 2);
  const rowWeights = <usize>(taps * pairs * 32);
  const outv = i32x4.splat(a.outputOffset), lo = i32x4.splat(a.actMin), hi = i32x4.splat(a.actMax);
  const outPx = <usize>a.outC;
  let pb = a.packed;
  for (let o = 0; o < a.outC; o += 8) {
    let c00 = v128.load(pb), c01 = v128.load(pb, RQ_GROUP_BYTES);
    let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    let pw = pb + <usize>BLOCK_HEADER_BYTES + <usize>kh0 * rowWeights;
    for (let kh = kh0; kh < kh1; kh++) {
      let pt = rows + <usize>kh * rowBytes + <usize>bufX * ps;
      for (let t = 0; t < taps; t++) {
        let p = pt;
        for (let j = 0; j < pairs; j++) {
          const w0 = v128.load(pw), w1 = v128.load(pw, 16);
          let x = v128.load32_splat(p);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x, w1));
          x = v128.load32_splat(p + ps);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x, w1));
          x = v128.load32_splat(p + 2 * ps);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x, w1));
          x = v128.load32_splat(p + 3 * ps);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x, w1));
          p += 4;
          pw += 32;
        }
        pt += ts;
      }
    }
    const n = min(8, a.outC - o);
    const rq1 = pb + <usize>RQ_GROUP_BYTES;
    let idx = <usize>o;
    storeLanes8(out, idx, requantizeI32x4(c00, pb, outv, lo, hi), requantizeI32x4(c01, rq1, outv, lo, hi), 0, n, 0, null);
    idx += outPx;
    storeLanes8(out, idx, requantizeI32x4(c10, pb, outv, lo, hi), requantizeI32x4(c11, rq1, outv, lo, hi), 0, n, 0, null);
    idx += outPx;
    storeLanes8(out, idx, requantizeI32x4(c20, pb, outv, lo, hi), requantizeI32x4(c21, rq1, outv, lo, hi), 0, n, 0, null);
    idx += outPx;
    storeLanes8(out, idx, requantizeI32x4(c30, pb, outv, lo, hi), requantizeI32x4(c31, rq1, outv, lo, hi), 0, n, 0, null);
    pb += bb;
  }
}

/** Pixel bufX of the row buffers x all channels, stored at out. */
function convTile1(a: ConvArgs, rows: usize, rowBytes: usize, bufX: i32, out: usize, kh0: i32, kh1: i32): void {
  const taps = rowTaps(a), pairs = runPairs(a);
  const bb = <usize>blockBytes(a);
  const ts = <usize>(a.dilW * a.inC * 2);
  const rowWeights = <usize>(taps * pairs * 32);
  const outv = i32x4.splat(a.outputOffset), lo = i32x4.splat(a.actMin), hi = i32x4.splat(a.actMax);
  let pb = a.packed;
  for (let o = 0; o < a.outC; o += 8) {
    let c0 = v128.load(pb), c1 = v128.load(pb, RQ_GROUP_BYTES);
    let pw = pb + <usize>BLOCK_HEADER_BYTES + <usize>kh0 * rowWeights;
    for (let kh = kh0; kh < kh1; kh++) {
      let pt = rows + <usize>kh * rowBytes + <usize>(bufX * a.strideW * a.inC * 2);
      for (let t = 0; t < taps; t++) {
        let p = pt;
        for (let j = 0; j < pairs; j++) {
          const x = v128.load32_splat(p);
          c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x, v128.load(pw)));
          c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x, v128.load(pw, 16)));
          p += 4;
          pw += 32;
        }
        pt += ts;
      }
    }
    const q0 = requantizeI32x4(c0, pb, outv, lo, hi);
    const q1 = requantizeI32x4(c1, pb + <usize>RQ_GROUP_BYTES, outv, lo, hi);
    storeLanes8(out, <usize>o, q0, q1, 0, min(8, a.outC - o), 0, null);
    pb += bb;
  }
}
