import { ConvArgs, shiftAt } from "../args";
import { addFastSetup, requantizeScalar, storeOutputFused } from "../common/fused-add";
import { finishConv4 } from "../common/finish-scalar";

// Scalar CONV_2D for the MVP build (WASM3 on microcontrollers), three products per i64 multiply.
//
// The int8 inputs of three output pixels at the same k are packed into one i64 as the arithmetic
// value x0 + x1 * 2^21 + x2 * 2^42. Times a sign-extended weight w this is exactly
// x0*w + x1*w * 2^21 + x2*w * 2^42, and summing over k keeps three 21-bit signed lanes exact
// while each lane's |sum| < 2^20: |x * w| <= 128 * 128, so at most 63 products (63 * 16384 <
// 2^20; LANE_CHUNK = 56) before the sum is split into its lanes (sign-extended low 21 bits, then
// shift down) and added to i32 accumulators. Per k, a tile of 3 pixels x 4 channels costs one
// i64 load, 4 weight loads (i64.load8_s) and 4 i64 multiply-adds for 12 MACs: ~1.1 wasm ops
// per MAC instead of ~2.5 for the i32 tile of qs8_conv2d_4x4__mvp.
// Why i64 pays here: V8 runs i64 multiplies and adds as fast as i32 ones, and ResNet-8's 3x3
// convs went from ~3.5 to ~6.2 GMAC/s (two pixels per i64, split after the K loop, had given only
// ~15%). WASM3 on a 32-bit core (ESP32) emulates an i64 multiply or add with a few native
// instructions, but as an interpreter it pays its dispatch per wasm op, and one i64 multiply-add
// replaces three i32 multiply-adds, i.e. 2 dispatched ops instead of 6 (plus loads), so the
// fewer ops should outweigh the wider arithmetic there too.
//
// Pixels are grouped by 3 in row-major order over the whole output (so the only tail is the last
// group); a group's inputs are packed along k (kh, kw, ic: the OHWI filter order) once into the
// op's planned scratch and reused by every output channel. Taps outside the image are packed as
// the input zero point: the raw inputs multiply the weights from start values
// bias + inputOffset * sum_k w, so a padded tap contributes (zp + inputOffset) * w = 0 and the
// border needs no pass of its own. When the scratch (sized for the SIMD kernel's widened rows)
// cannot hold the whole K vector, the filter rows are packed a few at a time and the sums kept
// in the scratch between passes (ResNet-8's 8x8x64 conv: one row per pass).
// Scratch: start values [outC] i32, partial sums [3][outC] i32 (only with several passes), a
// row of zero points [kW * inC] i8, packed inputs [rows per pass * kW * inC] i64.

const LANE_BITS: i64 = 21;
const LANE_CHUNK: i32 = 56; // <= 63 products per lane; a multiple of the 8-step unroll

let addFast: usize = 0;

// @ts-ignore: decorator
@inline function roundUp8(n: i32): i32 {
  return (n + 7) & ~7;
}

/** Scratch bytes of the start values and the zero-point row. */
// @ts-ignore: decorator
@inline function fixedBytes(a: ConvArgs): i32 {
  return roundUp8(a.outC * 4) + roundUp8(a.kW * a.inC);
}

/**
 * Filter rows (kh) packed per pass: all kH when the scratch holds the whole K vector, else as
 * many as fit next to the partial sums (ResNet-8's 8x8x64 conv: 1 of 3); 0 when not even one fits.
 */
export function convI64PassRows(a: ConvArgs): i32 {
  const rowBytes = 8 * a.kW * a.inC, room = a.scratchBytes - fixedBytes(a);
  if (room >= a.kH * rowBytes) return a.kH;
  const rows = (room - 12 * a.outC) / rowBytes;
  return rows > 0 ? rows : 0;
}

/** The input zero point is an int8 (packed for padded taps) and the planned scratch holds at least one filter row's packing. */
export function convI64Applies(a: ConvArgs): bool {
  return a.inputOffset >= -127 && a.inputOffset <= 128 && a.scratch != 0 && convI64PassRows(a) > 0;
}

