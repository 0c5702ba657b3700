// The coded sparse encoding's stream (byte 6 = 2 of a sparse weight blob; the header is in
// sparse-weights.ts): the bitmap's content, which weights of the [rows][cols] matrix are stored
// and their int8 values row-major, entropy coded with an adaptive binary range coder (LZMA's rc:
// 11-bit probabilities, shift-5 adaptation, 32-bit range, carry-propagating encoder). Spec with
// sizes: docs/model-format.md ("Sparse weights"); the runtime's decoder is
// assembly/graph/prepare/sparse-coded.ts and must stay bit-exact with this one.
//
// Per weight, row-major: a stored flag (context: the flag model in header byte 7), and for a
// stored weight its value as a sign bit (context: the previous stored value's sign) and a 7-bit
// bit tree over |v| - 1 (+128 is invalid). Stored values are never 0.

/** Header byte 7 of a coded blob: how the stored flags are modelled. */
export const CODED_MODEL_DENSITY = 0; // the column's and the row's stored share so far (global pruning)
export const CODED_MODEL_PATTERN = 1; // the aligned 8-column group, the position in it, the flag above (N:M, blocks)
export const CODED_MODELS = [CODED_MODEL_DENSITY, CODED_MODEL_PATTERN] as const;

/**
 * Binary decisions a stream of L bytes can hold at most: every decision shrinks the range by at
 * least 31/2048 (probabilities stay in 31..2017), every byte widens it by 8 bits, so a valid
 * stream codes fewer than 364 L. Readers refuse rows x cols above it before decoding.
 */
export const CODED_MAX_DECISIONS_PER_BYTE = 364;

const PROB_BITS = 11;
const PROB_ONE = 1 << PROB_BITS; // probabilities of a 0 bit, in 1/2048
const ADAPT_SHIFT = 5;
const TOP = 1 << 24;
/** Flag contexts per model: 9 x 9 density buckets; 8 counts x 8 positions x 2 (flag above). */
const FLAG_CONTEXTS = [81, 128];
/** Probability slots: the flag contexts, 2 sign contexts, the 7-bit magnitude tree (nodes 1..127). */
const SIGN_AT = 128, MAG_AT = 130, PROBS = 258;

/** Why a stream does not decode (the caller turns it into ERM_BAD_PARAMS with its context). */
export interface CodedFault {
  reason: string;
  /** Byte offset inside the stream. */
  offset: number;
  expected: unknown;
  actual: unknown;
}

/**
 * The flag models' state over one matrix: updated with each decoded or encoded flag (stored =
 * nonzero), so the encoder and the decoder see the same contexts.
 */
class FlagContext {
  private readonly colCount: Uint16Array;
  private rowCount = 0;
  private group = 0;
  constructor(readonly model: number, private readonly cols: number, private readonly w: ArrayLike<number>) {
    this.colCount = new Uint16Array(model === CODED_MODEL_DENSITY ? cols : 0);
  }
  /** The context of weight [r][c] (c = 0 starts a row). */
  at(r: number, c: number): number {
    if (c === 0) this.rowCount = 0;
    if ((c & 7) === 0) this.group = 0;
    if (this.model === CODED_MODEL_DENSITY) {
      const colB = r === 0 ? 0 : 1 + Math.min(7, Math.floor((this.colCount[c] * 8) / r));
      const rowB = c === 0 ? 0 : 1 + Math.min(7, Math.floor((this.rowCount * 8) / c));
      return colB * 9 + rowB;
    }
    const above = r > 0 && this.w[(r - 1) * this.cols + c] !== 0 ? 1 : 0;
    return ((this.group * 8 + (c & 7)) * 2) + above;
  }
  stored(c: number): void {
    this.rowCount++;
    this.group++;
    if (this.model === CODED_MODEL_DENSITY) this.colCount[c]++;
  }
}

class RangeEncoder {
  private low = 0; // < 2^40, exact in a double
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  readonly out: number[] = [];
  bit(probs: Uint16Array, i: number, b: number): void {
    const p = probs[i];
    const bound = (this.range >>> PROB_BITS) * p;
    if (b === 0) {
      this.range = bound;
      probs[i] = p + ((PROB_ONE - p) >> ADAPT_SHIFT);
    } else {
      this.low += bound;
      this.range = (this.range - bound) >>> 0;
      probs[i] = p - (p >> ADAPT_SHIFT);
    }
    if (this.range < TOP) {
      this.range = (this.range << 8) >>> 0;
      this.shiftLow();
    }
  }
  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 0x100000000) {
      const carry = this.low >= 0x100000000 ? 1 : 0;
      let temp = this.cache;
      do {
        this.out.push((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / 0x1000000) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % 0x1000000) * 256;
  }
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return Uint8Array.from(this.out);
  }
}

