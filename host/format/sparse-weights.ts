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
//
// The bitmap encoding (byte 6 = 1; R = C = 1): unstructured sparsity at 1/8 byte per weight plus
// one byte per nonzero, expanded to dense weights at load (no sparse kernel reads it):
//   0  u16 rows   2 u16 cols   4 u8 1   5 u8 1   6 u8 1   7 u8 0   8 u32 stored values V   12 u32 0
//   16 u8 bitmap[rows][ceil(cols / 8)]   bit (c & 7) of row byte c >> 3: weight [r][c] is stored;
//                                        bits past cols are 0; the set bits number exactly V
//      i8 values[V]                      the stored weights in row-major order
//
// The coded encoding (byte 6 = 2; R = C = 1): the bitmap's content entropy coded (sparse-coded.ts),
// also expanded to dense weights at load:
//   0  u16 rows   2 u16 cols   4 u8 1   5 u8 1   6 u8 2   7 u8 flag model (0, 1)   8 u32 V
//   12 u32 L, the stream's bytes   16 u8 stream[L]   (the blob is exactly 16 + L bytes)

import { EdgerunError, ErrorContext } from "./errors.js";
import { CODED_MAX_DECISIONS_PER_BYTE, CODED_MODELS, decodeCodedStream, encodeCodedStream } from "./sparse-coded.js";

export const SPARSE_HEADER_BYTES = 16;
/** Byte 6 of the header: the encoding. */
export const SPARSE_KIND_BLOCKS = 0;
export const SPARSE_KIND_BITMAP = 1;
export const SPARSE_KIND_CODED = 2;

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
  /** SPARSE_KIND_* (bitmap: R = C = 1, blocks = stored values, stepsAt = the bitmap; coded: stepsAt = valuesAt = the stream). */
  kind: number;
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
  return { kind: SPARSE_KIND_BLOCKS, rows, cols, blockRows: R, blockCols: C, blocks, countsAt, stepsAt, valuesAt, bytes: valuesAt + blocks * R * C };
}

/** Layout of the bitmap encoding: the bitmap (rows x ceil(cols / 8) bytes) at 16, then the values. */
export function bitmapLayout(rows: number, cols: number, values: number): SparseLayout {
  const valuesAt = SPARSE_HEADER_BYTES + rows * ((cols + 7) >> 3);
  return { kind: SPARSE_KIND_BITMAP, rows, cols, blockRows: 1, blockCols: 1, blocks: values, countsAt: SPARSE_HEADER_BYTES, stepsAt: SPARSE_HEADER_BYTES, valuesAt, bytes: valuesAt + values };
}

/** Bytes of the bitmap encoding of a [rows][cols] matrix with `nonzeros` nonzero weights. */
export function bitmapBytes(rows: number, cols: number, nonzeros: number): number {
  return bitmapLayout(rows, cols, nonzeros).bytes;
}

/** Encodes a dense [rows][cols] int8 matrix as a per-row bitmap of its nonzeros plus the nonzeros. */
export function encodeBitmap(w: Int8Array, rows: number, cols: number): Uint8Array {
  if (w.length !== rows * cols) throw new EdgerunError("SPARSE_BAD_SHAPE", "weights do not match rows x cols", { expected: rows * cols, actual: w.length });
  if (rows < 1 || cols < 1 || rows > 65535 || cols > 65535) throw new EdgerunError("SPARSE_BAD_SHAPE", "a sparse matrix has 1..65535 rows and columns", { actual: [rows, cols] });
  let nz = 0;
  for (const v of w) if (v !== 0) nz++;
  const L = bitmapLayout(rows, cols, nz);
  const out = new Uint8Array(L.bytes);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, rows, true);
  dv.setUint16(2, cols, true);
  out[4] = 1;
  out[5] = 1;
  out[6] = SPARSE_KIND_BITMAP;
  dv.setUint32(8, nz, true);
  const rowBytes = (cols + 7) >> 3;
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = w[r * cols + c];
      if (v === 0) continue;
      out[SPARSE_HEADER_BYTES + r * rowBytes + (c >> 3)] |= 1 << (c & 7);
      dv.setInt8(L.valuesAt + k++, v);
    }
  }
  return out;
}

/**
 * Encodes a dense [rows][cols] int8 matrix in the coded encoding: each flag model tried, the
 * smaller stream kept (the density model on a tie), or only `model` when given.
 */
