import { shiftAt } from "../args";
import { rtAlloc } from "../../graph/alloc";
import { SparseArgs } from "./args";
import { addFastSetupI32x4, addRowI8 } from "../common/fused-add";

// qs8_spmm_8x4__simd: sparse weights x dense activations with output pixels in the vector
// lanes (XNNPACK's f32-spmm layout, MR = 8 pixels, NR = 4 channels), for layers with many output
// pixels (a 1x1 CONV_2D; FULLY_CONNECTED with batches). Every stored weight is broadcast once
// and multiplied against 8 pixels, so scattered (unstructured) weights cost no gather.
//
// Per run, the input pixels are transposed into x: [ceil(K/2) input pairs][P pixels] i32, each
// lane the two int8 inputs 2j, 2j+1 of one pixel as i16 (P = pixels rounded up to 16; padded
// lanes stay 0). i32x4.dot_i16x8_s against a broadcast weight pair (w[2j], w[2j+1]) then does
// 2 MACs per pixel lane. The input offset is folded into the bias at load:
// sum((x + off) * w) + bias = sum(x * w) + (bias + off * sum(w)).
//
// Load-time stream, per group of 4 output channels (16-aligned):
//   u32 mode = 4: u32 n, n entries of [u32 pair offset j * P * 4][4 x i32 weight pairs (channels 0..3)]
//                 (weights clustered over the 4 channels: one x load serves 4 channels)
//   u32 mode = 1: per channel c = 0..3: u32 n_c, n_c entries of [u32 pair offset][i32 weight pair]
//                 (scattered weights: each channel reads only its own nonzero pairs)
// Requantization, per channel (all lanes share multiplier and shift), the TFLite arithmetic
// rearranged: with s = 2^(left+1) folded into the packed weights and bias (so the accumulator
// is acc * s), SRDHM(acc << left, m) = floor((acc*s*m + 2^31) / 2^32), the high word of one i64
// product; adding half = 2^(e-1) there too, rounding half away from zero is
// (r' - (r' < half)) >> e with r' = r + half. Exact when |acc| * s < 2^31 (so every sum fits),
// which load proves from the weights, bias and input offset per channel, with left <= 6 (s * w
// fits i16); otherwise this kernel is not used.
// Preconditions: N % 4 == 0, pixels >= SPMM_MIN_PIXELS.

export const SPMM_MIN_PIXELS: i32 = 8;
const RQ_BYTES: i32 = 32; // per channel: i64 nudge 2^31 + half * 2^32, i32 bias * s, mult, e, half
const MODE4_ENTRY: i32 = 20;
const MODE1_ENTRY: i32 = 8;
// Relative costs of an entry per 8 pixels (instructions, incl. loop overhead), to pick a group's mode.
const MODE4_COST: i32 = 26;
const MODE1_COST: i32 = 11;

/** The plan the kernel runs from (allocated at load, SIMD build). */
@unmanaged export class SpmmPlan {
  x: usize = 0; // transposed input pairs [Kp][P] i32
  P: i32 = 0;
  Kp: i32 = 0;
  rq: usize = 0; // N x RQ_BYTES
  stream: usize = 0;
  stash: usize = 0; // fused ADD: conv values before the ADD pass (pixels x N bytes)
  pixels: i32 = 0;
}

// @ts-ignore: decorator
@inline function pixelCount(a: SparseArgs): i32 {
  return a.outH * a.outW;
}

/** Writes row o of the sparse matrix as dense int8 into row (K bytes, zeroed by the caller). */
function denseRow(a: SparseArgs, o: i32, row: usize): void {
  const R = a.R, C = a.C, g = o / R, r = o % R;
  let k = 0;
  for (let i = 0; i < g; i++) k += <i32>load<u16>(a.counts + (<usize>i << 1));
  const n = <i32>load<u16>(a.counts + (<usize>g << 1));
  let col = 0;
  for (let j = 0; j < n; j++, k++) {
    col += <i32>load<u8>(a.steps + <usize>k);
    memory.copy(row + <usize>(col * C), a.values + <usize>((k * R + r) * C), <usize>C);
  }
}