/**
 * qs8_conv2d_3x4_i64__mvp: CONV_2D int8 as qs8_conv2d__ref, 3 output pixels (one i64 lane each)
 * x 4 output channels per tile, single channels for the last outC % 4. Layouts as the reference.
 * Preconditions: those of the reference and convI64Applies(a).
 */
export function qs8_conv2d_3x4_i64__mvp(a: ConvArgs): void {
  addFast = addFastSetup(a.residual, a.add);
  const rowK = a.kW * a.inC, K = a.kH * rowK, outC = a.outC;
  const passRows = convI64PassRows(a);
  const starts = a.scratch;
  const partials = starts + <usize>roundUp8(outC * 4);
  const zeros = passRows < a.kH ? partials + <usize>(12 * outC) : partials;
  const packed = zeros + <usize>roundUp8(rowK);
  for (let oc = 0; oc < outC; oc++) store<i32>(starts + (<usize>oc << 2), foldedStart(a, oc, K));
  memory.fill(zeros, <u8>(-a.inputOffset), <usize>rowK);
  const pixels = a.outH * a.outW, oc4 = outC & ~3;
  for (let p = 0; p < pixels; p += 3) {
    const n = min(3, pixels - p);
    const index = <usize>(p * outC);
    for (let kh0 = 0; kh0 < a.kH; kh0 += passRows) {
      const kh1 = min(a.kH, kh0 + passRows), last = kh1 == a.kH;
      packPixels(a, p, n, kh0, kh1, zeros, packed);
      const kLen = (kh1 - kh0) * rowK, w = a.filter + <usize>(kh0 * rowK);
      const src = kh0 == 0 ? starts : partials, srcStep: usize = kh0 == 0 ? 0 : <usize>(outC * 4);
      for (let oc = 0; oc < oc4; oc += 4) mac3x4(a, packed, kLen, w, K, oc, src, srcStep, last, partials, index, n);
      for (let oc = oc4; oc < outC; oc++) mac3x1(a, packed, kLen, w, K, oc, src, srcStep, last, partials, index, n);
    }
  }
}

/** bias[oc] + inputOffset * sum_k w[oc][k]. */
function foldedStart(a: ConvArgs, oc: i32, K: i32): i32 {
  const w = a.filter + <usize>(oc * K);
  let s = 0;
  for (let k = 0; k < K; k++) s += <i32>load<i8>(w + <usize>k);
  return (a.bias != 0 ? load<i32>(a.bias + (<usize>oc << 2)) : 0) + a.inputOffset * s;
}

/** Input of tap (kh, kw) of the pixel whose window starts at (iy0, ix0): its inC values or zero points. */
// @ts-ignore: decorator
@inline function tapInput(a: ConvArgs, iy0: i32, ix0: i32, kh: i32, kw: i32, zeros: usize): usize {
  const iy = iy0 + kh * a.dilH, ix = ix0 + kw * a.dilW;
  return <u32>iy < <u32>a.inH && <u32>ix < <u32>a.inW ? a.input + <usize>((iy * a.inW + ix) * a.inC) : zeros;
}

/** Filter row kh of a pixel as one run of kW * inC inputs (or zero points), 0 when it is clipped. */
// @ts-ignore: decorator
@inline function rowInput(a: ConvArgs, iy0: i32, ix0: i32, kh: i32, zeros: usize): usize {
  const iy = iy0 + kh * a.dilH;
  if (<u32>iy >= <u32>a.inH) return zeros;
  if (ix0 < 0 || ix0 + (a.kW - 1) * a.dilW >= a.inW || a.dilW != 1) return 0;
  return a.input + <usize>((iy * a.inW + ix0) * a.inC);
}

/** Input k of three pixels as the packed value x0 + x1 * 2^21 + x2 * 2^42. */
// @ts-ignore: decorator
@inline function pack3(r0: usize, r1: usize, r2: usize, k: usize): i64 {
  return i64.load8_s(r0 + k) + (i64.load8_s(r1 + k) << LANE_BITS) + (i64.load8_s(r2 + k) << (2 * LANE_BITS));
}

// @ts-ignore: decorator
@inline function packRun(d: usize, r0: usize, r1: usize, r2: usize, len: usize): usize {
  for (let i: usize = 0; i < len; i++) {
    store<i64>(d, pack3(r0, r1, r2, i));
    d += 8;
  }
  return d;
}

