import { SparseArgs } from "./args";
import { addFastSetupI32x4, addRowI8 } from "../common/fused-add";
import { CLUSTER_ENTRY, MODE_CLUSTER, MODE_CONST, RQ_BYTES, SCATTER_ENTRY, SpmmPlan } from "./spmm-plan";

// qs8_spmm_8x4__simd: sparse weights x dense activations with output pixels in the vector
// lanes (XNNPACK's f32-spmm layout), for layers with many output pixels (a 1x1 CONV_2D;
// FULLY_CONNECTED with batches). Every stored weight pair is broadcast once and multiplied
// against 8 or 16 pixels, so scattered (unstructured) weights cost no gather. The plan, the
// stream's three group modes and the requantization arithmetic are described in spmm-plan.ts.
// Per run the input pixels are widened to i16 and laid out channel-major: xp [pair j][pixel]
// (x[2j], x[2j+1]) for clustered groups, xs [channel][pixel] for scattered ones (the MAC loops
// are bound by i32x4.dot_i16x8_s and shuffles, so they load i16 rather than widen as they go).
// Preconditions: a.spmm from spmmPlan (N % 4 == 0, pixels >= SPMM_MIN_PIXELS).

// @ts-ignore: decorator
@inline function pixelAddr(a: SparseArgs, m: i32, contiguous: bool): usize {
  if (contiguous) return a.input + <usize>(m * a.K); // stride 1 (and FC): no division
  const oy = m / a.outW, ox = m - oy * a.outW;
  return a.input + <usize>(oy * a.rowStride + ox * a.colStride);
}

// @ts-ignore: decorator
@inline function lo16(x: v128, y: v128): v128 {
  return v128.shuffle<i16>(x, y, 0, 8, 1, 9, 2, 10, 3, 11);
}
// @ts-ignore: decorator
@inline function hi16(x: v128, y: v128): v128 {
  return v128.shuffle<i16>(x, y, 4, 12, 5, 13, 6, 14, 7, 15);
}
// @ts-ignore: decorator
@inline function lo32(x: v128, y: v128): v128 {
  return v128.shuffle<i32>(x, y, 0, 4, 1, 5);
}
// @ts-ignore: decorator
@inline function hi32(x: v128, y: v128): v128 {
  return v128.shuffle<i32>(x, y, 2, 6, 3, 7);
}
// @ts-ignore: decorator
@inline function lo64(x: v128, y: v128): v128 {
  return v128.shuffle<i64>(x, y, 0, 2);
}
// @ts-ignore: decorator
@inline function hi64(x: v128, y: v128): v128 {
  return v128.shuffle<i64>(x, y, 1, 3);
}

/** Input pair j of pixel p (inputs 2j, 2j+1; 0 past K) as two i16 in an i32. */
// @ts-ignore: decorator
@inline function inputPair(p: usize, j: i32, K: i32): i32 {
  const hi = 2 * j + 1 < K ? <i32>load<i8>(p + <usize>(2 * j + 1)) : 0;
  return (<i32>load<i8>(p + <usize>(2 * j)) & 0xffff) | (hi << 16);
}

/**
 * 8 rows of 8 i16 (r0..r7) transposed: column k (row k of the result) stored at d + k * stride.
 * One 16-bit 8x8 transpose: interleave words, dwords, qwords.
 */
// @ts-ignore: decorator
@inline function transpose8x8(r0: v128, r1: v128, r2: v128, r3: v128, r4: v128, r5: v128, r6: v128, r7: v128, d: usize, stride: usize): void {
  const b0 = lo16(r0, r1), b1 = hi16(r0, r1), b2 = lo16(r2, r3), b3 = hi16(r2, r3);
  const b4 = lo16(r4, r5), b5 = hi16(r4, r5), b6 = lo16(r6, r7), b7 = hi16(r6, r7);
  const c0 = lo32(b0, b2), c1 = hi32(b0, b2), c2 = lo32(b1, b3), c3 = hi32(b1, b3);
  const c4 = lo32(b4, b6), c5 = hi32(b4, b6), c6 = lo32(b5, b7), c7 = hi32(b5, b7);
  v128.store(d, lo64(c0, c4)); v128.store(d + stride, hi64(c0, c4));
  v128.store(d + 2 * stride, lo64(c1, c5)); v128.store(d + 3 * stride, hi64(c1, c5));
  v128.store(d + 4 * stride, lo64(c2, c6)); v128.store(d + 5 * stride, hi64(c2, c6));
  v128.store(d + 6 * stride, lo64(c3, c7)); v128.store(d + 7 * stride, hi64(c3, c7));
}

