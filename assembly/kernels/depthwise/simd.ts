import { rtAlloc } from "../../graph/alloc";
import { ConvArgs } from "../args";
import { RQ_GROUP_BYTES, packRequantGroup, requantizeI32x4, storeLanes8 } from "../common/fused-add";

// SIMD DEPTHWISE_CONV_2D (depthMultiplier 1). Lanes hold channels. Taps go in pairs: the two
// taps' inputs (8 channels each, widened to i16 + inputOffset) are interleaved so that
// i32x4.dot_i16x8_s adds tap0*w0 + tap1*w1 per channel, 8 MACs per instruction. Channels run
// in chunks of 8; the last chunk ends at the last channel (overlapping the previous one) and
// stores only its new lanes, so no byte past a pixel's channels is written and residual bytes
// are read exactly once. No scratch.
//
// Pixels whose window lies inside the image take a loop without tap checks that multiplies the
// raw inputs and starts from bias + inputOffset * sum(w) (same value, two fewer ops per pair).
//
// Packed layout: tap table [T2 entries x 32 B], T2 = kH*kW rounded up to even (the extra tap
// has zero weights); the zero-point row (16 B); then per chunk
// [2 requant groups, 192 B][bias + inputOffset * sum_t w, 2 x i32x4][T2/2 pairs x 2 vectors
// (channels 0-3, 4-7) of (w_t0, w_t1) i16].

// Tap table entry: +0 input byte offset from the window origin, +4 kh, +8 kw; +16 and +20 are
// rewritten for each border pixel: the tap's input address (or the zero-point row) and a mask
// for the chunk start (-1, or 0 for the zero-point row).
const TAP_BYTES: i32 = 32;
const ZP_ROW_BYTES: i32 = 16; // 16 bytes of the input zero point: (zp + inputOffset) == 0
const INSIDE_BIAS: i32 = 2 * RQ_GROUP_BYTES; // offset of the interior start values in a chunk
const CHUNK_HEADER_BYTES: i32 = INSIDE_BIAS + 32;

// @ts-ignore: decorator
@inline function tapSlots(a: ConvArgs): i32 {
  return (a.kH * a.kW + 1) & ~1;
}
// @ts-ignore: decorator
@inline function chunkBytes(a: ConvArgs): i32 {
  return CHUNK_HEADER_BYTES + (tapSlots(a) >> 1) * 32;
}
// @ts-ignore: decorator
@inline function zeroPointRow(a: ConvArgs): usize {
  return a.packed + <usize>(tapSlots(a) * TAP_BYTES);
}
// @ts-ignore: decorator
@inline function firstChunk(a: ConvArgs): usize {
  return zeroPointRow(a) + <usize>ZP_ROW_BYTES;
}
// @ts-ignore: decorator
@inline function chunkStart(C: i32, c: i32, chunks: i32): i32 {
  return c < chunks - 1 ? c << 3 : C - 8;
}