/** Inputs (or weights times 2^scaleLog2) 2j and 2j+1 of a row as an i16 pair (the second 0 past K). */
// @ts-ignore: decorator
@inline function pairAt(row: usize, j: i32, K: i32, scaleLog2: i32 = 0): i32 {
  const lo = <i32>load<i8>(row + <usize>(2 * j)) << scaleLog2;
  const hi = 2 * j + 1 < K ? <i32>load<i8>(row + <usize>(2 * j + 1)) << scaleLog2 : 0;
  return (lo & 0xffff) | (hi << 16);
}

/** log2 of channel o's accumulator scale s = 2^(left+1) (see the header). */
// @ts-ignore: decorator
@inline function scaleLog2(a: SparseArgs, o: i32): i32 {
  const shift = shiftAt(a.shift, o, a.multStride);
  return (shift > 0 ? shift : 0) + 1;
}

/** Requantization constants of channel o; false when the exact fast path cannot be proven. */
function packRq(a: SparseArgs, o: i32, row: usize, dst: usize): bool {
  let sum: i64 = 0, sumAbs: i64 = 0;
  for (let k = 0; k < a.K; k++) {
    const w = <i64>load<i8>(row + <usize>k);
    sum += w;
    sumAbs += w < 0 ? -w : w;
  }
  const bias: i64 = a.bias != 0 ? <i64>load<i32>(a.bias + (<usize>o << 2)) : 0;
  const off = <i64>a.inputOffset;
  const shift = shiftAt(a.shift, o, a.multStride);
  const left = shift > 0 ? shift : 0, e = shift > 0 ? 0 : -shift;
  if (left > 6) return false;
  // |acc| <= sum|w| * max|x + off| + |bias|, and acc * 2^(left+1) must stay below 2^31.
  const bound = (sumAbs * (128 + (off < 0 ? -off : off)) + (bias < 0 ? -bias : bias)) << (left + 1);
  if (bound >= (<i64>1 << 31)) return false;
  // The output offset joins half (zp * 2^e + half, shifted right by e, adds zp after rounding);
  // r + that must stay inside i32 with |r| < 2^30.
  const zpe = (<i64>a.outputOffset << e) + (e > 0 ? <i64>1 << (e - 1) : 0);
  if ((zpe < 0 ? -zpe : zpe) >= (<i64>1 << 30)) return false;
  const half = zpe;
  store<i64>(dst, (<i64>1 << 31) + (half << 32));
  store<i32>(dst, <i32>((bias + off * sum) << (left + 1)), 8);
  store<i32>(dst, load<i32>(a.mult + <usize>(o * a.multStride)), 12);
  store<i32>(dst, e, 16);
  store<i32>(dst, <i32>half, 20);
  return true;
}

/** Mode-4 entries of group q (rows: its 4 channels dense) at e: every pair any channel uses. */
function writeGroup4(a: SparseArgs, sp: SpmmPlan, q: i32, rows: usize, e: usize): void {
  const K = a.K;
  for (let j = 0; j < sp.Kp; j++) {
    let any = false;
    for (let c = 0; c < 4; c++) any = any || pairAt(rows + <usize>(c * K), j, K) != 0;
    if (!any) continue;
    store<u32>(e, <u32>(j * sp.P * 4));
    for (let c = 0; c < 4; c++) store<i32>(e + <usize>(4 + 4 * c), pairAt(rows + <usize>(c * K), j, K, scaleLog2(a, (q << 2) + c)));
    e += MODE4_ENTRY;
  }
}

/** Mode-1 lists of group q at e: per channel its count, then its own nonzero pairs. */
function writeGroup1(a: SparseArgs, sp: SpmmPlan, q: i32, rows: usize, e: usize): void {
  const K = a.K;
  for (let c = 0; c < 4; c++) {
    const row = rows + <usize>(c * K), sl = scaleLog2(a, (q << 2) + c);
    const head = e;
    e += 4;
    let n = 0;
    for (let j = 0; j < sp.Kp; j++) {
      const w = pairAt(row, j, K, sl);
      if (w == 0) continue;
      store<u32>(e, <u32>(j * sp.P * 4));
      store<i32>(e, w, 4);
      e += MODE1_ENTRY;
      n++;
    }
    store<u32>(head, n);
  }
}