/**
 * The coded stream of a dense [rows][cols] matrix under one flag model. Values outside int8 are
 * the caller's fault (tests pass +128 on purpose: the decoders refuse it).
 */
export function encodeCodedStream(w: ArrayLike<number>, rows: number, cols: number, model: number): Uint8Array {
  const probs = new Uint16Array(PROBS).fill(PROB_ONE >> 1);
  const rc = new RangeEncoder();
  const ctx = new FlagContext(model, cols, w);
  let sign = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = w[r * cols + c];
      rc.bit(probs, ctx.at(r, c), v !== 0 ? 1 : 0);
      if (v === 0) continue;
      ctx.stored(c);
      const s = v < 0 ? 1 : 0;
      rc.bit(probs, SIGN_AT + sign, s);
      sign = s;
      let m = 1;
      const mag = Math.abs(v) - 1;
      for (let k = 6; k >= 0; k--) {
        const b = (mag >> k) & 1;
        rc.bit(probs, MAG_AT + m, b);
        m = (m << 1) | b;
      }
    }
  }
  return rc.finish();
}

/**
 * Decodes a coded stream into `out` (a zeroed [rows][cols] matrix); returns null, or the first
 * fault: a first byte other than 0, a read past the stream, a value of +128, more than `values`
 * stored weights, fewer, or bytes left unread.
 */
export function decodeCodedStream(s: Uint8Array, rows: number, cols: number, model: number, values: number, out: Int8Array): CodedFault | null {
  const probs = new Uint16Array(PROBS).fill(PROB_ONE >> 1);
  if (s.length < 5) return { reason: "coded sparse stream shorter than the coder's first 5 bytes", offset: 0, expected: 5, actual: s.length };
  if (s[0] !== 0) return { reason: "coded sparse stream does not start with byte 0", offset: 0, expected: 0, actual: s[0] };
  let code = ((s[1] << 24) | (s[2] << 16) | (s[3] << 8) | s[4]) >>> 0;
  let range = 0xffffffff, at = 5, past = false;
  const bit = (i: number): number => {
    const p = probs[i];
    const bound = (range >>> PROB_BITS) * p;
    let b: number;
    if (code < bound) {
      range = bound;
      probs[i] = p + ((PROB_ONE - p) >> ADAPT_SHIFT);
      b = 0;
    } else {
      code = (code - bound) >>> 0;
      range = (range - bound) >>> 0;
      probs[i] = p - (p >> ADAPT_SHIFT);
      b = 1;
    }
    if (range < TOP) {
      if (at >= s.length) past = true; // never read past the stream: a fault, not zeros
      range = (range << 8) >>> 0;
      code = ((code << 8) | (past ? 0 : s[at++])) >>> 0;
    }
    return b;
  };
  const ctx = new FlagContext(model, cols, out);
  let stored = 0, sign = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (bit(ctx.at(r, c)) === 0) {
        if (past) return { reason: "coded sparse stream ends before the matrix", offset: s.length, expected: "more bytes", actual: s.length };
        continue;
      }
      if (++stored > values) return { reason: "coded sparse stream stores more weights than its header", offset: at, expected: values, actual: stored };
      ctx.stored(c);
      sign = bit(SIGN_AT + sign);
      let m = 1;
      for (let k = 0; k < 7; k++) m = (m << 1) | bit(MAG_AT + m);
      const mag = m - 127; // |v|: 1..128
      if (past) return { reason: "coded sparse stream ends before the matrix", offset: s.length, expected: "more bytes", actual: s.length };
      if (sign === 0 && mag === 128) return { reason: "coded sparse value +128 is not int8", offset: at, expected: "-128..127", actual: 128 };
      out[r * cols + c] = sign ? -mag : mag;
    }
  }
  if (stored !== values) return { reason: "coded sparse stream stores fewer weights than its header", offset: at, expected: values, actual: stored };
  if (at !== s.length) return { reason: "coded sparse stream has bytes left after the matrix", offset: at, expected: s.length, actual: at };
  return null;
}