/** Packs the tap table, weights and requantization constants (SIMD build, at load, depthMultiplier 1). */
export function depthwisePackSimd(a: ConvArgs): void {
  const C = a.outC, T = a.kH * a.kW, T2 = tapSlots(a);
  const chunks = (C + 7) >> 3;
  a.packed = rtAlloc(<usize>(T2 * TAP_BYTES + ZP_ROW_BYTES + chunks * chunkBytes(a)));
  if (a.packed == 0) return; // out of memory: run falls back to the MVP kernel
  for (let t = 0; t < T2; t++) {
    const e = a.packed + <usize>(t * TAP_BYTES);
    const kh = t < T ? t / a.kW : -1, kw = t < T ? t % a.kW : -1;
    store<i32>(e, t < T ? (kh * a.dilH * a.inW + kw * a.dilW) * C : 0);
    store<i32>(e, kh, 4);
    store<i32>(e, kw, 8);
  }
  memory.fill(zeroPointRow(a), <u8>(-a.inputOffset), ZP_ROW_BYTES);
  let dst = firstChunk(a);
  for (let c = 0; c < chunks; c++) {
    const start = chunkStart(C, c, chunks);
    // Lanes whose channel start+l lies in [8c, C) are this chunk's; the requant groups cover
    // start.. (lanes before 8c compute garbage that is never stored).
    packRequantGroup(dst, a.bias, a.mult, a.shift, a.multStride, start, 4);
    packRequantGroup(dst + RQ_GROUP_BYTES, a.bias, a.mult, a.shift, a.multStride, start + 4, 4);
    let pw = dst + <usize>CHUNK_HEADER_BYTES;
    for (let l = 0; l < 8; l++) store<i32>(dst + <usize>(INSIDE_BIAS + (l << 2)), load<i32>(dst + <usize>((l >> 2) * RQ_GROUP_BYTES + ((l & 3) << 2))));
    for (let t = 0; t < T2; t += 2) {
      for (let l = 0; l < 8; l++) {
        const ch = start + l;
        for (let h = 0; h < 2; h++) {
          let w = 0;
          if (t + h < T && ch >= c << 3 && ch < C) w = <i32>load<i8>(a.filter + <usize>((t + h) * C + ch));
          store<i16>(pw + <usize>((l << 2) + (h << 1)), w);
          const sum = dst + <usize>(INSIDE_BIAS + (l << 2));
          store<i32>(sum, load<i32>(sum) + a.inputOffset * w);
        }
      }
      pw += 32;
    }
    dst += <usize>chunkBytes(a);
  }
}

/**
 * qs8_dwconv_1x8__simd: DEPTHWISE_CONV_2D int8 as qs8_dwconv__ref for depthMultiplier 1, one
 * pixel x 8 channels per step. Preconditions: depthMultiplier == 1, a.packed from
 * depthwisePackSimd, input address >= 8 (fewer than 8 channels read bytes before a pixel).
 */
export function qs8_dwconv_1x8__simd(a: ConvArgs): void {
  const C = a.outC;
  for (let oy = 0; oy < a.outH; oy++) {
    const iy0 = oy * a.strideH - a.padTop;
    let kh0 = 0;
    while (kh0 < a.kH && iy0 + kh0 * a.dilH < 0) kh0++;
    let kh1 = a.kH;
    while (kh1 > kh0 && iy0 + (kh1 - 1) * a.dilH >= a.inH) kh1--;
    for (let ox = 0; ox < a.outW; ox++) {
      const ix0 = ox * a.strideW - a.padLeft;
      let kw0 = 0;
      while (kw0 < a.kW && ix0 + kw0 * a.dilW < 0) kw0++;
      let kw1 = a.kW;
      while (kw1 > kw0 && ix0 + (kw1 - 1) * a.dilW >= a.inW) kw1--;
      const origin = a.input + <usize>((iy0 * a.inW + ix0) * C);
      const outIndex = <usize>((oy * a.outW + ox) * C);
      if (kh0 == 0 && kh1 == a.kH && kw0 == 0 && kw1 == a.kW) dwPixelInside(a, origin, outIndex);
      else dwPixelBorder(a, origin, outIndex, kh0, kh1, kw0, kw1);
    }
  }
}

