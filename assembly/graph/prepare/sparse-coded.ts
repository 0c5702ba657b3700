// The coded sparse encoding (byte 6 = 2): header checks and the range decoder that expands the
// stream into dense [rows][cols] int8 weights at load. Bit-exact twin of
// host/format/sparse-coded.ts (the encoder and the spec's reference); layout and coder:
// docs/model-format.md ("Sparse weights"). Integer-only, one byte read per renormalisation, every
// read checked against the stream's end: a hostile stream is ERM_BAD_PARAMS (or ERM_BAD_TENSOR
// for the header), never a read outside the blob, and the loop is bounded by rows x cols.

import * as S from "../../format/status";
import { rtAlloc, rtMark, rtRelease } from "../alloc";

const HEADER_BYTES: i32 = 16;
const MODEL_DENSITY: i32 = 0;
const MODEL_PATTERN: i32 = 1;
const PROB_ONE: u32 = 2048; // 11-bit probabilities of a 0 bit
const ADAPT_SHIFT: u32 = 5;
const TOP: u32 = 1 << 24;
const SIGN_AT: i32 = 128;
const MAG_AT: i32 = 130;
const PROBS: i32 = 258;
/**
 * Binary decisions a stream of L bytes can hold at most: every decision shrinks the range by at
 * least 31/2048 (probabilities stay in 31..2017), every byte widens it by 8 bits, so a valid
 * stream codes fewer than 364 L; the check bounds the work by the blob's length.
 */
const MAX_DECISIONS_PER_BYTE: u64 = 364;

// The decoder's state (one stream at a time, at load).
let range: u32 = 0;
let code: u32 = 0;
let at: usize = 0;
let end: usize = 0;
let past = false;
let probs: usize = 0;

/**
 * One binary decision with adaptive probability slot i, then renormalisation (one byte at most).
 * Selects, not a branch: value bits are close to random, so a branch would mispredict half the time.
 */
@inline function bit(i: i32): i32 {
  const pp = probs + (<usize>i << 1);
  const p = <u32>load<u16>(pp);
  const bound = (range >>> 11) * p;
  const one = code >= bound;
  code = select<u32>(code - bound, code, one);
  range = select<u32>(range - bound, bound, one);
  store<u16>(pp, <u16>select<u32>(p - (p >> ADAPT_SHIFT), p + ((PROB_ONE - p) >> ADAPT_SHIFT), one));
  if (range < TOP) {
    let next: u32 = 0;
    if (at < end) {
      next = <u32>load<u8>(at);
      at++;
    } else {
      past = true; // a fault, not zeros
    }
    range <<= 8;
    code = (code << 8) | next;
  }
  return <i32>one;
}

/** The stored flag's context of weight [r][c] (host/format/sparse-coded.ts: FlagContext). */
@inline function flagContext(model: i32, dense: usize, colCount: usize, cols: i32, r: i32, c: i32, rowCount: i32, group: i32): i32 {
  if (model == MODEL_DENSITY) {
    const colB = r == 0 ? 0 : 1 + min(7, (<i32>load<u16>(colCount + (<usize>c << 1)) * 8) / r);
    const rowB = c == 0 ? 0 : 1 + min(7, (rowCount * 8) / c);
    return colB * 9 + rowB;
  }
  const above = r > 0 && load<i8>(dense + <usize>(r - 1) * <usize>cols + <usize>c) != 0 ? 1 : 0;
  return ((group * 8 + (c & 7)) << 1) + above;
}