/** 4 rows of 4 i32 (r0..r3) transposed: column k stored at d + k * stride. */
// @ts-ignore: decorator
@inline function transpose4x4(r0: v128, r1: v128, r2: v128, r3: v128, d: usize, stride: usize): void {
  const c0 = lo32(r0, r1), c1 = hi32(r0, r1), c2 = lo32(r2, r3), c3 = hi32(r2, r3);
  v128.store(d, lo64(c0, c2)); v128.store(d + stride, hi64(c0, c2));
  v128.store(d + 2 * stride, lo64(c1, c3)); v128.store(d + 3 * stride, hi64(c1, c3));
}

/** Pixel m's input, or the last pixel's past the end (those lanes are computed, never stored). */
// @ts-ignore: decorator
@inline function laneAddr(a: SparseArgs, m: i32, pixels: i32, contiguous: bool): usize {
  return pixelAddr(a, min(m, pixels - 1), contiguous);
}

/** xp: the pixels' input pairs as i16, transposed to [Kp][P] i32; 4 pixels x 8 inputs (a 4x4 i32 transpose) per step. */
function fillPairs(a: SparseArgs, sp: SpmmPlan, cont: bool): void {
  const K = a.K, P = <usize>sp.P, row = P << 2, n = sp.pixels;
  for (let m = 0; m < n; m += 4) {
    const p0 = laneAddr(a, m, n, cont), p1 = laneAddr(a, m + 1, n, cont), p2 = laneAddr(a, m + 2, n, cont), p3 = laneAddr(a, m + 3, n, cont);
    const base = sp.xp + (<usize>m << 2);
    let c = 0;
    for (; c + 8 <= K; c += 8) {
      transpose4x4(v128.load8x8_s(p0 + <usize>c), v128.load8x8_s(p1 + <usize>c), v128.load8x8_s(p2 + <usize>c), v128.load8x8_s(p3 + <usize>c),
        base + <usize>(c >> 1) * row, row);
    }
    for (let j = c >> 1; j < sp.Kp; j++) {
      const d = base + <usize>j * row;
      store<i32>(d, inputPair(p0, j, K)); store<i32>(d, inputPair(p1, j, K), 4);
      store<i32>(d, inputPair(p2, j, K), 8); store<i32>(d, inputPair(p3, j, K), 12);
    }
  }
}

/** xs: the pixels' inputs as i16, transposed to [K][P]; 8 pixels x 8 inputs (a 16-bit 8x8 transpose) per step. */
function fillSingles(a: SparseArgs, sp: SpmmPlan, cont: bool): void {
  const K = a.K, P = <usize>sp.P, row = P << 1, n = sp.pixels;
  for (let m = 0; m < n; m += 8) {
    const p0 = laneAddr(a, m, n, cont), p1 = laneAddr(a, m + 1, n, cont), p2 = laneAddr(a, m + 2, n, cont), p3 = laneAddr(a, m + 3, n, cont);
    const p4 = laneAddr(a, m + 4, n, cont), p5 = laneAddr(a, m + 5, n, cont), p6 = laneAddr(a, m + 6, n, cont), p7 = laneAddr(a, m + 7, n, cont);
    const base = sp.xs + (<usize>m << 1);
    let c = 0;
    for (; c + 8 <= K; c += 8) {
      const u = <usize>c;
      transpose8x8(v128.load8x8_s(p0 + u), v128.load8x8_s(p1 + u), v128.load8x8_s(p2 + u), v128.load8x8_s(p3 + u),
        v128.load8x8_s(p4 + u), v128.load8x8_s(p5 + u), v128.load8x8_s(p6 + u), v128.load8x8_s(p7 + u), base + u * row, row);
    }
    for (; c < K; c++) {
      const d = base + <usize>c * row, u = <usize>c;
      store<i16>(d, load<i8>(p0 + u)); store<i16>(d, load<i8>(p1 + u), 2); store<i16>(d, load<i8>(p2 + u), 4); store<i16>(d, load<i8>(p3 + u), 6);
      store<i16>(d, load<i8>(p4 + u), 8); store<i16>(d, load<i8>(p5 + u), 10); store<i16>(d, load<i8>(p6 + u), 12); store<i16>(d, load<i8>(p7 + u), 14);
    }
  }
}