export function encodeCoded(w: Int8Array, rows: number, cols: number, model?: number): Uint8Array {
  if (w.length !== rows * cols) throw new EdgerunError("SPARSE_BAD_SHAPE", "weights do not match rows x cols", { expected: rows * cols, actual: w.length });
  if (rows < 1 || cols < 1 || rows > 65535 || cols > 65535) throw new EdgerunError("SPARSE_BAD_SHAPE", "a sparse matrix has 1..65535 rows and columns", { actual: [rows, cols] });
  let nz = 0;
  for (const v of w) if (v !== 0) nz++;
  let best: Uint8Array | null = null, bestModel = 0;
  for (const m of model === undefined ? CODED_MODELS : [model]) {
    const s = encodeCodedStream(w, rows, cols, m);
    if (!best || s.length < best.length) [best, bestModel] = [s, m];
  }
  const out = new Uint8Array(SPARSE_HEADER_BYTES + best!.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, rows, true);
  dv.setUint16(2, cols, true);
  out[4] = 1;
  out[5] = 1;
  out[6] = SPARSE_KIND_CODED;
  out[7] = bestModel;
  dv.setUint32(8, nz, true);
  dv.setUint32(12, best!.length, true);
  out.set(best!, SPARSE_HEADER_BYTES);
  return out;
}

/**
 * The coded encoding's checks: the header, the exact length, then the stream decoded in full with
 * its own checks (the decoded matrix goes to `decoded`). Returns the layout.
 */
function checkCoded(blob: Uint8Array, dv: DataView, rows: number, cols: number, ctx: ErrorContext, decoded?: (w: Int8Array) => void): SparseLayout {
  if (blob[4] !== 1 || blob[5] !== 1 || !(CODED_MODELS as readonly number[]).includes(blob[7])) {
    throw new EdgerunError("ERM_BAD_TENSOR", "coded sparse header does not fit the op", { ...ctx, expected: "R = C = 1, flag model 0 or 1", actual: [blob[4], blob[5], blob[7]] });
  }
  const values = dv.getUint32(8, true);
  if (values > rows * cols) throw new EdgerunError("ERM_BAD_PARAMS", "more stored weights than the matrix has", { ...ctx, expected: rows * cols, actual: values });
  const streamBytes = dv.getUint32(12, true);
  if (SPARSE_HEADER_BYTES + streamBytes !== blob.length) throw new EdgerunError("ERM_BAD_TENSOR", "coded sparse length does not match its stream", { ...ctx, expected: SPARSE_HEADER_BYTES + streamBytes, actual: blob.length });
  // Bounds the work (and the scratch matrix) by the blob's length before decoding anything.
  if (rows * cols > CODED_MAX_DECISIONS_PER_BYTE * streamBytes) throw new EdgerunError("ERM_BAD_PARAMS", "more weights than a coded stream of this length can hold", { ...ctx, expected: CODED_MAX_DECISIONS_PER_BYTE * streamBytes, actual: rows * cols });
  const w = new Int8Array(rows * cols);
  const fault = decodeCodedStream(blob.subarray(SPARSE_HEADER_BYTES), rows, cols, blob[7], values, w);
  if (fault) throw new EdgerunError("ERM_BAD_PARAMS", fault.reason, { ...ctx, offset: SPARSE_HEADER_BYTES + fault.offset, expected: fault.expected, actual: fault.actual });
  decoded?.(w);
  return { kind: SPARSE_KIND_CODED, rows, cols, blockRows: 1, blockCols: 1, blocks: values, countsAt: SPARSE_HEADER_BYTES, stepsAt: SPARSE_HEADER_BYTES, valuesAt: SPARSE_HEADER_BYTES, bytes: blob.length };
}

