// The block-sparse weight encoding of FULLY_CONNECTED_SPARSE and CONV_2D_SPARSE (a 1x1 conv):
// one int8 constant tensor of shape [bytes] holding a [rows][cols] int8 matrix (rows = output
// channels, cols = input channels) as blocks of R rows x C columns, XNNPACK-style per row group:
// a block count, the column steps between blocks, then the blocks' values. Layout and checks:
// docs/model-format.md ("Sparse weights"); the runtime's twin is assembly/graph/prepare/sparse.ts.
//
//   0  u16 rows   2 u16 cols   4 u8 R   5 u8 C   6 u16 0   8 u32 blocks B   12 u32 0
//   16 u16 count[rows / R]          blocks per row group (sum = B)
//      u8  step[B]                  block column = previous + step (the first: = step); steps >= 1
//                                   after the first, so columns rise; gaps over 255 use zero blocks
//      pad to 4, then i8 values[B][R][C]

import { EdgerunError, ErrorContext } from "./errors.js";

export const SPARSE_HEADER_BYTES = 16;

/**
 * The last parameter word of FULLY_CONNECTED_SPARSE and CONV_2D_SPARSE: one bit per runtime build,
 * set = that build runs the sparse kernel on the blob, clear = it expands the blob to dense int8
 * weights at load and runs the dense kernel (the compiler sets a bit only where it measured the
 * sparse kernel faster). Other bits must be 0.
 */
export const SPARSE_RUN_SIMD = 1;
export const SPARSE_RUN_MVP = 2;
export const SPARSE_RUN_ALL = SPARSE_RUN_SIMD | SPARSE_RUN_MVP;
export const SPARSE_RUN_BITS: Record<"simd" | "mvp", number> = { simd: SPARSE_RUN_SIMD, mvp: SPARSE_RUN_MVP };
export const SPARSE_BLOCK_ROWS = [1, 2, 4, 8] as const;
export const SPARSE_BLOCK_COLS = [1, 2, 4, 8, 16] as const;
export type SparseBlock = readonly [rows: number, cols: number];

export interface SparseLayout {
  rows: number;
  cols: number;
  blockRows: number;
  blockCols: number;
  blocks: number;
  /** Byte offsets of the counts, the steps and the values inside the blob. */
  countsAt: number;
  stepsAt: number;
  valuesAt: number;
  bytes: number;
}

export function sparseLayout(rows: number, cols: number, R: number, C: number, blocks: number): SparseLayout {
  const countsAt = SPARSE_HEADER_BYTES;
  const stepsAt = countsAt + 2 * (rows / R);
  const valuesAt = (stepsAt + blocks + 3) & ~3;
  return { rows, cols, blockRows: R, blockCols: C, blocks, countsAt, stepsAt, valuesAt, bytes: valuesAt + blocks * R * C };
}

/** Whether a [rows][cols] matrix can use R x C blocks (blocks tile it exactly; u16 header fields). */
export function blockFits(rows: number, cols: number, [R, C]: SparseBlock): boolean {
  return rows >= 1 && cols >= 1 && rows <= 65535 && cols <= 65535 &&
    (SPARSE_BLOCK_ROWS as readonly number[]).includes(R) && (SPARSE_BLOCK_COLS as readonly number[]).includes(C) &&
    rows % R === 0 && cols % C === 0;
}

/** Column indices (in block units) of the stored blocks of each row group, zero blocks bridging gaps over 255. */
function blockColumns(w: Int8Array, rows: number, cols: number, R: number, C: number): number[][] {
  const groups: number[][] = [];
  for (let g = 0; g < rows / R; g++) {
    const list: number[] = [];
    let prev = -1;
    for (let b = 0; b < cols / C; b++) {
      let any = false;
      for (let r = 0; r < R && !any; r++) for (let c = 0; c < C && !any; c++) any = w[(g * R + r) * cols + b * C + c] !== 0;
      if (!any) continue;
      while (b - Math.max(prev, 0) > 255) { // bridge: a stored all-zero block 255 columns on
        prev = Math.max(prev, 0) + 255;
        list.push(prev);
      }
      list.push(b);
      prev = b;
    }
    groups.push(list);
  }
  return groups;
}

/** Encodes a dense [rows][cols] int8 matrix with R x C blocks (all-zero blocks are dropped). */
export function encodeSparse(w: Int8Array, rows: number, cols: number, block: SparseBlock): Uint8Array {
  const [R, C] = block;
  if (w.length !== rows * cols) throw new EdgerunError("SPARSE_BAD_SHAPE", "weights do not match rows x cols", { expected: rows * cols, actual: w.length });
  if (!blockFits(rows, cols, block)) throw new EdgerunError("SPARSE_BAD_BLOCK", `a ${R}x${C} block does not tile a ${rows}x${cols} matrix`, { expected: "R in 1,2,4,8; C in 1,2,4,8,16; dividing rows and cols", actual: block });
  const groups = blockColumns(w, rows, cols, R, C);
  const blocks = groups.reduce((a, l) => a + l.length, 0);
  const L = sparseLayout(rows, cols, R, C, blocks);
  const out = new Uint8Array(L.bytes);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, rows, true);
  dv.setUint16(2, cols, true);
  out[4] = R;
  out[5] = C;
  dv.setUint32(8, blocks, true);
  let k = 0;
  groups.forEach((list, g) => {
    dv.setUint16(L.countsAt + 2 * g, list.length, true);
    list.forEach((b, j) => {
      out[L.stepsAt + k] = j === 0 ? b : b - list[j - 1];
      for (let r = 0; r < R; r++) {
        for (let c = 0; c < C; c++) dv.setInt8(L.valuesAt + (k * R + r) * C + c, w[(g * R + r) * cols + b * C + c]);
      }
      k++;
    });
  });
  return out;
}

