// Case generator and an independent JavaScript model of the TFLite int8 semantics for the
// conv-family tests. Cases are plain data: shapes, int8/int32 arrays, quantization parameters.

import { outputGeometry } from "./conv-harness.mjs";

/** Deterministic PRNG (mulberry32). */
export function rng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  const pick = (arr) => arr[Math.floor(next() * arr.length)];
  return { next, int, pick };
}

function int8Array(r, n, extreme, lo = -128, hi = 127) {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = extreme ? r.pick([-128, 127, -128, 127, 0]) : r.int(lo, hi);
  return a;
}

/**
 * Quantization parameters for `channels` outputs of accumulations over K products. Realistic
 * shifts keep outputs mostly in range; extreme mode draws shifts from -31..+8 and big multipliers.
 */
function quant(r, channels, K, perChannel, extreme, shiftRange) {
  const n = perChannel ? channels : 1;
  const mult = new Int32Array(n), shift = new Int8Array(n); // the .erm's dtypes
  const typical = Math.log2(128 * 64 * Math.sqrt(K) + 1);
  for (let i = 0; i < n; i++) {
    mult[i] = extreme ? r.pick([0x7fffffff, 0x40000000, r.int(0x40000000, 0x7fffffff)]) : r.int(0x40000000, 0x7fffffff);
    shift[i] = shiftRange ? r.int(shiftRange[0], shiftRange[1])
      : extreme ? r.int(-31, 8) : Math.max(-31, Math.min(8, Math.round(7 - typical) + r.int(-2, 2)));
  }
  return { mult, shift, multStride: perChannel ? 4 : 0 };
}

function activation(r, act, outZp) {
  if (act === "relu") return { actMin: Math.max(outZp, -128), actMax: 127 };
  if (act === "relu6") return { actMin: Math.max(outZp, -128), actMax: Math.min(127, outZp + r.int(5, 120)) };
  return { actMin: -128, actMax: 127 };
}

function biasArray(r, n, extreme) {
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) b[i] = extreme ? r.pick([-(1 << 20), 1 << 20, r.int(-(1 << 20), 1 << 20)]) : r.int(-40000, 40000);
  return b;
}

/**
 * Fused-ADD parameters. Extreme mode also draws the corners of the fast ADD path (left shift 9
 * and 20, input and output exponents up to 31, multipliers 0 and 2^31-1) and left shifts below 9,
 * which take the spec path.
 */
function addParams(r, extreme) {
  if (extreme) {
    const mult = () => r.pick([0, 1, 0x7fffffff, 0x40000000, r.int(0, 0x7fffffff)]);
    return {
      in1Offset: r.pick([-255, 255, r.int(-255, 255)]), in2Offset: r.pick([-255, 255, r.int(-255, 255)]),
      leftShift: r.pick([20, 9, 8, 0, r.int(0, 20)]),
      in1Mult: mult(), in1Shift: r.int(-31, 0), in2Mult: mult(), in2Shift: r.int(-31, 0),
      outMult: mult(), outShift: r.int(-31, 0), outOffset: r.int(-255, 255),
      ...r.pick([{ actMin: -128, actMax: 127 }, { actMin: r.int(-128, 0), actMax: r.int(1, 127) }]),
    };
  }
  return {
    in1Offset: r.int(-127, 128), in2Offset: r.int(-127, 128), leftShift: 20,
    in1Mult: r.int(0x40000000, 0x7fffffff), in1Shift: r.int(-4, 0),
    in2Mult: r.int(0x40000000, 0x7fffffff), in2Shift: r.int(-4, 0),
    outMult: r.int(0x40000000, 0x7fffffff), outShift: r.int(-22, -17),
    outOffset: r.int(-128, 127), ...r.pick([{ actMin: -128, actMax: 127 }, { actMin: r.int(-128, 0), actMax: r.int(1, 127) }]),
  };
}

/**
 * Builds a conv or depthwise case from a spec: { inH, inW, inC, outC | depthMultiplier, kH, kW,
 * stride: [h, w], dil: [h, w], padding, perChannel, bias, act, fused: null|"separate"|"alias", extreme,
 * shiftRange: [lo, hi] (per-channel shifts drawn from it instead), fill (every input and weight) }.
 */
export function convCase(r, spec, depthwise) {
  const [strideH, strideW] = spec.stride ?? [1, 1];
  const [dilH, dilW] = spec.dil ?? [1, 1];
  const gh = outputGeometry(spec.inH, spec.kH, strideH, dilH, spec.padding);
  const gw = outputGeometry(spec.inW, spec.kW, strideW, dilW, spec.padding);
  const dm = depthwise ? spec.depthMultiplier ?? 1 : 1;
  const outC = depthwise ? spec.inC * dm : spec.outC;
  const extreme = !!spec.extreme;
  const K = depthwise ? spec.kH * spec.kW : spec.kH * spec.kW * spec.inC;
  const outputOffset = r.int(-128, 127);
  const c = {
    ...spec, strideH, strideW, dilH, dilW, outC, depthMultiplier: dm,
    outH: gh.out, outW: gw.out, padTop: gh.pad, padLeft: gw.pad,
    input: spec.fill !== undefined ? new Int8Array(spec.inH * spec.inW * spec.inC).fill(spec.fill) : int8Array(r, spec.inH * spec.inW * spec.inC, extreme),
    filter: spec.fill !== undefined ? new Int8Array(depthwise ? K * outC : outC * K).fill(spec.fill) : int8Array(r, depthwise ? K * outC : outC * K, extreme, -127, 127),
    bias: spec.bias === false ? null : biasArray(r, outC, extreme),
    inputOffset: extreme ? r.pick([-127, 128, 0]) : r.int(-127, 128),
    outputOffset,
    ...quant(r, outC, K, spec.perChannel !== false, extreme, spec.shiftRange),
    ...activation(r, spec.act, outputOffset),
  };
  c.outBytes = c.outH * c.outW * outC;
  c.outputFill = int8Array(r, c.outBytes, false);
  if (spec.fused) {
    c.residual = int8Array(r, c.outBytes, extreme);
    c.residualAliases = spec.fused === "alias";
    c.addParams = addParams(r, extreme);
  }
  return c;
}