/** Set bits of a byte. */
function popcount8(b: number): number {
  b = b - ((b >> 1) & 0x55);
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/** The bitmap encoding's checks (the header's rows and cols already match). */
function checkBitmap(blob: Uint8Array, dv: DataView, rows: number, cols: number, ctx: ErrorContext): SparseLayout {
  if (blob[4] !== 1 || blob[5] !== 1 || blob[7] !== 0 || dv.getUint32(12, true) !== 0) {
    throw new EdgerunError("ERM_BAD_TENSOR", "sparse bitmap header does not fit the op", { ...ctx, expected: "R = C = 1, reserved 0", actual: [blob[4], blob[5], blob[7], dv.getUint32(12, true)] });
  }
  const values = dv.getUint32(8, true);
  if (values > rows * cols) throw new EdgerunError("ERM_BAD_PARAMS", "more stored weights than the matrix has", { ...ctx, expected: rows * cols, actual: values });
  const L = bitmapLayout(rows, cols, values);
  if (L.bytes !== blob.length) throw new EdgerunError("ERM_BAD_TENSOR", "sparse bitmap length does not match its counts", { ...ctx, expected: L.bytes, actual: blob.length });
  const rowBytes = (cols + 7) >> 3, tailMask = cols & 7 ? (0xff << (cols & 7)) & 0xff : 0;
  let set = 0;
  for (let r = 0; r < rows; r++) {
    const at = SPARSE_HEADER_BYTES + r * rowBytes;
    if (blob[at + rowBytes - 1] & tailMask) throw new EdgerunError("ERM_BAD_PARAMS", "sparse bitmap marks a column past the input", { ...ctx, offset: at + rowBytes - 1, expected: cols, actual: blob[at + rowBytes - 1] });
    for (let j = 0; j < rowBytes; j++) set += popcount8(blob[at + j]);
  }
  if (set !== values) throw new EdgerunError("ERM_BAD_PARAMS", "sparse bitmap bits do not add up to the stored weights", { ...ctx, expected: values, actual: set });
  return L;
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
export function checkSparse(blob: Uint8Array, rows: number, cols: number, ctx: ErrorContext = {}, decoded?: (w: Int8Array) => void): SparseLayout {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < SPARSE_HEADER_BYTES) throw new EdgerunError("ERM_BAD_TENSOR", "sparse weights shorter than their header", { ...ctx, expected: SPARSE_HEADER_BYTES, actual: blob.length });
  const R = blob[4], C = blob[5];
  const hdr = { rows: dv.getUint16(0, true), cols: dv.getUint16(2, true), R, C };
  if (hdr.rows === rows && hdr.cols === cols && rows >= 1 && cols >= 1 && blob[6] === SPARSE_KIND_BITMAP) return checkBitmap(blob, dv, rows, cols, ctx);
  if (hdr.rows === rows && hdr.cols === cols && rows >= 1 && cols >= 1 && blob[6] === SPARSE_KIND_CODED) return checkCoded(blob, dv, rows, cols, ctx, decoded);
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
  let coded: Int8Array | undefined;
  const L = checkSparse(blob, rows, cols, {}, (d) => (coded = d)); // the coded encoding is decoded by its check
  if (coded) return coded;
  const R = L.blockRows, C = L.blockCols;
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const w = new Int8Array(rows * cols);
  if (L.kind === SPARSE_KIND_BITMAP) {
    const rowBytes = (cols + 7) >> 3;
    let k = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) if (blob[L.stepsAt + r * rowBytes + (c >> 3)] & (1 << (c & 7))) w[r * cols + c] = dv.getInt8(L.valuesAt + k++);
    }
    return w;
  }
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
export function sparseHeader(blob: Uint8Array): { rows: number; cols: number; blockRows: number; blockCols: number; blocks: number; kind: number } {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return { rows: dv.getUint16(0, true), cols: dv.getUint16(2, true), blockRows: blob[4], blockCols: blob[5], blocks: dv.getUint32(8, true), kind: blob[6] };
}

/**
 * CONV_2D_SPARSE's parameter words: the 11 conv words, the 12 ADD words when fused (6 inputs),
 * then either only the run bits (a 1x1 filter: the original form, which the sparse kernels run) or
 * the filter height and width and then the run bits (any filter: stored sparse, always expanded
 * to dense at load). Returns the filter size of the second form, else null.
 */
export function convSparseGeometry(nInputs: number, params: number[]): { kH: number; kW: number } | null {
  const base = nInputs === 6 ? 23 : 11;
  return params.length === base + 3 ? { kH: params[base], kW: params[base + 1] } : null;
}

/**
 * The container reader's check of a sparse op's weights and run bits (self-consistency of the
 * blob; shapes against the op's input and output are the runtime's prepare checks, as for dense ops).
 * `expandOnly`: the op has no sparse kernel (CONV_2D_SPARSE with a filter size), so its run bits
 * must be 0; so must a bitmap or coded blob's (no kernel reads them).
 */
export function checkSparseOpWeights(inputs: number[], tensors: { dtype: number; shape: number[]; data?: Uint8Array }[], op: number, params: number[], expandOnly = false): void {
  const w = tensors[inputs[1]];
  const ctx = { op, tensor: inputs[1] };
  const run = params[params.length - 1];
  if ((run & ~SPARSE_RUN_ALL) !== 0) throw new EdgerunError("ERM_BAD_PARAMS", "sparse run bits other than the two builds' are set", { op, expected: `0..${SPARSE_RUN_ALL}`, actual: run });
  if (!w || !w.data || w.dtype !== 1 || w.shape.length !== 1) throw new EdgerunError("ERM_BAD_TENSOR", "sparse weights must be a 1-D int8 constant", ctx);
  if (w.data.length < SPARSE_HEADER_BYTES) throw new EdgerunError("ERM_BAD_TENSOR", "sparse weights shorter than their header", { ...ctx, expected: SPARSE_HEADER_BYTES, actual: w.data.length });
  const h = sparseHeader(w.data);
  const L = checkSparse(w.data, h.rows, h.cols, ctx);
  if (run !== 0 && (expandOnly || L.kind !== SPARSE_KIND_BLOCKS)) {
    throw new EdgerunError("ERM_BAD_PARAMS", "run bits set on sparse weights no kernel reads (a bitmap, coded, or a filter larger than 1x1): they are expanded at load", { op, expected: 0, actual: run });
  }
}