/** Pass over the groups: sizes the stream (write == false) or writes it; -1 if a channel fails packRq. */
function buildStream(a: SparseArgs, sp: SpmmPlan, rows: usize, write: bool): i32 {
  const K = a.K;
  let p = sp.stream;
  let bytes = 0;
  for (let q = 0; q < (a.N >> 2); q++) {
    memory.fill(rows, 0, <usize>(4 * K));
    for (let c = 0; c < 4; c++) denseRow(a, (q << 2) + c, rows + <usize>(c * K));
    if (write) {
      for (let c = 0; c < 4; c++) {
        if (!packRq(a, (q << 2) + c, rows + <usize>(c * K), sp.rq + <usize>(((q << 2) + c) * RQ_BYTES))) return -1;
      }
    }
    let union = 0, single = 0; // pairs any of the 4 channels uses; nonzero (channel, pair)s
    for (let j = 0; j < sp.Kp; j++) {
      let any = false;
      for (let c = 0; c < 4; c++) {
        if (pairAt(rows + <usize>(c * K), j, K) == 0) continue;
        single++;
        any = true;
      }
      if (any) union++;
    }
    const mode4 = union * MODE4_COST <= single * MODE1_COST;
    const size = ((mode4 ? 8 + union * MODE4_ENTRY : 4 + 16 + single * MODE1_ENTRY) + 15) & ~15;
    bytes += size;
    if (!write) continue;
    store<u32>(p, mode4 ? 4 : 1);
    if (mode4) {
      store<u32>(p, union, 4);
      writeGroup4(a, sp, q, rows, p + 8);
    } else {
      writeGroup1(a, sp, q, rows, p + 4);
    }
    p += <usize>size;
  }
  return bytes;
}

/** Once at load (SIMD build): the plan in a.spmm, or 0 when the kernel does not apply or memory runs out. */
export function spmmPlan(a: SparseArgs): void {
  a.spmm = 0;
  const pixels = pixelCount(a);
  if ((a.N & 3) != 0 || pixels < SPMM_MIN_PIXELS) return;
  const sp = changetype<SpmmPlan>(rtAlloc(offsetof<SpmmPlan>()));
  const rows = rtAlloc(<usize>(4 * a.K));
  if (changetype<usize>(sp) == 0 || rows == 0) return;
  sp.pixels = pixels;
  sp.P = (pixels + 15) & ~15; // group1 runs 16 pixels at a time, group4 8
  sp.Kp = (a.K + 1) >> 1;
  const streamBytes = buildStream(a, sp, rows, false);
  sp.x = rtAlloc(<usize>sp.Kp * <usize>sp.P * 4);
  sp.rq = rtAlloc(<usize>(a.N * RQ_BYTES));
  sp.stream = rtAlloc(<usize>streamBytes);
  if (sp.x == 0 || sp.rq == 0 || sp.stream == 0) return;
  if (a.residual != 0) {
    sp.stash = rtAlloc(<usize>pixels * <usize>a.N);
    if (sp.stash == 0) return;
  }
  if (buildStream(a, sp, rows, true) < 0) return;
  a.spmm = changetype<usize>(sp);
}

// [r0 r1 r2 r3] rows of 4 i32 -> columns, stored at dst, dst + stride, ...
// @ts-ignore: decorator
@inline function transposeStore(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<i32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<i32>(t2, t3, 2, 3, 6, 7));
}

// @ts-ignore: decorator
@inline function pixelAddr(a: SparseArgs, m: i32, contiguous: bool): usize {
  if (contiguous) return a.input + <usize>(m * a.K); // stride 1 (and FC): no division
  const oy = m / a.outW, ox = m - oy * a.outW;
  return a.input + <usize>(oy * a.rowStride + ox * a.colStride);
}