/**
 * Packs filter rows kh0..kh1-1 of pixels p..p+n-1 (row-major) along k (kh, kw, ic: the OHWI
 * filter order); missing pixels read zero points.
 */
function packPixels(a: ConvArgs, p: i32, n: i32, kh0: i32, kh1: i32, zeros: usize, dst: usize): void {
  const far = -(1 << 24); // a window start that puts every tap outside the image
  const y0 = p / a.outW, x0 = p - y0 * a.outW;
  const y1 = (p + 1) / a.outW, x1 = p + 1 - y1 * a.outW;
  const y2 = (p + 2) / a.outW, x2 = p + 2 - y2 * a.outW;
  const iy0 = y0 * a.strideH - a.padTop, ix0 = x0 * a.strideW - a.padLeft;
  const iy1 = n > 1 ? y1 * a.strideH - a.padTop : far, ix1 = x1 * a.strideW - a.padLeft;
  const iy2 = n > 2 ? y2 * a.strideH - a.padTop : far, ix2 = x2 * a.strideW - a.padLeft;
  const inC = <usize>a.inC, rowK = <usize>(a.kW * a.inC);
  let d = dst;
  for (let kh = kh0; kh < kh1; kh++) {
    const r0 = rowInput(a, iy0, ix0, kh, zeros), r1 = rowInput(a, iy1, ix1, kh, zeros), r2 = rowInput(a, iy2, ix2, kh, zeros);
    if (r0 != 0 && r1 != 0 && r2 != 0) {
      d = packRun(d, r0, r1, r2, rowK);
      continue;
    }
    for (let kw = 0; kw < a.kW; kw++) {
      d = packRun(d, tapInput(a, iy0, ix0, kh, kw, zeros), tapInput(a, iy1, ix1, kh, kw, zeros),
        tapInput(a, iy2, ix2, kh, kw, zeros), inC);
    }
  }
}

// Lane j (0, 1, 2) of a packed sum, as (s << 43) >> 43 after the lanes below are taken off.
// @ts-ignore: decorator
@inline function lowLane(s: i64): i64 {
  return (s << (64 - LANE_BITS)) >> (64 - LANE_BITS);
}

// The three lanes of a chunk's packed sum (once per chunk of up to LANE_CHUNK products, off the
// multiply loop: the recomputed lower lanes cost nothing that matters).
// @ts-ignore: decorator
@inline function lane0(c: i64): i32 {
  return <i32>lowLane(c);
}
// @ts-ignore: decorator
@inline function lane1(c: i64): i32 {
  return <i32>lowLane((c - lowLane(c)) >> LANE_BITS);
}
// @ts-ignore: decorator
@inline function lane2(c: i64): i32 {
  const h = (c - lowLane(c)) >> LANE_BITS;
  return <i32>((h - lowLane(h)) >> LANE_BITS);
}

/**
 * Pixels p..p+n-1 x channels oc..oc+3 over kLen packed inputs x and the filter from w (a pass's
 * first k; K per channel). Sums start at src (start values, srcStep 0; or partial sums of the
 * previous pass, srcStep outC * 4); the last pass finishes them at output index (pixel p,
 * channel 0), the others store them to the partial sums.
 */