/** Requantizes 4 pixel lanes of one channel (acc: bias included), output offset included; m, nudge, half, e from rq. */
// @ts-ignore: decorator
@inline function rqLanes(acc: v128, m: v128, nudge: v128, half: v128, e: i32): v128 {
  const lo = i64x2.add(i64x2.extmul_low_i32x4_s(acc, m), nudge);
  const hi = i64x2.add(i64x2.extmul_high_i32x4_s(acc, m), nudge);
  const r = v128.shuffle<i32>(lo, hi, 1, 3, 5, 7); // r + half (half: 2^(e-1) + zp * 2^e)
  // The branch (rather than a select) also keeps V8 from interleaving a whole group's products,
  // which spills registers.
  return e > 0 ? i32x4.shr_s(i32x4.add(r, i32x4.lt_s(r, half)), e) : r;
}

/**
 * 4 channels x 8 pixels (h0..h3: one channel's 8 pixels each, i16) to int8 with the clamp,
 * stored NHWC: pixel p's 4 bytes at out + p * N.
 */
// @ts-ignore: decorator
@inline function store4x8(h0: v128, h1: v128, h2: v128, h3: v128, out: usize, N: usize, valid: i32, lo: v128, hi: v128): void {
  // Narrowing saturates to int8, a superset of [actMin, actMax], so clamping afterwards gives
  // what clamping the exact value gives. Bytes [c0 | c2] and [c1 | c3], interleaved twice:
  // [c0 c1 c2 c3] per pixel.
  const s02 = i8x16.narrow_i16x8_s(h0, h2), s13 = i8x16.narrow_i16x8_s(h1, h3);
  const x = v128.shuffle<u8>(s02, s13, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const y = v128.shuffle<u8>(s02, s13, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t0 = i8x16.min_s(i8x16.max_s(lo16(x, y), lo), hi);
  const t1 = i8x16.min_s(i8x16.max_s(hi16(x, y), lo), hi);
  if (valid >= 8) {
    v128.store32_lane(out, t0, 0); v128.store32_lane(out + N, t0, 1);
    v128.store32_lane(out + 2 * N, t0, 2); v128.store32_lane(out + 3 * N, t0, 3);
    v128.store32_lane(out + 4 * N, t1, 0); v128.store32_lane(out + 5 * N, t1, 1);
    v128.store32_lane(out + 6 * N, t1, 2); v128.store32_lane(out + 7 * N, t1, 3);
    return;
  }
  storeTail(t0, t1, out, N, valid);
}

/** One channel's 8 pixel lanes (a: pixels 0-3, b: 4-7) requantized with its constants at rq, narrowed to i16. */
// @ts-ignore: decorator
@inline function rq8(a: v128, b: v128, rq: usize): v128 {
  const m = v128.load32_splat(rq, 12), nu = v128.load64_splat(rq), t = v128.load32_splat(rq, 20), e = load<i32>(rq, 16);
  return i16x8.narrow_i32x4_s(rqLanes(a, m, nu, t, e), rqLanes(b, m, nu, t, e));
}

/** The first `valid` (< 8) pixels of store4x8 (t0: pixels 0-3, t1: 4-7). */
function storeTail(t0: v128, t1: v128, out: usize, N: usize, valid: i32): void {
  for (let p = 0; p < valid; p++) {
    const t = p < 4 ? t0 : t1;
    const l = p & 3;
    const v = l == 0 ? i32x4.extract_lane(t, 0) : l == 1 ? i32x4.extract_lane(t, 1) : l == 2 ? i32x4.extract_lane(t, 2) : i32x4.extract_lane(t, 3);
    store<i32>(out + <usize>p * N, v);
  }
}

/** One group of 4 channels whose weights cluster: each input load serves all 4 channels. */
// @ts-ignore: decorator
@inline function clusterGroup(sp: SpmmPlan, g: usize, rq: usize, out: usize, N: usize, lo: v128, hi: v128): void {
  const n = load<i32>(g, 4);
  for (let pb = 0; pb < sp.pixels; pb += 8) {
    const xb = sp.xp + (<usize>pb << 2);
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
      e += CLUSTER_ENTRY;
    }
    const h0 = rq8(a0, b0, rq), h1 = rq8(a1, b1, rq + RQ_BYTES);
    const h2 = rq8(a2, b2, rq + 2 * RQ_BYTES), h3 = rq8(a3, b3, rq + 3 * RQ_BYTES);
    store4x8(h0, h1, h2, h3, out + <usize>pb * N, N, sp.pixels - pb, lo, hi);
  }
}

/**
 * One channel's scatter list (n at c) over 16 pixels at xb, from its bias, requantized with its
 * constants at rq, narrowed to 16 int8 (saturating, not clamped) in *dst; returns the list's end.
 */
// @ts-ignore: decorator
@inline function channel16(c: usize, xb: usize, rq: usize, dst: usize): usize {
  const n = load<i32>(c);
  let e = c + 4;
  let a0 = v128.load32_splat(rq, 8), a1 = a0, a2 = a0, a3 = a0;
  for (let j = 0; j < n; j++) {
    const pa = xb + <usize>load<u32>(e), pb = xb + <usize>load<u32>(e, 4);
    const w = v128.load32_splat(e, 8);
    const x0 = v128.load(pa), y0 = v128.load(pb);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(lo16(x0, y0), w));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(hi16(x0, y0), w));
    const x1 = v128.load(pa, 16), y1 = v128.load(pb, 16);
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(lo16(x1, y1), w));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(hi16(x1, y1), w));
    e += SCATTER_ENTRY;
  }
  const m = v128.load32_splat(rq, 12), nu = v128.load64_splat(rq), t = v128.load32_splat(rq, 20), ex = load<i32>(rq, 16);
  const h0 = i16x8.narrow_i32x4_s(rqLanes(a0, m, nu, t, ex), rqLanes(a1, m, nu, t, ex));
  const h1 = i16x8.narrow_i32x4_s(rqLanes(a2, m, nu, t, ex), rqLanes(a3, m, nu, t, ex));
  v128.store(dst, i8x16.narrow_i16x8_s(h0, h1));
  return e;
}