/** The input pixels as i16 pairs, transposed into sp.x (4 pixels x 16 channels per step). */
function fillX(a: SparseArgs, sp: SpmmPlan): void {
  const K = a.K, P = <usize>sp.P, stride = P << 2;
  const cont = a.colStride == K && a.rowStride == a.outW * K;
  let m = 0;
  for (; m + 4 <= sp.pixels; m += 4) {
    const p0 = pixelAddr(a, m, cont), p1 = pixelAddr(a, m + 1, cont), p2 = pixelAddr(a, m + 2, cont), p3 = pixelAddr(a, m + 3, cont);
    let c = 0;
    for (; c + 16 <= K; c += 16) {
      const r0 = v128.load(p0 + <usize>c), r1 = v128.load(p1 + <usize>c), r2 = v128.load(p2 + <usize>c), r3 = v128.load(p3 + <usize>c);
      const dst = sp.x + ((<usize>(c >> 1) * P + <usize>m) << 2);
      transposeStore(i16x8.extend_low_i8x16_s(r0), i16x8.extend_low_i8x16_s(r1), i16x8.extend_low_i8x16_s(r2), i16x8.extend_low_i8x16_s(r3), dst, stride);
      transposeStore(i16x8.extend_high_i8x16_s(r0), i16x8.extend_high_i8x16_s(r1), i16x8.extend_high_i8x16_s(r2), i16x8.extend_high_i8x16_s(r3), dst + 4 * stride, stride);
    }
    for (; c < K; c += 2) {
      const dst = sp.x + ((<usize>(c >> 1) * P + <usize>m) << 2);
      store<i32>(dst, pairAt(p0, c >> 1, K));
      store<i32>(dst, pairAt(p1, c >> 1, K), 4);
      store<i32>(dst, pairAt(p2, c >> 1, K), 8);
      store<i32>(dst, pairAt(p3, c >> 1, K), 12);
    }
  }
  for (; m < sp.pixels; m++) {
    const p = pixelAddr(a, m, cont);
    for (let j = 0; j < sp.Kp; j++) store<i32>(sp.x + ((<usize>j * P + <usize>m) << 2), pairAt(p, j, K));
  }
}

/** Requantizes 4 pixel lanes of one channel (acc: bias included), output offset included; m, nudge, half, e from rq. */
// @ts-ignore: decorator
@inline function rqLanes(acc: v128, m: v128, nudge: v128, half: v128, e: i32): v128 {
  const lo = i64x2.add(i64x2.extmul_low_i32x4_s(acc, m), nudge);
  const hi = i64x2.add(i64x2.extmul_high_i32x4_s(acc, m), nudge);
  const r = v128.shuffle<i32>(lo, hi, 1, 3, 5, 7); // r + half (half: 2^(e-1) + zp * 2^e)
  return e > 0 ? i32x4.shr_s(i32x4.add(r, i32x4.lt_s(r, half)), e) : r;
}

/** rqLanes on two vectors of one channel (pixels 0-3 in acc[0], 4-7 in acc[1] of the pair) with its constants at rq. */
// @ts-ignore: decorator
@inline function rq4(acc: v128, rq: usize): v128 {
  return rqLanes(acc, v128.load32_splat(rq, 12), v128.load64_splat(rq), v128.load32_splat(rq, 20), load<i32>(rq, 16));
}

/**
 * 4 channels x 8 pixels of requantized lanes (c0..c3: pixels 0-3, d0..d3: pixels 4-7) to int8
 * with the output offset and clamp, stored NHWC: pixel p's 4 bytes at out + p * N.
 */