function mac3x4(a: ConvArgs, x: usize, kLen: i32, w: usize, K: i32, oc: i32, src: usize, srcStep: usize,
  last: bool, partials: usize, index: usize, n: i32): void {
  const w0 = w + <usize>(oc * K), w1 = w0 + <usize>K, w2 = w1 + <usize>K, w3 = w2 + <usize>K;
  const p0 = src + (<usize>oc << 2), p1 = p0 + srcStep, p2 = p1 + srcStep;
  let s00 = load<i32>(p0), s01 = load<i32>(p0, 4), s02 = load<i32>(p0, 8), s03 = load<i32>(p0, 12);
  let s10 = load<i32>(p1), s11 = load<i32>(p1, 4), s12 = load<i32>(p1, 8), s13 = load<i32>(p1, 12);
  let s20 = load<i32>(p2), s21 = load<i32>(p2, 4), s22 = load<i32>(p2, 8), s23 = load<i32>(p2, 12);
  let k = 0;
  while (k < kLen) {
    const end = min(k + LANE_CHUNK, kLen);
    let c0: i64 = 0, c1: i64 = 0, c2: i64 = 0, c3: i64 = 0;
    for (; k + 8 <= end; k += 8) {
      const q = x + (<usize>k << 3), j = <usize>k;
      const v0 = w0 + j, v1 = w1 + j, v2 = w2 + j, v3 = w3 + j;
      let v = i64.load(q, 0);
      c0 += v * i64.load8_s(v0, 0); c1 += v * i64.load8_s(v1, 0); c2 += v * i64.load8_s(v2, 0); c3 += v * i64.load8_s(v3, 0);
      v = i64.load(q, 8);
      c0 += v * i64.load8_s(v0, 1); c1 += v * i64.load8_s(v1, 1); c2 += v * i64.load8_s(v2, 1); c3 += v * i64.load8_s(v3, 1);
      v = i64.load(q, 16);
      c0 += v * i64.load8_s(v0, 2); c1 += v * i64.load8_s(v1, 2); c2 += v * i64.load8_s(v2, 2); c3 += v * i64.load8_s(v3, 2);
      v = i64.load(q, 24);
      c0 += v * i64.load8_s(v0, 3); c1 += v * i64.load8_s(v1, 3); c2 += v * i64.load8_s(v2, 3); c3 += v * i64.load8_s(v3, 3);
      v = i64.load(q, 32);
      c0 += v * i64.load8_s(v0, 4); c1 += v * i64.load8_s(v1, 4); c2 += v * i64.load8_s(v2, 4); c3 += v * i64.load8_s(v3, 4);
      v = i64.load(q, 40);
      c0 += v * i64.load8_s(v0, 5); c1 += v * i64.load8_s(v1, 5); c2 += v * i64.load8_s(v2, 5); c3 += v * i64.load8_s(v3, 5);
      v = i64.load(q, 48);
      c0 += v * i64.load8_s(v0, 6); c1 += v * i64.load8_s(v1, 6); c2 += v * i64.load8_s(v2, 6); c3 += v * i64.load8_s(v3, 6);
      v = i64.load(q, 56);
      c0 += v * i64.load8_s(v0, 7); c1 += v * i64.load8_s(v1, 7); c2 += v * i64.load8_s(v2, 7); c3 += v * i64.load8_s(v3, 7);
    }
    for (; k < end; k++) {
      const v = i64.load(x + (<usize>k << 3)), j = <usize>k;
      c0 += v * i64.load8_s(w0 + j); c1 += v * i64.load8_s(w1 + j); c2 += v * i64.load8_s(w2 + j); c3 += v * i64.load8_s(w3 + j);
    }
    s00 += lane0(c0); s10 += lane1(c0); s20 += lane2(c0);
    s01 += lane0(c1); s11 += lane1(c1); s21 += lane2(c1);
    s02 += lane0(c2); s12 += lane1(c2); s22 += lane2(c2);
    s03 += lane0(c3); s13 += lane1(c3); s23 += lane2(c3);
  }
  const step = <usize>a.outC;
  if (!last) {
    const d0 = partials + (<usize>oc << 2), d1 = d0 + (step << 2), d2 = d1 + (step << 2);
    store<i32>(d0, s00); store<i32>(d0, s01, 4); store<i32>(d0, s02, 8); store<i32>(d0, s03, 12);
    store<i32>(d1, s10); store<i32>(d1, s11, 4); store<i32>(d1, s12, 8); store<i32>(d1, s13, 12);
    store<i32>(d2, s20); store<i32>(d2, s21, 4); store<i32>(d2, s22, 8); store<i32>(d2, s23, 12);
    return;
  }
  const o = index + <usize>oc;
  finishConv4(a, o, oc, s00, s01, s02, s03, addFast);
  if (n > 1) finishConv4(a, o + step, oc, s10, s11, s12, s13, addFast);
  if (n > 2) finishConv4(a, o + 2 * step, oc, s20, s21, s22, s23, addFast);
}