/** Decodes the stream into dense (zeroed); S.OK or ERM_BAD_PARAMS (expected / actual in S). */
function decodeStream(op: i32, w: i32, dense: usize, colCount: usize, model: i32, rows: i32, cols: i32, values: u32): i32 {
  if (end - at < 5) return S.failOp(S.ERM_BAD_PARAMS, op, w, 5, <i64>(end - at));
  if (load<u8>(at) != 0) return S.failOp(S.ERM_BAD_PARAMS, op, w, 0, load<u8>(at));
  code = bswap<u32>(load<u32>(at + 1));
  range = 0xffffffff;
  at += 5;
  past = false;
  let stored: u32 = 0, sign = 0;
  for (let r = 0; r < rows; r++) {
    let rowCount = 0, group = 0;
    const row = dense + <usize>r * <usize>cols;
    for (let c = 0; c < cols; c++) {
      if ((c & 7) == 0) group = 0;
      const flag = bit(flagContext(model, dense, colCount, cols, r, c, rowCount, group));
      if (flag != 0) {
        stored++;
        if (stored > values) return S.failOp(S.ERM_BAD_PARAMS, op, w, values, stored);
        rowCount++;
        group++;
        if (model == MODEL_DENSITY) {
          const cc = colCount + (<usize>c << 1);
          store<u16>(cc, load<u16>(cc) + 1);
        }
        sign = bit(SIGN_AT + sign);
        let m = 1;
        for (let k = 0; k < 7; k++) m = (m << 1) | bit(MAG_AT + m);
        const mag = m - 127; // |v|: 1..128
        if (!past && sign == 0 && mag == 128) return S.failOp(S.ERM_BAD_PARAMS, op, w, 127, 128);
        store<i8>(row + <usize>c, <i8>(sign != 0 ? -mag : mag));
      }
      if (past) return S.failOp(S.ERM_BAD_PARAMS, op, w, 1, 0); // the stream ends before the matrix
    }
  }
  if (stored != values) return S.failOp(S.ERM_BAD_PARAMS, op, w, values, stored);
  if (at != end) return S.failOp(S.ERM_BAD_PARAMS, op, w, 0, <i64>(end - at)); // bytes left unread
  return S.OK;
}

/**
 * Checks a coded blob (p, len bytes) of a [rows][cols] matrix and decodes it into dense weights
 * in load-time memory, stored at `out` (0 when the status is not OK). Header and length:
 * ERM_BAD_TENSOR; counts and the stream: ERM_BAD_PARAMS.
 */
export function decodeCoded(op: i32, w: i32, p: usize, len: i32, rows: i32, cols: i32, out: usize): i32 {
  store<usize>(out, 0);
  const model = <i32>load<u8>(p + 7);
  if (load<u8>(p + 4) != 1 || load<u8>(p + 5) != 1 || (model != MODEL_DENSITY && model != MODEL_PATTERN)) return S.failOp(S.ERM_BAD_TENSOR, op, w, 0, 3);
  const values = load<u32>(p + 8);
  if (<u64>values > <u64>rows * <u64>cols) return S.failOp(S.ERM_BAD_PARAMS, op, w, <i64>rows * cols, values);
  const streamBytes = load<u32>(p + 12);
  if (<i64>HEADER_BYTES + <i64>streamBytes != <i64>len) return S.failOp(S.ERM_BAD_TENSOR, op, w, <i64>HEADER_BYTES + streamBytes, len);
  if (<u64>rows * <u64>cols > MAX_DECISIONS_PER_BYTE * <u64>streamBytes) return S.failOp(S.ERM_BAD_PARAMS, op, w, <i64>MAX_DECISIONS_PER_BYTE * streamBytes, <i64>rows * cols);
  const dense = rtAlloc(<usize>rows * <usize>cols);
  if (dense == 0) return S.RUNTIME_OUT_OF_MEMORY;
  const mark = rtMark(); // the probabilities and column counts are scratch, given back below
  probs = rtAlloc(<usize>PROBS << 1);
  const colCount = model == MODEL_DENSITY ? rtAlloc(<usize>cols << 1) : 1; // 1: not used (and not a failed allocation)
  if (probs == 0 || colCount == 0) {
    rtRelease(mark);
    return S.RUNTIME_OUT_OF_MEMORY;
  }
  for (let i = 0; i < PROBS; i++) store<u16>(probs + (<usize>i << 1), <u16>(PROB_ONE >> 1));
  at = p + <usize>HEADER_BYTES;
  end = at + <usize>streamBytes;
  const st = decodeStream(op, w, dense, colCount, model, rows, cols, values);
  rtRelease(mark);
  if (st != S.OK) return st;
  store<usize>(out, dense);
  return S.OK;
}