// One scattered group's 4 channels x 16 pixels of int8, between channel16 and store4x16.
const tile: usize = memory.data(64, 16);

/** The tile ([channel][16 pixels] int8) clamped and stored NHWC: pixel p's 4 bytes at o + p * N, the first `valid`. */
// @ts-ignore: decorator
@inline function store4x16(o: usize, N: usize, valid: i32, lo: v128, hi: v128): void {
  // Interleave bytes, then byte pairs: [c0 c1 c2 c3] per pixel.
  const c0 = v128.load(tile), c1 = v128.load(tile, 16), c2 = v128.load(tile, 32), c3 = v128.load(tile, 48);
  const l01 = v128.shuffle<u8>(c0, c1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const h01 = v128.shuffle<u8>(c0, c1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const l23 = v128.shuffle<u8>(c2, c3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const h23 = v128.shuffle<u8>(c2, c3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t0 = i8x16.min_s(i8x16.max_s(lo16(l01, l23), lo), hi), t1 = i8x16.min_s(i8x16.max_s(hi16(l01, l23), lo), hi);
  const t2 = i8x16.min_s(i8x16.max_s(lo16(h01, h23), lo), hi), t3 = i8x16.min_s(i8x16.max_s(hi16(h01, h23), lo), hi);
  if (valid >= 16) {
    v128.store32_lane(o, t0, 0); v128.store32_lane(o + N, t0, 1); v128.store32_lane(o + 2 * N, t0, 2); v128.store32_lane(o + 3 * N, t0, 3);
    v128.store32_lane(o + 4 * N, t1, 0); v128.store32_lane(o + 5 * N, t1, 1); v128.store32_lane(o + 6 * N, t1, 2); v128.store32_lane(o + 7 * N, t1, 3);
    v128.store32_lane(o + 8 * N, t2, 0); v128.store32_lane(o + 9 * N, t2, 1); v128.store32_lane(o + 10 * N, t2, 2); v128.store32_lane(o + 11 * N, t2, 3);
    v128.store32_lane(o + 12 * N, t3, 0); v128.store32_lane(o + 13 * N, t3, 1); v128.store32_lane(o + 14 * N, t3, 2); v128.store32_lane(o + 15 * N, t3, 3);
    return;
  }
  storeTail(t0, t1, o, N, min(valid, 8));
  if (valid > 8) storeTail(t2, t3, o + 8 * N, N, valid - 8);
}

/**
 * One group of 4 channels with scattered weights: each channel reads only its own nonzeros, 16
 * pixels at a time; returns the group's stream end.
 */
function scatterGroup(sp: SpmmPlan, g: usize, rq: usize, out: usize, N: usize, lo: v128, hi: v128): usize {
  let c: usize = g + 4;
  for (let pb = 0; pb < sp.pixels; pb += 16) {
    const xb = sp.xs + (<usize>pb << 1);
    c = channel16(g + 4, xb, rq, tile);
    c = channel16(c, xb, rq + RQ_BYTES, tile + 16);
    c = channel16(c, xb, rq + 2 * RQ_BYTES, tile + 32);
    c = channel16(c, xb, rq + 3 * RQ_BYTES, tile + 48);
    store4x16(out + <usize>pb * N, N, sp.pixels - pb, lo, hi);
  }
  return c;
}

/** A group without stored weights: its 4 constant outputs at every pixel. */
function constGroup(sp: SpmmPlan, g: usize, out: usize, N: usize): void {
  const v = load<u32>(g, 4);
  for (let p = 0; p < sp.pixels; p++) store<u32>(out + <usize>p * N, v);
}

/** qs8_spmm_8x4__simd: as qs8_spmm__ref, from the plan spmmPlan made at load (a.spmm). */
export function qs8_spmm_8x4__simd(a: SparseArgs): void {
  const sp = changetype<SpmmPlan>(a.spmm);
  const cont = a.colStride == a.K && a.rowStride == a.outW * a.K;
  if (sp.xp != 0) fillPairs(a, sp, cont);
  if (sp.xs != 0) fillSingles(a, sp, cont);
  const N = <usize>a.N;
  const out = a.residual != 0 ? sp.stash : a.output;
  const lo = i8x16.splat(<i8>a.actMin), hi = i8x16.splat(<i8>a.actMax);
  let g = sp.stream;
  for (let q = 0; q < (a.N >> 2); q++) {
    const rq = sp.rq + <usize>((q << 2) * RQ_BYTES);
    const o = out + (<usize>q << 2);
    const mode = load<u32>(g);
    let end: usize;
    if (mode == MODE_CLUSTER) {
      clusterGroup(sp, g, rq, o, N, lo, hi);
      end = g + 8 + <usize>(load<i32>(g, 4) * CLUSTER_ENTRY);
    } else if (mode == MODE_CONST) {
      constGroup(sp, g, o, N);
      end = g + 8;
    } else {
      end = scatterGroup(sp, g, rq, o, N, lo, hi);
    }
    g = (end + 15) & ~(<usize>15);
  }
  if (a.residual != 0) addRowI8(a.output, sp.stash, a.residual, sp.pixels * a.N, a.add, addFastSetupI32x4(a.residual, a.add));
}