/** mac3x4 for one channel (the last outC % 4). */
function mac3x1(a: ConvArgs, x: usize, kLen: i32, w: usize, K: i32, oc: i32, src: usize, srcStep: usize,
  last: bool, partials: usize, index: usize, n: i32): void {
  const w0 = w + <usize>(oc * K), p0 = src + (<usize>oc << 2);
  let s0 = load<i32>(p0), s1 = load<i32>(p0 + srcStep), s2 = load<i32>(p0 + 2 * srcStep);
  let k = 0;
  while (k < kLen) {
    const end = min(k + LANE_CHUNK, kLen);
    let c: i64 = 0;
    for (; k < end; k++) c += i64.load(x + (<usize>k << 3)) * i64.load8_s(w0 + <usize>k);
    s0 += lane0(c); s1 += lane1(c); s2 += lane2(c);
  }
  const step = <usize>a.outC;
  if (!last) {
    const d0 = partials + (<usize>oc << 2);
    store<i32>(d0, s0); store<i32>(d0 + (step << 2), s1); store<i32>(d0 + (step << 3), s2);
    return;
  }
  const o = index + <usize>oc;
  finishOne(a, s0, oc, o);
  if (n > 1) finishOne(a, s1, oc, o + step);
  if (n > 2) finishOne(a, s2, oc, o + 2 * step);
}

/** An unpadded 1x1 CONV_2D: qs8_conv2d_1x1_3x4_i64__mvp needs no scratch (any stride). */
export function conv1x1I64Applies(a: ConvArgs): bool {
  return a.kH == 1 && a.kW == 1 && a.padTop == 0 && a.padLeft == 0;
}

/**
 * qs8_conv2d_1x1_3x4_i64__mvp: an unpadded 1x1 CONV_2D as qs8_conv2d__ref with the three-lane
 * i64 products of qs8_conv2d_3x4_i64__mvp, packing the three pixels' inputs as it goes instead of
 * into scratch (a 1x1 conv plans none): per k, 3 input loads, 2 shifts and 2 adds shared by 4
 * channels' 4 multiply-adds, ~1.6 wasm ops per MAC against ~2.5 for the i32 tile (in V8, where a
 * sign-extending i64 load is two instructions, kws's 25x5x64 pointwise convs gain only ~10%:
 * 3.3 against 3.0 GMAC/s; the op count is what an interpreter like WASM3 pays). Channel groups
 * of 4 outermost, so their start values (bias + inputOffset * sum_k w) are computed once per
 * call; then every pixel triple. Preconditions: those of the reference and conv1x1I64Applies(a).
 */
export function qs8_conv2d_1x1_3x4_i64__mvp(a: ConvArgs): void {
  addFast = addFastSetup(a.residual, a.add);
  const K = a.inC, outC = a.outC, oc4 = outC & ~3, pixels = a.outH * a.outW;
  for (let oc = 0; oc < oc4; oc += 4) {
    const t0 = foldedStart(a, oc, K), t1 = foldedStart(a, oc + 1, K), t2 = foldedStart(a, oc + 2, K), t3 = foldedStart(a, oc + 3, K);
    for (let p = 0; p < pixels; p += 3) direct3x4(a, p, min(3, pixels - p), oc, t0, t1, t2, t3);
  }
  for (let oc = oc4; oc < outC; oc++) {
    const t = foldedStart(a, oc, K);
    for (let p = 0; p < pixels; p += 3) direct3x1(a, p, min(3, pixels - p), oc, t);
  }
}

/** Input of output pixel p of an unpadded 1x1 conv; a pixel past the end reads pixel 0 (its sums are dropped). */
// @ts-ignore: decorator
@inline function pixelInput(a: ConvArgs, p: i32): usize {
  const pixels = a.outH * a.outW;
  if (p >= pixels) p = 0;
  const y = p / a.outW, x = p - y * a.outW;
  return a.input + <usize>(((y * a.strideH) * a.inW + x * a.strideW) * a.inC);
}

