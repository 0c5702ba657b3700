// Independent JS models of the int8 formulas the elementwise-family kernels implement
// (TFLite Micro reference semantics). Written from the formulas, not from the kernels:
// 64-bit products in BigInt, rounding by explicit floor/remainder rules.

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** gemmlowp SaturatingRoundingDoublingHighMul. */
export function srdhm(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, as C
}

/** x / 2^e rounded to nearest, ties away from zero. */
export function rdbpot(x: number, e: number): number {
  const p = 2 ** e;
  const q = Math.floor(x / p);
  const r = x - q * p;
  if (x >= 0) return q + (2 * r >= p && e > 0 ? 1 : 0);
  return q + (2 * r > p ? 1 : 0);
}

export function mbqm(x: number, mult: number, shift: number): number {
  const left = Math.max(shift, 0);
  const right = Math.max(-shift, 0);
  return rdbpot(srdhm(Number(BigInt.asIntN(32, BigInt(x) << BigInt(left))), mult), right);
}

export const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const wrap32 = (v: number): number => v | 0;

/** C integer division rounded half away from zero, as TFLM pooling and MEAN round. */
export function cRoundedDiv(sum: number, n: number): number {
  const half = Math.trunc(n / 2);
  return sum > 0 ? Math.trunc((sum + half) / n) : Math.trunc((sum - half) / n);
}

export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

// ---- gemmlowp fixed point for the softmax model ----

function satShiftLeft(x: number, e: number): number {
  const threshold = 2 ** (31 - e) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x * 2 ** e;
}

function roundingHalfSum(a: number, b: number): number {
  const sum = BigInt(a) + BigInt(b);
  return Number((sum + (sum >= 0n ? 1n : -1n)) / 2n);
}

function expNegQuarter(a: number): number {
  const x = wrap32(a + 2 ** 28);
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const inner = rdbpot(wrap32(srdhm(wrap32(rdbpot(x4, 2) + x3), 715827883) + x2), 1);
  return wrap32(1895147668 + srdhm(1895147668, wrap32(x + inner)));
}

const BARREL: Array<[number, number]> = [
  [24, 1672461947], [25, 1302514674], [26, 790015084], [27, 290630308],
  [28, 39332535], [29, 720401], [30, 242],
];

export function expOnNegativeQ5(a: number): number {
  if (a === 0) return INT32_MAX;
  const quarter = 2 ** 24;
  const modMinusQuarter = (a & (quarter - 1)) - quarter;
  let result = expNegQuarter(satShiftLeft(modMinusQuarter, 5));
  const remainder = wrap32(modMinusQuarter - a);
  for (const [bit, mult] of BARREL) if (remainder & (2 ** bit)) result = srdhm(result, mult);
  return result;
}

function oneOverOnePlusX(a: number): number {
  const half = roundingHalfSum(a, INT32_MAX);
  let x = wrap32(1515870810 + srdhm(half, -1010580540));
  for (let i = 0; i < 3; i++) {
    const oneMinus = wrap32(2 ** 29 - srdhm(half, x));
    x = wrap32(x + satShiftLeft(srdhm(x, oneMinus), 2));
  }
  return satShiftLeft(x, 1);
}

function clz32(x: number): number {
  return Math.clz32(x);
}

/** One softmax row, TFLite reference_ops::Softmax<int8_t, int8_t>. */
export function softmaxRow(row: ArrayLike<number>, inputMult: number, inputLeftShift: number, diffMin: number): number[] {
  let maxv = -128;
  for (let i = 0; i < row.length; i++) maxv = Math.max(maxv, row[i]);
  const exps: Array<number | null> = [];
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const diff = row[i] - maxv;
    if (diff >= diffMin) {
      const e = expOnNegativeQ5(srdhm(diff * 2 ** inputLeftShift, inputMult));
      exps.push(e);
      sum = wrap32(sum + rdbpot(e, 12));
    } else {
      exps.push(null);
    }
  }
  const headroomPlusOne = clz32(sum);
  const nbou = 12 - headroomPlusOne;
  const shiftedSumMinusOne = Number(BigInt.asIntN(32, (BigInt(sum) << BigInt(headroomPlusOne)) - (1n << 31n)));
  const scale = oneOverOnePlusX(shiftedSumMinusOne);
  const exponent = nbou + 31 - 8;
  return exps.map((e) => (e === null ? -128 : clamp(rdbpot(srdhm(scale, e), exponent) - 128, -128, 127)));
}

/** Seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomI8(next: () => number, n: number, lo = -128, hi = 127): Int8Array {
  return Int8Array.from({ length: n }, () => lo + Math.floor(next() * (hi - lo + 1)));
}