/** One pixel whose window lies inside the image: no tap checks, raw inputs, folded offset. */
function dwPixelInside(a: ConvArgs, origin: usize, outIndex: usize): void {
  const C = a.outC, T2 = tapSlots(a);
  const chunks = (C + 7) >> 3;
  const outv = i32x4.splat(a.outputOffset), lo = i32x4.splat(a.actMin), hi = i32x4.splat(a.actMax);
  const table = a.packed;
  let pc = firstChunk(a);
  for (let c = 0; c < chunks; c++) {
    const start = chunkStart(C, c, chunks);
    const base = origin + <usize>start;
    let acc0 = v128.load(pc, INSIDE_BIAS), acc1 = v128.load(pc, INSIDE_BIAS + 16);
    let pw = pc + <usize>CHUNK_HEADER_BYTES;
    for (let e = table, end = table + <usize>(T2 * TAP_BYTES); e < end; e += <usize>(2 * TAP_BYTES)) {
      const x0 = v128.load8x8_s(base + <usize>load<i32>(e));
      const x1 = v128.load8x8_s(base + <usize>load<i32>(e, TAP_BYTES));
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.shuffle<i16>(x0, x1, 0, 8, 1, 9, 2, 10, 3, 11), v128.load(pw)));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.shuffle<i16>(x0, x1, 4, 12, 5, 13, 6, 14, 7, 15), v128.load(pw, 16)));
      pw += 32;
    }
    const q0 = requantizeI32x4(acc0, pc, outv, lo, hi);
    const q1 = requantizeI32x4(acc1, pc + <usize>RQ_GROUP_BYTES, outv, lo, hi);
    storeLanes8(a.output, outIndex + <usize>start, q0, q1, (c << 3) - start, min(8, C - start), a.residual, a.add);
    pc += <usize>chunkBytes(a);
  }
}

/**
 * One pixel on the border: taps outside [kh0, kh1) x [kw0, kw1) read the zero-point row, so
 * (x + inputOffset) is 0 for them, as if skipped.
 */
function dwPixelBorder(a: ConvArgs, origin: usize, outIndex: usize, kh0: i32, kh1: i32, kw0: i32, kw1: i32): void {
  const C = a.outC, T2 = tapSlots(a);
  const chunks = (C + 7) >> 3;
  const offv = i16x8.splat(<i16>a.inputOffset);
  const outv = i32x4.splat(a.outputOffset), lo = i32x4.splat(a.actMin), hi = i32x4.splat(a.actMax);
  const table = a.packed, end = table + <usize>(T2 * TAP_BYTES), zpRow = zeroPointRow(a);
  for (let e = table; e < end; e += <usize>TAP_BYTES) {
    const kh = load<i32>(e, 4), kw = load<i32>(e, 8);
    const inside = kh >= kh0 && kh < kh1 && kw >= kw0 && kw < kw1;
    store<usize>(e, inside ? origin + <usize>load<i32>(e) : zpRow, 16);
    store<i32>(e, inside ? -1 : 0, 20);
  }
  let pc = firstChunk(a);
  for (let c = 0; c < chunks; c++) {
    const start = chunkStart(C, c, chunks);
    let acc0 = v128.load(pc), acc1 = v128.load(pc, RQ_GROUP_BYTES);
    let pw = pc + <usize>CHUNK_HEADER_BYTES;
    for (let e = table; e < end; e += <usize>(2 * TAP_BYTES)) {
      const p0 = load<usize>(e, 16) + <usize>(start & load<i32>(e, 20));
      const p1 = load<usize>(e, TAP_BYTES + 16) + <usize>(start & load<i32>(e, TAP_BYTES + 20));
      const x0 = i16x8.add(v128.load8x8_s(p0), offv), x1 = i16x8.add(v128.load8x8_s(p1), offv);
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.shuffle<i16>(x0, x1, 0, 8, 1, 9, 2, 10, 3, 11), v128.load(pw)));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.shuffle<i16>(x0, x1, 4, 12, 5, 13, 6, 14, 7, 15), v128.load(pw, 16)));
      pw += 32;
    }
    const q0 = requantizeI32x4(acc0, pc, outv, lo, hi);
    const q1 = requantizeI32x4(acc1, pc + <usize>RQ_GROUP_BYTES, outv, lo, hi);
    storeLanes8(a.output, outIndex + <usize>start, q0, q1, (c << 3) - start, min(8, C - start), a.residual, a.add);
    pc += <usize>chunkBytes(a);
  }
}