// @ts-ignore: decorator
@inline function store4x8(c0: v128, c1: v128, c2: v128, c3: v128, d0: v128, d1: v128, d2: v128, d3: v128,
    out: usize, N: usize, valid: i32, lo: v128, hi: v128): void {
  // Narrowing saturates to int8, a superset of [actMin, actMax], so clamping afterwards gives
  // what clamping the exact value gives.
  const s0 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3));
  const s1 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(d0, d1), i16x8.narrow_i32x4_s(d2, d3));
  const t0 = i8x16.min_s(i8x16.max_s(v128.shuffle<u8>(s0, s0, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), lo), hi);
  const t1 = i8x16.min_s(i8x16.max_s(v128.shuffle<u8>(s1, s1, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), lo), hi);
  if (valid >= 8) {
    v128.store32_lane(out, t0, 0); v128.store32_lane(out + N, t0, 1);
    v128.store32_lane(out + 2 * N, t0, 2); v128.store32_lane(out + 3 * N, t0, 3);
    v128.store32_lane(out + 4 * N, t1, 0); v128.store32_lane(out + 5 * N, t1, 1);
    v128.store32_lane(out + 6 * N, t1, 2); v128.store32_lane(out + 7 * N, t1, 3);
    return;
  }
  for (let p = 0; p < valid; p++) {
    const t = p < 4 ? t0 : t1;
    const l = p & 3;
    const v = l == 0 ? i32x4.extract_lane(t, 0) : l == 1 ? i32x4.extract_lane(t, 1) : l == 2 ? i32x4.extract_lane(t, 2) : i32x4.extract_lane(t, 3);
    store<i32>(out + <usize>p * N, v);
  }
}

/** One group of 4 channels whose weights cluster: each x load serves all 4 channels. */
// @ts-ignore: decorator
@inline function group4(sp: SpmmPlan, g: usize, rq: usize, out: usize, N: usize, lo: v128, hi: v128): void {
  const n = load<i32>(g, 4);
  for (let pb = 0; pb < sp.P; pb += 8) {
    const xb = sp.x + (<usize>pb << 2);
    let a0 = v128.load32_splat(rq, 8), a1 = v128.load32_splat(rq, 8 + RQ_BYTES);
    let a2 = v128.load32_splat(rq, 8 + 2 * RQ_BYTES), a3 = v128.load32_splat(rq, 8 + 3 * RQ_BYTES);
    let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    let e = g + 8;
    for (let j = 0; j < n; j++) {
      const xp = xb + <usize>load<u32>(e);
      const u = v128.load(xp), v = v128.load(xp, 16);
      const w0 = v128.load32_splat(e, 4), w1 = v128.load32_splat(e, 8);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(u, w0)); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(v, w0));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(u, w1)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(v, w1));
      const w2 = v128.load32_splat(e, 12), w3 = v128.load32_splat(e, 16);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(u, w2)); b2 = i32x4.add(b2, i32x4.dot_i16x8_s(v, w2));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(u, w3)); b3 = i32x4.add(b3, i32x4.dot_i16x8_s(v, w3));
      e += MODE4_ENTRY;
    }
    // Each channel's constants are loaded once for both of its vectors.
    let m = v128.load32_splat(rq, 12), nu = v128.load64_splat(rq), h = v128.load32_splat(rq, 20), ex = load<i32>(rq, 16);
    a0 = rqLanes(a0, m, nu, h, ex); b0 = rqLanes(b0, m, nu, h, ex);
    m = v128.load32_splat(rq, RQ_BYTES + 12); nu = v128.load64_splat(rq, RQ_BYTES); h = v128.load32_splat(rq, RQ_BYTES + 20); ex = load<i32>(rq, RQ_BYTES + 16);
    a1 = rqLanes(a1, m, nu, h, ex); b1 = rqLanes(b1, m, nu, h, ex);
    m = v128.load32_splat(rq, 2 * RQ_BYTES + 12); nu = v128.load64_splat(rq, 2 * RQ_BYTES); h = v128.load32_splat(rq, 2 * RQ_BYTES + 20); ex = load<i32>(rq, 2 * RQ_BYTES + 16);
    a2 = rqLanes(a2, m, nu, h, ex); b2 = rqLanes(b2, m, nu, h, ex);
    m = v128.load32_splat(rq, 3 * RQ_BYTES + 12); nu = v128.load64_splat(rq, 3 * RQ_BYTES); h = v128.load32_splat(rq, 3 * RQ_BYTES + 20); ex = load<i32>(rq, 3 * RQ_BYTES + 16);
    a3 = rqLanes(a3, m, nu, h, ex); b3 = rqLanes(b3, m, nu, h, ex);
    store4x8(a0, a1, a2, a3, b0, b1, b2, b3, out + <usize>pb * N, N, sp.pixels - pb, lo, hi);
  }
}

