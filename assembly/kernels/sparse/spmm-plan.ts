import { rtAlloc } from "../../graph/alloc";
import { SparseArgs, channelMult, channelShift } from "./args";
import { requantize } from "../common/fused-add";

// Load-time plan of qs8_spmm_8x4__simd (spmm-simd.ts): the weights re-laid out as a stream of
// per-group entries, and the requantization constants. The kernel runs pixels in the vector
// lanes; per run it lays the input pixels out channel-major (see SpmmPlan), so a broadcast
// weight pair meets 4 pixels' input pairs in one i32x4.dot_i16x8_s.
//
// Stream, per group of 4 output channels (16-aligned), one of three modes:
//   MODE_CONST (0): [u32 0][4 x i8 outputs]. No channel has a stored weight: every pixel gets
//     requantize(bias), computed here.
//   MODE_CLUSTER (4): [u32 4][u32 n] n x [u32 byte offset of pair row j in xp][4 x i32 weight
//     pair (channels 0..3)]: the weights cluster over the 4 channels (blocks), so one input
//     load serves 4 channels.
//   MODE_SCATTER (1): [u32 1] per channel c = 0..3: [u32 n_c] n_c x [u32 byte offset of input
//     row ka in xs][u32 of row kb][i32 weight pair (w[ka], w[kb])]: scattered weights, each
//     channel's nonzeros paired in order (an odd last one with a zero), so no MAC is wasted.
// Weights are stored times the channel's scale s (below) and the input offset is folded into
// the bias: sum((x + off) * w) + bias = sum(x * w) + (bias + off * sum(w)).
//
// Requantization, per channel (all lanes share multiplier and shift), the TFLite arithmetic
// rearranged: with s = 2^(left+1) folded into the weights and bias (so the accumulator is
// acc * s), SRDHM(acc << left, m) = floor((acc*s*m + 2^31) / 2^32), the high word of one i64
// product; adding half = 2^(e-1) + zp * 2^e there too (zp alone when e = 0), rounding half away
// from zero is (r' - (r' < half)) >> e with r' = r + half. Exact when |acc| * s < 2^31 (so every
// sum fits), which this plan proves per channel from the weights, bias and input offset, with
// left <= 6 (s * w fits i16) and m >= 0; otherwise the kernel is not used.

export const SPMM_MIN_PIXELS: i32 = 8;
export const RQ_BYTES: i32 = 32; // per channel: i64 nudge 2^31 + half * 2^32, i32 bias * s, m, e, half
export const MODE_CONST: u32 = 0;
export const MODE_SCATTER: u32 = 1;
export const MODE_CLUSTER: u32 = 4;
export const CLUSTER_ENTRY: i32 = 20;
export const SCATTER_ENTRY: i32 = 12;
// Relative costs per 8 pixels of a cluster entry (4 channels x one input pair: 8 dot products,
// about 4 cycles) and a scatter entry (one channel x two nonzeros: 2 dot products and 2
// interleaves, under 1.5 cycles), to pick a group's mode; measured on the 64->64 conv of
// firmware-tools/bench/sparse.ts (unstructured weights run faster scattered from 50% on).
const CLUSTER_COST: i32 = 32;
const SCATTER_COST: i32 = 10;