/**
 * Checks a blob completely (the same checks, in the same order, as the runtime's prepare) and
 * returns its layout. Throws ERM_BAD_TENSOR (malformed header or length) or ERM_BAD_PARAMS
 * (counts or columns out of range) so a hostile blob never sends a kernel outside the input.
 */
export function checkSparse(blob: Uint8Array, rows: number, cols: number, ctx: ErrorContext = {}): SparseLayout {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < SPARSE_HEADER_BYTES) throw new EdgerunError("ERM_BAD_TENSOR", "sparse weights shorter than their header", { ...ctx, expected: SPARSE_HEADER_BYTES, actual: blob.length });
  const R = blob[4], C = blob[5];
  const hdr = { rows: dv.getUint16(0, true), cols: dv.getUint16(2, true), R, C };
  if (hdr.rows !== rows || hdr.cols !== cols || !blockFits(rows, cols, [R, C]) || dv.getUint16(6, true) !== 0 || dv.getUint32(12, true) !== 0) {
    throw new EdgerunError("ERM_BAD_TENSOR", "sparse weight header does not fit the op", { ...ctx, expected: { rows, cols }, actual: hdr });
  }
  const blocks = dv.getUint32(8, true);
  if (blocks > (rows / R) * (cols / C)) throw new EdgerunError("ERM_BAD_PARAMS", "more sparse blocks than the matrix has", { ...ctx, expected: (rows / R) * (cols / C), actual: blocks });
  const L = sparseLayout(rows, cols, R, C, blocks);
  if (L.bytes !== blob.length) throw new EdgerunError("ERM_BAD_TENSOR", "sparse weight length does not match its counts", { ...ctx, expected: L.bytes, actual: blob.length });
  let k = 0;
  for (let g = 0; g < rows / R; g++) {
    const n = dv.getUint16(L.countsAt + 2 * g, true);
    if (k + n > blocks) throw new EdgerunError("ERM_BAD_PARAMS", "sparse block counts exceed the block total", { ...ctx, expected: blocks, actual: k + n });
    let col = -1;
    for (let j = 0; j < n; j++, k++) {
      const step = blob[L.stepsAt + k];
      if (j > 0 && step === 0) throw new EdgerunError("ERM_BAD_PARAMS", "sparse block columns do not rise", { ...ctx, offset: L.stepsAt + k, actual: step });
      col = j === 0 ? step : col + step;
      if (col >= cols / C) throw new EdgerunError("ERM_BAD_PARAMS", "sparse block column out of range", { ...ctx, offset: L.stepsAt + k, expected: cols / C - 1, actual: col });
    }
  }
  if (k !== blocks) throw new EdgerunError("ERM_BAD_PARAMS", "sparse block counts do not add up to the block total", { ...ctx, expected: blocks, actual: k });
  return L;
}

/** The dense [rows][cols] matrix of a checked blob (tools, tests, inspect). */
export function decodeSparse(blob: Uint8Array, rows: number, cols: number): Int8Array {
  const L = checkSparse(blob, rows, cols);
  const R = L.blockRows, C = L.blockCols;
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const w = new Int8Array(rows * cols);
  let k = 0;
  for (let g = 0; g < rows / R; g++) {
    const n = dv.getUint16(L.countsAt + 2 * g, true);
    let col = 0;
    for (let j = 0; j < n; j++, k++) {
      col = j === 0 ? blob[L.stepsAt + k] : col + blob[L.stepsAt + k];
      for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) w[(g * R + r) * cols + col * C + c] = dv.getInt8(L.valuesAt + (k * R + r) * C + c);
    }
  }
  return w;
}

/** Rows and columns of the header (before any check; callers check with checkSparse). */
export function sparseHeader(blob: Uint8Array): { rows: number; cols: number; blockRows: number; blockCols: number; blocks: number } {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return { rows: dv.getUint16(0, true), cols: dv.getUint16(2, true), blockRows: blob[4], blockCols: blob[5], blocks: dv.getUint32(8, true) };
}

/**
 * The container reader's check of a sparse op's weights and run bits (self-consistency of the
 * blob; shapes against the op's input and output are the runtime's prepare checks, as for dense ops).
 */
export function checkSparseOpWeights(inputs: number[], tensors: { dtype: number; shape: number[]; data?: Uint8Array }[], op: number, params: number[]): void {
  const w = tensors[inputs[1]];
  const ctx = { op, tensor: inputs[1] };
  const run = params[params.length - 1];
  if ((run & ~SPARSE_RUN_ALL) !== 0) throw new EdgerunError("ERM_BAD_PARAMS", "sparse run bits other than the two builds' are set", { op, expected: `0..${SPARSE_RUN_ALL}`, actual: run });
  if (!w || !w.data || w.dtype !== 1 || w.shape.length !== 1) throw new EdgerunError("ERM_BAD_TENSOR", "sparse weights must be a 1-D int8 constant", ctx);
  if (w.data.length < SPARSE_HEADER_BYTES) throw new EdgerunError("ERM_BAD_TENSOR", "sparse weights shorter than their header", { ...ctx, expected: SPARSE_HEADER_BYTES, actual: w.data.length });
  const h = sparseHeader(w.data);
  checkSparse(w.data, h.rows, h.cols, ctx);
}