/** Builds an FC case from { batches, depth, outC, perChannel, bias, act, extreme }. */
export function fcCase(r, spec) {
  const extreme = !!spec.extreme;
  const outputOffset = r.int(-128, 127);
  const c = {
    ...spec,
    input: int8Array(r, spec.batches * spec.depth, extreme),
    filter: int8Array(r, spec.outC * spec.depth, extreme, -127, 127),
    bias: spec.bias === false ? null : biasArray(r, spec.outC, extreme),
    inputOffset: extreme ? r.pick([-127, 128, 0]) : r.int(-127, 128),
    outputOffset,
    ...quant(r, spec.outC, spec.depth, spec.perChannel !== false, extreme, spec.shiftRange),
    ...activation(r, spec.act, outputOffset),
  };
  c.outBytes = spec.batches * spec.outC;
  c.outputFill = int8Array(r, c.outBytes, false);
  return c;
}

// ---- Independent model of the TFLite integer semantics (BigInt for the 64-bit product) ----

function srdhm(a, b) {
  if (a === -2147483648 && b === -2147483648) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates like C
}
function rdbp(x, e) {
  const mask = e === 0 ? 0 : (2 ** e - 1) | 0;
  const rem = x & mask;
  const thr = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > thr ? 1 : 0);
}
function mbqm(x, m, s) {
  return rdbp(srdhm(Math.imul(x, 1 << Math.max(s, 0)), m), Math.max(-s, 0));
}
const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
function addModel(x1, x2, p) {
  const s1 = mbqm(Math.imul(p.in1Offset + x1, 1 << p.leftShift), p.in1Mult, p.in1Shift);
  const s2 = mbqm(Math.imul(p.in2Offset + x2, 1 << p.leftShift), p.in2Mult, p.in2Shift);
  return clamp(mbqm((s1 + s2) | 0, p.outMult, p.outShift) + p.outOffset, p.actMin, p.actMax);
}
function finishModel(c, acc, oc) {
  const i = c.multStride ? oc : 0;
  if (c.bias) acc = (acc + c.bias[oc]) | 0;
  return clamp(mbqm(acc, c.mult[i], c.shift[i]) + c.outputOffset, c.actMin, c.actMax);
}

/** Expected output bytes of a conv (depthwise = false) or depthwise case. */
export function convModel(c, depthwise) {
  const out = new Int8Array(c.outBytes);
  const initial = c.residual ? Int8Array.from(c.residual) : null;
  for (let oy = 0; oy < c.outH; oy++) for (let ox = 0; ox < c.outW; ox++) for (let oc = 0; oc < c.outC; oc++) {
    let acc = 0;
    const ic0 = depthwise ? Math.floor(oc / c.depthMultiplier) : 0;
    for (let kh = 0; kh < c.kH; kh++) {
      const iy = oy * c.strideH - c.padTop + kh * c.dilH;
      if (iy < 0 || iy >= c.inH) continue;
      for (let kw = 0; kw < c.kW; kw++) {
        const ix = ox * c.strideW - c.padLeft + kw * c.dilW;
        if (ix < 0 || ix >= c.inW) continue;
        if (depthwise) {
          acc += (c.input[(iy * c.inW + ix) * c.inC + ic0] + c.inputOffset) * c.filter[(kh * c.kW + kw) * c.outC + oc];
        } else {
          for (let ic = 0; ic < c.inC; ic++) {
            acc += (c.input[(iy * c.inW + ix) * c.inC + ic] + c.inputOffset) * c.filter[((oc * c.kH + kh) * c.kW + kw) * c.inC + ic];
          }
        }
      }
    }
    const i = (oy * c.outW + ox) * c.outC + oc;
    const q = finishModel(c, acc | 0, oc);
    out[i] = initial ? addModel(q, initial[i], c.addParams) : q;
  }
  return new Uint8Array(out.buffer);
}

/** Expected output bytes of an FC case. */
export function fcModel(c) {
  const out = new Int8Array(c.outBytes);
  for (let b = 0; b < c.batches; b++) for (let o = 0; o < c.outC; o++) {
    let acc = 0;
    for (let d = 0; d < c.depth; d++) acc += (c.input[b * c.depth + d] + c.inputOffset) * c.filter[o * c.depth + d];
    out[b * c.outC + o] = finishModel(c, acc | 0, o);
  }
  return new Uint8Array(out.buffer);
}