/** Pixels p..p+n-1 x channels oc..oc+3 of an unpadded 1x1 conv, from start values t0..t3. */
function direct3x4(a: ConvArgs, p: i32, n: i32, oc: i32, t0: i32, t1: i32, t2: i32, t3: i32): void {
  const K = a.inC;
  const r0 = pixelInput(a, p), r1 = pixelInput(a, p + 1), r2 = pixelInput(a, p + 2);
  const w0 = a.filter + <usize>(oc * K), w1 = w0 + <usize>K, w2 = w1 + <usize>K, w3 = w2 + <usize>K;
  let s00 = t0, s01 = t1, s02 = t2, s03 = t3, s10 = t0, s11 = t1, s12 = t2, s13 = t3, s20 = t0, s21 = t1, s22 = t2, s23 = t3;
  let k = 0;
  while (k < K) {
    const end = min(k + LANE_CHUNK, K);
    let c0: i64 = 0, c1: i64 = 0, c2: i64 = 0, c3: i64 = 0;
    for (; k + 4 <= end; k += 4) {
      const j = <usize>k;
      let v = pack3(r0, r1, r2, j);
      c0 += v * i64.load8_s(w0 + j, 0); c1 += v * i64.load8_s(w1 + j, 0); c2 += v * i64.load8_s(w2 + j, 0); c3 += v * i64.load8_s(w3 + j, 0);
      v = pack3(r0, r1, r2, j + 1);
      c0 += v * i64.load8_s(w0 + j, 1); c1 += v * i64.load8_s(w1 + j, 1); c2 += v * i64.load8_s(w2 + j, 1); c3 += v * i64.load8_s(w3 + j, 1);
      v = pack3(r0, r1, r2, j + 2);
      c0 += v * i64.load8_s(w0 + j, 2); c1 += v * i64.load8_s(w1 + j, 2); c2 += v * i64.load8_s(w2 + j, 2); c3 += v * i64.load8_s(w3 + j, 2);
      v = pack3(r0, r1, r2, j + 3);
      c0 += v * i64.load8_s(w0 + j, 3); c1 += v * i64.load8_s(w1 + j, 3); c2 += v * i64.load8_s(w2 + j, 3); c3 += v * i64.load8_s(w3 + j, 3);
    }
    for (; k < end; k++) {
      const j = <usize>k, v = pack3(r0, r1, r2, j);
      c0 += v * i64.load8_s(w0 + j); c1 += v * i64.load8_s(w1 + j); c2 += v * i64.load8_s(w2 + j); c3 += v * i64.load8_s(w3 + j);
    }
    s00 += lane0(c0); s10 += lane1(c0); s20 += lane2(c0);
    s01 += lane0(c1); s11 += lane1(c1); s21 += lane2(c1);
    s02 += lane0(c2); s12 += lane1(c2); s22 += lane2(c2);
    s03 += lane0(c3); s13 += lane1(c3); s23 += lane2(c3);
  }
  const step = <usize>a.outC, o = <usize>(p * a.outC + oc);
  finishConv4(a, o, oc, s00, s01, s02, s03, addFast);
  if (n > 1) finishConv4(a, o + step, oc, s10, s11, s12, s13, addFast);
  if (n > 2) finishConv4(a, o + 2 * step, oc, s20, s21, s22, s23, addFast);
}

/** direct3x4 for one channel (the last outC % 4). */
function direct3x1(a: ConvArgs, p: i32, n: i32, oc: i32, t0: i32): void {
  const K = a.inC;
  const r0 = pixelInput(a, p), r1 = pixelInput(a, p + 1), r2 = pixelInput(a, p + 2);
  const w0 = a.filter + <usize>(oc * K);
  let s0 = t0, s1 = t0, s2 = t0;
  let k = 0;
  while (k < K) {
    const end = min(k + LANE_CHUNK, K);
    let c: i64 = 0;
    for (; k < end; k++) c += pack3(r0, r1, r2, <usize>k) * i64.load8_s(w0 + <usize>k);
    s0 += lane0(c); s1 += lane1(c); s2 += lane2(c);
  }
  const step = <usize>a.outC, o = <usize>(p * a.outC + oc);
  finishOne(a, s0, oc, o);
  if (n > 1) finishOne(a, s1, oc, o + step);
  if (n > 2) finishOne(a, s2, oc, o + 2 * step);
}

function finishOne(a: ConvArgs, acc: i32, oc: i32, index: usize): void {
  const q = requantizeScalar(acc, load<i32>(a.mult + <usize>(oc * a.multStride)),
    shiftAt(a.shift, oc, a.multStride), a.outputOffset, a.actMin, a.actMax);
  storeOutputFused(a.output, index, q, a.residual, a.add, addFast);
}