/**
 * One channel's entries (n at c) over 16 pixels at xb, from its bias, requantized with its
 * constants at rq into 4 vectors at dst; returns the entry list's end.
 */
// @ts-ignore: decorator
@inline function channel16(c: usize, xb: usize, rq: usize, dst: usize): usize {
  const n = load<i32>(c);
  let e = c + 4;
  let a0 = v128.load32_splat(rq, 8), a1 = a0, a2 = a0, a3 = a0;
  for (let j = 0; j < n; j++) {
    const xp = xb + <usize>load<u32>(e);
    const w = v128.load32_splat(e, 4);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(xp), w));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(xp, 16), w));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(xp, 32), w));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(xp, 48), w));
    e += MODE1_ENTRY;
  }
  const m = v128.load32_splat(rq, 12), nu = v128.load64_splat(rq), h = v128.load32_splat(rq, 20), ex = load<i32>(rq, 16);
  v128.store(dst, rqLanes(a0, m, nu, h, ex));
  v128.store(dst, rqLanes(a1, m, nu, h, ex), 16);
  v128.store(dst, rqLanes(a2, m, nu, h, ex), 32);
  v128.store(dst, rqLanes(a3, m, nu, h, ex), 48);
  return e;
}

// Requantized lanes of 4 channels x 16 pixels (channel c at c * 64), between channel16 and store4x8.
const tile: usize = memory.data(256, 16);

/** One group of 4 channels with scattered weights: each channel reads only its own pairs, 16 pixels at a time. */
function group1(sp: SpmmPlan, g: usize, rq: usize, out: usize, N: usize, lo: v128, hi: v128): usize {
  let end: usize = 0;
  for (let pb = 0; pb < sp.P; pb += 16) {
    const xb = sp.x + (<usize>pb << 2);
    let c = channel16(g + 4, xb, rq, tile);
    c = channel16(c, xb, rq + RQ_BYTES, tile + 64);
    c = channel16(c, xb, rq + 2 * RQ_BYTES, tile + 128);
    c = channel16(c, xb, rq + 3 * RQ_BYTES, tile + 192);
    const t = tile;
    store4x8(v128.load(t), v128.load(t, 64), v128.load(t, 128), v128.load(t, 192),
      v128.load(t, 16), v128.load(t, 80), v128.load(t, 144), v128.load(t, 208), out + <usize>pb * N, N, sp.pixels - pb, lo, hi);
    if (sp.pixels > pb + 8) {
      store4x8(v128.load(t, 32), v128.load(t, 96), v128.load(t, 160), v128.load(t, 224),
        v128.load(t, 48), v128.load(t, 112), v128.load(t, 176), v128.load(t, 240), out + <usize>(pb + 8) * N, N, sp.pixels - pb - 8, lo, hi);
    }
    end = c;
  }
  return end;
}

/** qs8_spmm_8x4__simd: as qs8_spmm__ref, from the plan spmmPlan made at load (a.spmm). */
export function qs8_spmm_8x4__simd(a: SparseArgs): void {
  const sp = changetype<SpmmPlan>(a.spmm);
  fillX(a, sp);
  const N = <usize>a.N;
  const out = a.residual != 0 ? sp.stash : a.output;
  const lo = i8x16.splat(<i8>a.actMin), hi = i8x16.splat(<i8>a.actMax);
  let g = sp.stream;
  for (let q = 0; q < (a.N >> 2); q++) {
    const rq = sp.rq + <usize>((q << 2) * RQ_BYTES);
    const o = out + (<usize>q << 2);
    let end: usize;
    if (load<u32>(g) == 4) {
      group4(sp, g, rq, o, N, lo, hi);
      end = g + 8 + <usize>(load<i32>(g, 4) * MODE4_ENTRY);
    } else {
      end = group1(sp, g, rq, o, N, lo, hi);
    }
    g = (end + 15) & ~(<usize>15);
  }
  if (a.residual != 0) addRowI8(a.output, sp.stash, a.residual, sp.pixels * a.N, a.add, addFastSetupI32x4(a.residual, a.add));
}