/** The plan the kernel runs from (allocated at load, SIMD build). */
@unmanaged export class SpmmPlan {
  /** Input pairs, [Kp][P] x (x[2j], x[2j+1]) i16, for MODE_CLUSTER groups (0: none). */
  xp: usize = 0;
  /** Inputs, [K][P] i16, for MODE_SCATTER groups (0: none). */
  xs: usize = 0;
  P: i32 = 0; // pixels rounded up to 16 (lanes past `pixels` are never stored)
  Kp: i32 = 0;
  rq: usize = 0; // N x RQ_BYTES
  stream: usize = 0;
  stash: usize = 0; // fused ADD: conv values before the ADD pass (pixels x N bytes)
  pixels: i32 = 0;
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

/** log2 of channel o's accumulator scale s (see the header). */
// @ts-ignore: decorator
@inline function scaleLog2(a: SparseArgs, o: i32): i32 {
  const shift = channelShift(a, o);
  return (shift > 0 ? shift : 0) + 1;
}

// @ts-ignore: decorator
@inline function pair(lo: i32, hi: i32): i32 {
  return (lo & 0xffff) | (hi << 16);
}

/** Weights 2j and 2j+1 of a row times 2^sl as an i16 pair (the second 0 past K). */
// @ts-ignore: decorator
@inline function pairAt(row: usize, j: i32, K: i32, sl: i32): i32 {
  const hi = 2 * j + 1 < K ? <i32>load<i8>(row + <usize>(2 * j + 1)) << sl : 0;
  return pair(<i32>load<i8>(row + <usize>(2 * j)) << sl, hi);
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
  const off = <i64>a.inputOffset, zp = <i64>a.outputOffset;
  const shift = channelShift(a, o), m = channelMult(a, o), sl = scaleLog2(a, o);
  const e = shift > 0 ? 0 : -shift;
  if (sl > 7 || e > 31 || m < 0) return false;
  // |acc| <= sum|w| * max|x + off| + |bias|, and acc * s must stay below 2^31.
  const bound = (sumAbs * (128 + (off < 0 ? -off : off)) + (bias < 0 ? -bias : bias)) << sl;
  if (bound >= (<i64>1 << 31)) return false;
  // The output offset joins half (zp * 2^e + 2^(e-1), shifted out by e, adds zp after rounding);
  // r + half must stay inside i32 with |r| < 2^30.
  const half = (zp << e) + (e > 0 ? <i64>1 << (e - 1) : 0);
  if ((half < 0 ? -half : half) >= (<i64>1 << 30)) return false;
  store<i64>(dst, (<i64>1 << 31) + (half << 32));
  store<i32>(dst, <i32>((bias + off * sum) << sl), 8);
  store<i32>(dst, m, 12);
  store<i32>(dst, e, 16);
  store<i32>(dst, <i32>half, 20);
  return true;
}

/** Whether any of a group's 4 dense rows has a weight in input pair j. */
function pairUsed(a: SparseArgs, rows: usize, j: i32): bool {
  for (let c = 0; c < 4; c++) if (pairAt(rows + <usize>(c * a.K), j, a.K, 0) != 0) return true;
  return false;
}

/** MODE_CLUSTER entries of group q (rows: its 4 channels dense) at e: every pair any channel uses. */
function writeCluster(a: SparseArgs, sp: SpmmPlan, q: i32, rows: usize, e: usize): void {
  const K = a.K;
  for (let j = 0; j < sp.Kp; j++) {
    if (!pairUsed(a, rows, j)) continue;
    store<u32>(e, <u32>(j * sp.P * 4));
    for (let c = 0; c < 4; c++) store<i32>(e + <usize>(4 + 4 * c), pairAt(rows + <usize>(c * K), j, K, scaleLog2(a, (q << 2) + c)));
    e += CLUSTER_ENTRY;
  }
}

/** MODE_SCATTER lists of group q at e: per channel its count, then its nonzeros two at a time. */
function writeScatter(a: SparseArgs, sp: SpmmPlan, q: i32, rows: usize, e: usize): void {
  const K = a.K;
  for (let c = 0; c < 4; c++) {
    const row = rows + <usize>(c * K), sl = scaleLog2(a, (q << 2) + c);
    const head = e;
    e += 4;
    let n = 0, ka = -1;
    for (let k = 0; k <= K; k++) {
      if (k < K && load<i8>(row + <usize>k) == 0) continue;
      if (k == K && ka < 0) break;
      if (ka < 0) {
        ka = k;
        continue;
      }
      const kb = k < K ? k : ka, wb = k < K ? <i32>load<i8>(row + <usize>k) << sl : 0;
      store<u32>(e, <u32>(ka * sp.P * 2));
      store<u32>(e, <u32>(kb * sp.P * 2), 4);
      store<i32>(e, pair(<i32>load<i8>(row + <usize>ka) << sl, wb), 8);
      e += SCATTER_ENTRY;
      n++;
      ka = -1;
    }
    store<u32>(head, n);
  }
}

/** Pairs (2j, 2j+1) any of the 4 dense rows uses: a cluster group's entries. */
function pairUnion(a: SparseArgs, sp: SpmmPlan, rows: usize): i32 {
  let n = 0;
  for (let j = 0; j < sp.Kp; j++) if (pairUsed(a, rows, j)) n++;
  return n;
}

/** Entries of one channel's scatter list: its nonzeros, two at a time. */
function scatterEntries(row: usize, K: i32): i32 {
  let n = 0;
  for (let k = 0; k < K; k++) if (load<i8>(row + <usize>k) != 0) n++;
  return (n + 1) >> 1;
}

/** Stream bytes of a group in `mode` (union: pairUnion; rows: its 4 dense rows). */
function groupBytes(a: SparseArgs, rows: usize, mode: u32, union: i32): i32 {
  let bytes = 8; // MODE_CONST
  if (mode == MODE_CLUSTER) bytes = 8 + union * CLUSTER_ENTRY;
  if (mode == MODE_SCATTER) {
    bytes = 4;
    for (let c = 0; c < 4; c++) bytes += 4 + scatterEntries(rows + <usize>(c * a.K), a.K) * SCATTER_ENTRY;
  }
  return (bytes + 15) & ~15;
}

/** Group q's constant outputs (MODE_CONST): requantize(bias) of each channel, packed in a u32. */
function constOutputs(a: SparseArgs, q: i32): u32 {
  let v: u32 = 0;
  for (let c = 0; c < 4; c++) {
    const o = (q << 2) + c;
    const bias = a.bias != 0 ? load<i32>(a.bias + (<usize>o << 2)) : 0;
    const y = requantize(bias, channelMult(a, o), channelShift(a, o), a.outputOffset, a.actMin, a.actMax);
    v |= (<u32>y & 0xff) << (<u32>c << 3);
  }
  return v;
}

/**
 * Pass over the groups: sizes the stream (write == false) or writes it; -1 if a channel fails
 * packRq. Sets which input layouts the run fills (xp, xs: 1 = needed, when sizing).
 */
function buildStream(a: SparseArgs, sp: SpmmPlan, rows: usize, write: bool): i32 {
  const K = a.K;
  let p = sp.stream;
  let bytes = 0;
  for (let q = 0; q < (a.N >> 2); q++) {
    memory.fill(rows, 0, <usize>(4 * K));
    for (let c = 0; c < 4; c++) denseRow(a, (q << 2) + c, rows + <usize>(c * K));
    const union = pairUnion(a, sp, rows);
    let scatter = 0;
    for (let c = 0; c < 4; c++) scatter += scatterEntries(rows + <usize>(c * K), K);
    const mode = union == 0 ? MODE_CONST : union * CLUSTER_COST <= scatter * SCATTER_COST ? MODE_CLUSTER : MODE_SCATTER;
    const size = groupBytes(a, rows, mode, union);
    bytes += size;
    if (!write) {
      if (mode == MODE_CLUSTER) sp.xp = 1;
      if (mode == MODE_SCATTER) sp.xs = 1;
      continue;
    }
    for (let c = 0; c < 4; c++) {
      if (!packRq(a, (q << 2) + c, rows + <usize>(c * K), sp.rq + <usize>(((q << 2) + c) * RQ_BYTES))) return -1;
    }
    store<u32>(p, mode);
    if (mode == MODE_CLUSTER) {
      store<u32>(p, union, 4);
      writeCluster(a, sp, q, rows, p + 8);
    } else if (mode == MODE_SCATTER) {
      writeScatter(a, sp, q, rows, p + 4);
    } else {
      store<u32>(p, constOutputs(a, q), 4);
    }
    p += <usize>size;
  }
  return bytes;
}

/** Once at load (SIMD build): the plan in a.spmm, or 0 when the kernel does not apply or memory runs out. */
export function spmmPlan(a: SparseArgs): void {
  a.spmm = 0;
  const pixels = a.outH * a.outW;
  if ((a.N & 3) != 0 || pixels < SPMM_MIN_PIXELS) return;
  const sp = changetype<SpmmPlan>(rtAlloc(offsetof<SpmmPlan>()));
  const rows = rtAlloc(<usize>(4 * a.K));
  if (changetype<usize>(sp) == 0 || rows == 0) return;
  sp.pixels = pixels;
  sp.P = (pixels + 15) & ~15; // scattered groups run 16 pixels at a time, clustered 8
  sp.Kp = (a.K + 1) >> 1;
  const streamBytes = buildStream(a, sp, rows, false);
  const needPairs = sp.xp != 0, needSingles = sp.xs != 0;
  sp.xp = needPairs ? rtAlloc(<usize>sp.Kp * <usize>sp.P * 4) : 0;
  sp.xs = needSingles ? rtAlloc(<usize>a.K * <usize>sp.P * 2) : 0;
  sp.rq = rtAlloc(<usize>(a.N * RQ_BYTES));
  sp.stream = rtAlloc(<usize>streamBytes);
  if ((needPairs && sp.xp == 0) || (needSingles && sp.xs == 0) || sp.rq == 0 || sp.stream == 0) return;
  if (a.residual != 0) {
    sp.stash = rtAlloc(<usize>pixels * <usize>a.N);
    if (sp.stash == 0) return;
  }
  if (buildStream(a, sp, rows, true) < 0) return;
  a.spmm = changetype<usize>(sp);
}
