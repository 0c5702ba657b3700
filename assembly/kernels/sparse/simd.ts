import { rtAlloc } from "../../graph/alloc";
import { SparseArgs } from "./args";
import { RQ_GROUP_BYTES, packRequantGroup, requantizeI32x4, storeOutput } from "../common/fused-add";

// SIMD sparse kernels (SIMD build only). At load the blob is re-laid out as 4x8 chunks: per
// group of 4 output channels, the 8-input chunks holding any stored weight, each as 4 rows of
// 8 int16 (so i32x4.dot_i16x8_s does 8 MACs per instruction, as the dense kernels do). Block-
// pruned weights (4x8, 8x8, ...) fill whole chunks; scattered weights touch almost every chunk,
// and then sparsePackSimd leaves `packed` at 0 and the scalar kernel runs (it is faster there).
//
// Packed layout per group of 4 channels (16-aligned): [requant group, 96 B; its bias lanes hold
// bias + inputOffset * sum(w)] [u32 n, 12 B pad] [n chunks x 64 B weights] [n x u32 input byte
// offset of the chunk, padded to 16 B].
// Preconditions: N % 4 == 0, K % 8 == 0 (sparseSimdApplies), multipliers >= 0.

const GROUP_HEADER_BYTES: i32 = RQ_GROUP_BYTES + 16;

export function sparseSimdApplies(a: SparseArgs): bool {
  return (a.N & 3) == 0 && (a.K & 7) == 0;
}

// Cost of one 4x8 chunk against one scattered weight in the scalar kernel, in the same unit,
// measured through the runtime on FULLY_CONNECTED 1024x1024 (firmware-tools/bench/sparse.ts):
// a chunk ~1.3-1.9 ns, a scattered weight ~0.6 ns.
const CHUNK_COST: i32 = 2;

/** Bitmap of the 4x8 chunks (bit c of group q's row of K/8 bits) that hold a stored weight. */
function chunkBitmap(a: SparseArgs, words: i32): usize {
  const map = rtAlloc(<usize>((a.N >> 2) * words) << 2);
  if (map == 0) return 0;
  const R = a.R, C = a.C;
  let k = 0;
  for (let g = 0; g < a.N / R; g++) {
    const n = <i32>load<u16>(a.counts + (<usize>g << 1));
    let col = 0;
    for (let j = 0; j < n; j++, k++) {
      col += <i32>load<u8>(a.steps + <usize>k);
      for (let r = 0; r < R; r++) {
        for (let c = 0; c < C; c++) {
          if (load<i8>(a.values + <usize>((k * R + r) * C + c)) == 0) continue;
          const q = (g * R + r) >> 2, ch = (col * C + c) >> 3;
          const wp = map + (<usize>(q * words + (ch >> 5)) << 2);
          store<u32>(wp, load<u32>(wp) | (<u32>1 << <u32>(ch & 31)));
        }
      }
    }
  }
  return map;
}

// @ts-ignore: decorator
@inline function groupBytes(n: i32): i32 {
  return GROUP_HEADER_BYTES + n * 64 + ((n * 4 + 15) & ~15);
}

/** Once at load: packs 4x8 chunks into a.packed when that beats the scalar kernel (allocates). */
export function sparsePackSimd(a: SparseArgs): void {
  a.packed = 0;
  if (!sparseSimdApplies(a)) return;
  const words = ((a.K >> 3) + 31) >> 5;
  const map = chunkBitmap(a, words);
  if (map == 0) return;
  const groups = a.N >> 2;
  let chunks = 0, total = 0;
  for (let q = 0; q < groups; q++) {
    let n = 0;
    for (let i = 0; i < words; i++) n += <i32>popcnt<u32>(load<u32>(map + (<usize>(q * words + i) << 2)));
    chunks += n;
    total += groupBytes(n);
  }
  if (chunks * CHUNK_COST > a.blocks * a.R * a.C) return; // scattered: the scalar kernel is faster
  const dst = rtAlloc(<usize>total);
  if (dst == 0) return;
  // Group headers and chunk offsets; the group start of q is found again by walking the sizes.
  let p = dst;
  for (let q = 0; q < groups; q++) {
    packRequantGroup(p, a.bias, a.mult, a.shift, a.multStride, q << 2, 4);
    let n = 0;
    const offs = p + <usize>GROUP_HEADER_BYTES;
    let cnt = 0;
    for (let i = 0; i < words; i++) cnt += <i32>popcnt<u32>(load<u32>(map + (<usize>(q * words + i) << 2)));
    const offTable = offs + <usize>(cnt * 64);
    for (let c = 0; c < a.K >> 3; c++) {
      if ((load<u32>(map + (<usize>(q * words + (c >> 5)) << 2)) >>> <u32>(c & 31)) & 1) {
        store<u32>(offTable + (<usize>n << 2), <u32>(c << 3));
        n++;
      }
    }
    store<i32>(p + <usize>RQ_GROUP_BYTES, n);
    p += <usize>groupBytes(n);
  }
  if (scatterValues(a, dst, map, words)) a.packed = dst; // else out of memory: the scalar kernel runs
}

/** Writes every stored weight into its chunk slot and folds inputOffset * w into the bias lanes. */
function scatterValues(a: SparseArgs, dst: usize, map: usize, words: i32): bool {
  // Start of each channel group, walked once (groups are variable-sized).
  const starts = rtAlloc(<usize>(a.N >> 2) << 2);
  if (starts == 0) return false;
  let p = dst;
  for (let q = 0; q < (a.N >> 2); q++) {
    store<u32>(starts + (<usize>q << 2), <u32>(p - dst));
    p += <usize>groupBytes(load<i32>(p + <usize>RQ_GROUP_BYTES));
  }
  const R = a.R, C = a.C;
  let k = 0;
  for (let g = 0; g < a.N / R; g++) {
    const n = <i32>load<u16>(a.counts + (<usize>g << 1));
    let col = 0;
    for (let j = 0; j < n; j++, k++) {
      col += <i32>load<u8>(a.steps + <usize>k);
      for (let r = 0; r < R; r++) {
        const o = g * R + r, q = o >> 2;
        const grp = dst + <usize>load<u32>(starts + (<usize>q << 2));
        for (let c = 0; c < C; c++) {
          const w = <i32>load<i8>(a.values + <usize>((k * R + r) * C + c));
          if (w == 0) continue;
          const e = col * C + c, ch = e >> 3;
          let rank = 0; // chunks of this group before ch
          for (let i = 0; i < (ch >> 5); i++) rank += <i32>popcnt<u32>(load<u32>(map + (<usize>(q * words + i) << 2)));
          const last = load<u32>(map + (<usize>(q * words + (ch >> 5)) << 2));
          rank += <i32>popcnt<u32>(last & ((<u32>1 << <u32>(ch & 31)) - 1));
          store<i16>(grp + <usize>(GROUP_HEADER_BYTES + rank * 64 + ((o & 3) << 4) + ((e & 7) << 1)), <i16>w);
          const lane = grp + (<usize>(o & 3) << 2);
          store<i32>(lane, load<i32>(lane) + a.inputOffset * w);
        }
      }
    }
  }
  return true;
}

// [a, b, c, d] -> [sum(a), sum(b), sum(c), sum(d)]
// @ts-ignore: decorator
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 2, 6), v128.shuffle<i32>(a, b, 1, 5, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 2, 6), v128.shuffle<i32>(c, d, 1, 5, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

const laneTmp: usize = memory.data(16, 16);

// @ts-ignore: decorator
@inline function store4(a: SparseArgs, index: usize, q: v128): void {
  if (a.residual == 0) {
    const b = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), q);
    v128.store32_lane(a.output + index, b, 0);
    return;
  }
  v128.store(laneTmp, q);
  for (let l = 0; l < 4; l++) storeOutput(a.output, index + <usize>l, load<i32>(laneTmp + (<usize>l << 2)), a.residual, a.add);
}

/**
 * One output pixel pair (x0, x1 their inputs; x1 == x0 and `two` false for a last odd pixel)
 * over every channel group: each chunk's 4 weight vectors serve both pixels.
 */
// @ts-ignore: decorator
@inline function pixelPair(a: SparseArgs, x0: usize, x1: usize, out0: usize, out1: usize, two: bool): void {
  const outv = i32x4.splat(a.outputOffset), lo = i32x4.splat(a.actMin), hi = i32x4.splat(a.actMax);
  let grp = a.packed;
  for (let q = 0; q < (a.N >> 2); q++) {
    const n = load<i32>(grp + <usize>RQ_GROUP_BYTES);
    let pw = grp + <usize>GROUP_HEADER_BYTES;
    const offs = pw + <usize>(n * 64);
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (let j = 0; j < n; j++) {
      const off = <usize>load<u32>(offs + (<usize>j << 2));
      const v = v128.load8x8_s(x0 + off), u = v128.load8x8_s(x1 + off);
      const k0 = v128.load(pw), k1 = v128.load(pw, 16), k2 = v128.load(pw, 32), k3 = v128.load(pw, 48);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v, k0)); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(u, k0));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v, k1)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(u, k1));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v, k2)); b2 = i32x4.add(b2, i32x4.dot_i16x8_s(u, k2));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v, k3)); b3 = i32x4.add(b3, i32x4.dot_i16x8_s(u, k3));
      pw += 64;
    }
    const bias = v128.load(grp);
    const c = <usize>(q << 2);
    store4(a, out0 + c, requantizeI32x4(i32x4.add(hsum4(a0, a1, a2, a3), bias), grp, outv, lo, hi));
    if (two) store4(a, out1 + c, requantizeI32x4(i32x4.add(hsum4(b0, b1, b2, b3), bias), grp, outv, lo, hi));
    grp += <usize>groupBytes(n);
  }
}

/**
 * qs8_spmm_4x8__simd: as qs8_spmm__ref from the 4x8 chunk packing, output pixels in raster
 * order two at a time (a last odd pixel with itself as the partner, its second result unused).
 */
export function qs8_spmm_4x8__simd(a: SparseArgs): void {
  let oy = 0, ox = 0;
  let pend: usize = 0, pendOut: usize = 0; // first pixel of a pair, waiting for its partner
  let have = false;
  for (let m = 0; m < a.outH * a.outW; m++) {
    const x = a.input + <usize>(oy * a.rowStride + ox * a.colStride);
    const o = <usize>(m * a.N);
    if (have) {
      pixelPair(a, pend, x, pendOut, o, true);
      have = false;
    } else {
      pend = x;
      pendOut = o;
      have = true;
    }
    if (++ox == a.outW) {
      ox = 0;
      oy++;
    }
  }
  if (have) pixelPair(a, pend, pend, pendOut, pendOut, false);
}
