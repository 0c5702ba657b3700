// Elementwise-family kernels (pool, add, softmax, quantize, mean, concat, pad) in both
// builds: fast variants byte for byte against the reference on edge shapes, the references
// against independent JS models of the TFLite Micro formulas, and the host-side constants.
import binaryen from "binaryen";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  activationRange, addParams, concatRequantParams, frexp, quantizeMultiplier,
  requantizeParams, softmaxParams,
} from "../../host/format/quant-params.js";
import { EdgerunError } from "../../host/format/errors.js";
import { addParamFields, BuildName, compileHarness, ElemHarness, repoRoot } from "./harness/elem-loader.js";
import { replayOp } from "./harness/elem-golden.js";
import { TfliteView } from "./harness/elem-tflite.js";
import { cRoundedDiv, clamp, INT32_MAX, INT32_MIN, mbqm, randomI8, rdbpot, rng, roundHalfAway, softmaxRow, srdhm } from "./harness/elem-model.js";

const builds: BuildName[] = ["simd", "mvp"];
const harness = new Map<BuildName, ElemHarness>();
const wasmFiles = new Map<BuildName, string>();

beforeAll(async () => {
  for (const b of builds) {
    const file = await compileHarness(b);
    wasmFiles.set(b, file);
    harness.set(b, await ElemHarness.load(b, file));
  }
}, 120_000);

const H = (b: BuildName): ElemHarness => harness.get(b)!;

describe("builds", () => {
  it("the MVP build contains no SIMD instruction and the SIMD build does", () => {
    const simdOps = (file: string): number => {
      const m = binaryen.readBinary(readFileSync(file));
      const text = m.emitText();
      m.dispose();
      return (text.match(/\b(v128|[if](?:8x16|16x8|32x4|64x2))\./g) ?? []).length;
    };
    expect(simdOps(wasmFiles.get("mvp")!)).toBe(0);
    expect(simdOps(wasmFiles.get("simd")!)).toBeGreaterThan(0);
    expect(H("simd").x.hasSimd()).toBe(1);
    expect(H("mvp").x.hasSimd()).toBe(0);
  });

  it("lists the variants by their house names", () => {
    expect(H("simd").variantNames(0)).toEqual(["qs8_avgpool__ref", "qs8_avgpool_4c__mvp", "qs8_avgpool_16c__simd"]);
    expect(H("simd").variantNames(1)).toEqual(["qs8_maxpool__ref", "qs8_maxpool_4c__mvp", "qs8_maxpool_16c__simd"]);
    expect(H("simd").variantNames(2)).toEqual(["qs8_add__ref", "qs8_add_lut__mvp", "qs8_add_16x__simd"]);
  });
});

// ---------------------------------------------------------------- fixed-point helpers

describe.each(builds)("fixed-point helpers, %s build", (build) => {
  // Products on rounding ties (a * b = 2^30 mod 2^31, both signs), extremes, and random pairs.
  const next = rng(2024);
  const a: number[] = [], b: number[] = [];
  const rand32 = () => Math.floor(next() * 2 ** 32) - 2 ** 31;
  for (let i = 0; i < 1024; i++) {
    const m = 2 ** 30 + (1 + Math.floor(next() * 2 ** 20)) * 2 ** 10; // odd multiple of 2^10 or not
    const x = (Math.floor(next() * 511) - 255) * 2 ** 20;
    a.push(x, x + 1, -x, rand32());
    b.push(m, 2 ** 30, m, Math.floor(next() * 2 ** 31));
  }
  a.push(INT32_MIN, INT32_MAX, INT32_MIN, 0, -1, 1, 3, -3);
  b.push(INT32_MAX, INT32_MAX, 2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30);
  const n = a.length;

  const run = (kind: number, xs: number[], ys: number[]): number[] | null => {
    const h = H(build);
    const pa = h.alloc(4 * n), pb = h.alloc(4 * n), po = h.alloc(4 * n);
    const view = new DataView(h.x.memory.buffer);
    for (let i = 0; i < n; i++) {
      view.setInt32(pa + 4 * i, xs[i], true);
      view.setInt32(pb + 4 * i, ys[i], true);
    }
    if (h.x.probeFixedPoint(kind, pa, pb, po, n) !== 1) return null;
    const out = new DataView(h.x.memory.buffer);
    return Array.from({ length: n }, (_, i) => out.getInt32(po + 4 * i, true));
  };

  it("srdhm, srdhmByShift and srdhmV match gemmlowp on ties and extremes", () => {
    const expected = a.map((x, i) => srdhm(x, b[i]));
    expect(run(0, a, b)).toEqual(expected);
    const noMin = a.map((x, i) => (b[i] === INT32_MIN ? 0 : x)); // both fast forms exclude b = INT32_MIN
    const expectedNoMin = noMin.map((x, i) => srdhm(x, b[i]));
    expect(run(1, noMin, b)).toEqual(expectedNoMin);
    const simd = run(2, noMin, b);
    if (build === "simd") expect(simd).toEqual(expectedNoMin);
    else expect(simd).toBeNull();
  });

  it("roundingDivideByPot scalar and vector, exponents 0..31, ties both signs", () => {
    for (let e = 0; e <= 31; e++) {
      const xs = a.map((x, i) => (i % 3 === 0 && e > 0 ? ((x >> e) << e) + 2 ** (e - 1) * (i % 2 ? 1 : -1) : x) | 0);
      const es = xs.map(() => e);
      const expected = xs.map((x) => rdbpot(x, e));
      expect(run(3, xs, es), `e=${e}`).toEqual(expected);
      const v = run(4, xs, es);
      if (build === "simd") expect(v, `vector e=${e}`).toEqual(expected);
    }
  });
});

// ---------------------------------------------------------------- pooling

interface PoolShape { inH: number; inW: number; fH: number; fW: number; sH: number; sW: number; pT: number; pL: number; pB: number; pR: number }
const poolShapes: Record<string, PoolShape> = {
  "3x3 s2 same, windows cut on every side": { inH: 7, inW: 9, fH: 3, fW: 3, sH: 2, sW: 2, pT: 1, pL: 1, pB: 1, pR: 1 },
  "5x5 s1 same": { inH: 6, inW: 6, fH: 5, fW: 5, sH: 1, sW: 1, pT: 2, pL: 2, pB: 2, pR: 2 },
  "2x2 s2, bottom/right cut": { inH: 5, inW: 3, fH: 2, fW: 2, sH: 2, sW: 2, pT: 0, pL: 0, pB: 1, pR: 1 },
  "global 25x5 (kws)": { inH: 25, inW: 5, fH: 25, fW: 5, sH: 1, sW: 1, pT: 0, pL: 0, pB: 0, pR: 0 },
  "global 8x8 (ic)": { inH: 8, inW: 8, fH: 8, fW: 8, sH: 1, sW: 1, pT: 0, pL: 0, pB: 0, pR: 0 },
  "global 20x20 (> 256 taps)": { inH: 20, inW: 20, fH: 20, fW: 20, sH: 1, sW: 1, pT: 0, pL: 0, pB: 0, pR: 0 },
  "1x1 s1": { inH: 3, inW: 2, fH: 1, fW: 1, sH: 1, sW: 1, pT: 0, pL: 0, pB: 0, pR: 0 },
  "3x2 s(1,3), asymmetric": { inH: 6, inW: 10, fH: 3, fW: 2, sH: 1, sW: 3, pT: 1, pL: 0, pB: 1, pR: 1 },
};
const poolChannels = [1, 3, 4, 5, 15, 16, 17, 33, 64];

function poolModel(op: number, x: Int8Array, s: PoolShape, C: number, outH: number, outW: number, actMin: number, actMax: number): Int8Array {
  const out = new Int8Array(outH * outW * C);
  for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let c = 0; c < C; c++) {
    let sum = 0, count = 0, m = -128;
    for (let fy = 0; fy < s.fH; fy++) for (let fx = 0; fx < s.fW; fx++) {
      const y = oy * s.sH - s.pT + fy, xx = ox * s.sW - s.pL + fx;
      if (y < 0 || y >= s.inH || xx < 0 || xx >= s.inW) continue;
      const v = x[(y * s.inW + xx) * C + c];
      sum += v; count++; m = Math.max(m, v);
    }
    out[(oy * outW + ox) * C + c] = clamp(op === 0 ? cRoundedDiv(sum, count) : m, actMin, actMax);
  }
  return out;
}

describe.each(builds)("pooling, %s build", (build) => {
  for (const [label, s] of Object.entries(poolShapes)) {
    it(`avg and max: ${label}, channels ${poolChannels.join("/")}`, () => {
      const h = H(build);
      const next = rng(label.length * 7919 + 1);
      const outH = Math.floor((s.inH + s.pT + s.pB - s.fH) / s.sH) + 1;
      const outW = Math.floor((s.inW + s.pL + s.pR - s.fW) / s.sW) + 1;
      for (const C of poolChannels) {
        for (const [actMin, actMax] of [[-128, 127], [-100, 90]]) {
          // Skewed inputs too, so sums sit at the i16 and SWAR limits.
          const x = C % 2 ? randomI8(next, s.inH * s.inW * C) : randomI8(next, s.inH * s.inW * C, -128, -120);
          const inPtr = h.putI8(x);
          for (const op of [0, 1]) {
            const expected = poolModel(op, x, s, C, outH, outW, actMin, actMax);
            const names = h.variantNames(op);
            for (let v = 0; v < names.length; v++) {
              const outPtr = h.alloc(outH * outW * C);
              const block = h.block([inPtr, s.inH, s.inW, C, outPtr, outH, outW, s.sH, s.sW, s.fH, s.fW, s.pT, s.pL, actMin, actMax]);
              const ran = h.x.runPool(op, v, block) === 1;
              expect(ran, `${names[v]} present in ${build}`).toBe(build === "simd" || !names[v].endsWith("__simd"));
              if (!ran) continue;
              expect(h.readI8(outPtr, expected.length), `${names[v]} C=${C} act=[${actMin},${actMax}]`).toEqual(expected);
            }
            for (const tier of [0, 1]) {
              const outPtr = h.alloc(outH * outW * C);
              h.x.dispatchPool(op, tier, h.block([inPtr, s.inH, s.inW, C, outPtr, outH, outW, s.sH, s.sW, s.fH, s.fW, s.pT, s.pL, actMin, actMax]));
              expect(h.readI8(outPtr, expected.length), `dispatch op ${op} tier ${tier} C=${C}`).toEqual(expected);
            }
          }
        }
      }
    });
  }
});

// ---------------------------------------------------------------- add

type AddP = ReturnType<typeof addParams>;
const addModelOne = (x1: number, x2: number, p: AddP): number => {
  const s1 = mbqm((p.in1Offset + x1) * 2 ** p.leftShift, p.in1Mult, p.in1Shift);
  const s2 = mbqm((p.in2Offset + x2) * 2 ** p.leftShift, p.in2Mult, p.in2Shift);
  return clamp(mbqm(s1 + s2, p.outMult, p.outShift) + p.outOffset, p.actMin, p.actMax);
};

function randomAddParams(next: () => number, relu: boolean): AddP {
  const scale = () => 0.005 + next() * 0.2;
  const zp = () => Math.floor(next() * 256) - 128;
  const sOut = scale() * 1.5, zpOut = zp();
  const act = relu ? activationRange("relu", sOut, zpOut) : { actMin: -128, actMax: 127 };
  return addParams(scale(), zp(), scale(), zp(), sOut, zpOut, act.actMin, act.actMax);
}

interface AddCase { label: string; dims: number[]; s1: number[]; s2: number[]; n1: number; n2: number; broadcast: number }
function denseStrides(d: number[]): number[] {
  return [d[1] * d[2] * d[3], d[2] * d[3], d[3], 1];
}
const addCases: AddCase[] = [];
for (const n of [1, 15, 16, 17, 33, 64, 511, 512, 1000, 1037]) {
  addCases.push({ label: `same shape, ${n}`, dims: [1, 1, 1, n], s1: [0, 0, 0, 1], s2: [0, 0, 0, 1], n1: n, n2: n, broadcast: 0 });
}
for (const C of [1, 16, 17, 33]) {
  const d = [1, 4, 5, C];
  addCases.push({ label: `per-channel in2, [1,4,5,${C}]`, dims: d, s1: denseStrides(d), s2: [0, 0, 0, 1], n1: 20 * C, n2: C, broadcast: 1 });
}
{
  const d = [1, 8, 8, 17];
  addCases.push({ label: "per-channel in2, [1,8,8,17] (table path)", dims: d, s1: denseStrides(d), s2: [0, 0, 0, 1], n1: 64 * 17, n2: 17, broadcast: 1 });
  addCases.push({ label: "scalar in1, [1,8,8,17]", dims: d, s1: [0, 0, 0, 0], s2: denseStrides(d), n1: 1, n2: 64 * 17, broadcast: 1 });
  addCases.push({ label: "in1 [1,1,8,17] over H, [2,8,8,17]", dims: [2, 8, 8, 17], s1: [0, 0, 17, 1], s2: denseStrides([2, 8, 8, 17]), n1: 8 * 17, n2: 2 * 64 * 17, broadcast: 1 });
}

function addModel(c: AddCase, x1: Int8Array, x2: Int8Array, p: AddP): Int8Array {
  const [d0, d1, d2, d3] = c.dims;
  const out = new Int8Array(d0 * d1 * d2 * d3);
  let o = 0;
  for (let i0 = 0; i0 < d0; i0++) for (let i1 = 0; i1 < d1; i1++) for (let i2 = 0; i2 < d2; i2++) for (let i3 = 0; i3 < d3; i3++) {
    const k1 = i0 * c.s1[0] + i1 * c.s1[1] + i2 * c.s1[2] + i3 * c.s1[3];
    const k2 = i0 * c.s2[0] + i1 * c.s2[1] + i2 * c.s2[2] + i3 * c.s2[3];
    out[o++] = addModelOne(x1[k1], x2[k2], p);
  }
  return out;
}

describe.each(builds)("add, %s build", (build) => {
  for (const c of addCases) {
    it(c.label, () => {
      const h = H(build);
      const next = rng(c.label.length * 104729 + c.n1);
      const names = h.variantNames(2);
      for (const relu of [false, true]) {
        const p = randomAddParams(next, relu);
        const x1 = randomI8(next, c.n1), x2 = randomI8(next, c.n2);
        const count = c.dims.reduce((a, b) => a * b, 1);
        const expected = addModel(c, x1, x2, p);
        const in1 = h.putI8(x1), in2 = h.putI8(x2);
        const fields = (out: number, a1: number) => [a1, in2, out, count, c.broadcast, ...c.dims, ...c.s1, ...c.s2, ...addParamFields(p)];
        for (let v = 0; v < names.length; v++) {
          const out = h.alloc(count);
          const ran = h.x.runAdd(v, h.block(fields(out, in1))) === 1;
          expect(ran, `${names[v]} present in ${build}`).toBe(build === "simd" || !names[v].endsWith("__simd"));
          if (!ran) continue;
          expect(h.readI8(out, count), `${names[v]} relu=${relu}`).toEqual(expected);
          if (c.n1 === count) {
            // In place: the output overwrites input 1 (a residual add planned in place).
            const alias = h.putI8(x1);
            h.x.runAdd(v, h.block(fields(alias, alias)));
            expect(h.readI8(alias, count), `${names[v]} in place`).toEqual(expected);
          }
        }
        for (const tier of [0, 1]) {
          const out = h.alloc(count);
          h.x.dispatchAdd(tier, h.block(fields(out, in1)));
          expect(h.readI8(out, count), `dispatch tier ${tier}`).toEqual(expected);
        }
      }
    });
  }

  it("rounding ties in every fixed-point step (multipliers with few low bits)", () => {
    // (x << 20) * (2^30 + k * 2^10) hits the srdhm tie (product = 2^30 mod 2^31) for odd
    // x + offset, positive and negative, and small shifts hit roundingDivideByPot ties.
    const h = H(build);
    const next = rng(77);
    const x1 = Int8Array.from({ length: 65536 }, (_, i) => (i >> 8) - 128);
    const x2 = Int8Array.from({ length: 65536 }, (_, i) => (i & 255) - 128);
    const in1 = h.putI8(x1), in2 = h.putI8(x2);
    for (let t = 0; t < 6; t++) {
      const k = () => 2 ** 30 + (1 + Math.floor(next() * 1000)) * 2 ** 10;
      const p: AddP = {
        in1Offset: Math.floor(next() * 256) - 128, in2Offset: Math.floor(next() * 256) - 128, leftShift: 20,
        in1Mult: k(), in1Shift: -Math.floor(next() * 3), in2Mult: k(), in2Shift: -Math.floor(next() * 3),
        outMult: 2 ** 30 + (1 + Math.floor(next() * 7)) * 2 ** 27, outShift: -17 - Math.floor(next() * 3),
        outOffset: Math.floor(next() * 256) - 128, actMin: -128, actMax: 127,
      };
      const expected = Int8Array.from({ length: 65536 }, (_, i) => addModelOne(x1[i], x2[i], p));
      for (let v = 0; v < h.variantNames(2).length; v++) {
        const out = h.alloc(65536);
        if (h.x.runAdd(v, h.block([in1, in2, out, 65536, 0, 1, 1, 1, 65536, 0, 0, 0, 1, 0, 0, 0, 1, ...addParamFields(p)])) !== 1) continue;
        expect(h.readI8(out, 65536), `${h.variantNames(2)[v]} set ${t}`).toEqual(expected);
      }
    }
  });

  it("every input pair of one same-shape parameter set (65536 values)", () => {
    const h = H(build);
    const p = addParams(0.0723, -3, 0.0412, 17, 0.0951, -9);
    const x1 = Int8Array.from({ length: 65536 }, (_, i) => (i >> 8) - 128);
    const x2 = Int8Array.from({ length: 65536 }, (_, i) => (i & 255) - 128);
    const expected = Int8Array.from({ length: 65536 }, (_, i) => addModelOne(x1[i], x2[i], p));
    const in1 = h.putI8(x1), in2 = h.putI8(x2);
    for (let v = 0; v < h.variantNames(2).length; v++) {
      const out = h.alloc(65536);
      if (h.x.runAdd(v, h.block([in1, in2, out, 65536, 0, 1, 1, 1, 65536, 0, 0, 0, 1, 0, 0, 0, 1, ...addParamFields(p)])) !== 1) continue;
      expect(h.readI8(out, 65536)).toEqual(expected);
    }
  });
});

// ---------------------------------------------------------------- softmax

describe.each(builds)("softmax, %s build", (build) => {
  const settings: Array<[number, number]> = [[1, 0.1], [1, 1 / 16], [1, 0.05], [1, 0.3], [1, 1 / 256], [0.5, 0.2], [2, 0.0390625], [1, 0.02]];
  for (const [beta, scale] of settings) {
    it(`beta ${beta}, input scale ${scale}: matches the fixed-point model and float softmax`, () => {
      const h = H(build);
      const next = rng(Math.round(scale * 1e6) + beta);
      const { inputMult, inputLeftShift, diffMin } = softmaxParams(beta, scale);
      for (const depth of [1, 2, 5, 10, 12, 33, 100, 255]) {
        const outer = 3;
        const x = randomI8(next, outer * depth);
        if (depth > 2) x.fill(x[0], 0, 3); // ties at the maximum in the first row, sometimes
        const inPtr = h.putI8(x);
        const expected = new Int8Array(outer * depth);
        for (let r = 0; r < outer; r++) expected.set(softmaxRow(x.subarray(r * depth, (r + 1) * depth), inputMult, inputLeftShift, diffMin), r * depth);
        for (const tier of [0, 1]) {
          const outPtr = h.alloc(outer * depth);
          h.x.dispatchSoftmax(tier, h.block([inPtr, outPtr, outer, depth, inputMult, inputLeftShift, diffMin]));
          const got = h.readI8(outPtr, outer * depth);
          expect(got, `depth ${depth} tier ${tier}`).toEqual(expected);
        }
        for (let r = 0; r < outer; r++) {
          const row = Array.from(x.subarray(r * depth, (r + 1) * depth));
          const m = Math.max(...row);
          const e = row.map((v) => Math.exp(beta * scale * (v - m)));
          const sum = e.reduce((a, b) => a + b, 0);
          e.forEach((ev, i) => expect(Math.abs((expected[r * depth + i] + 128) / 256 - ev / sum), `depth ${depth} row ${r} i ${i}`).toBeLessThanOrEqual(2 / 256));
        }
      }
    });
  }
});

// ---------------------------------------------------------------- quantize / dequantize

describe.each(builds)("quantize and dequantize, %s build", (build) => {
  it("f32 -> int8 rounds half away from zero after an f32 division", () => {
    const h = H(build);
    const next = rng(11);
    for (const [scale, zp] of [[0.05, -3], [1 / 255, -128], [0.3, 10], [0.0123, 127]]) {
      const fs = Math.fround(scale);
      const xs: number[] = [];
      for (let k = -140; k <= 140; k++) xs.push(Math.fround((k + 0.5) * fs), Math.fround(k * fs));
      for (let i = 0; i < 300; i++) xs.push(Math.fround((next() - 0.5) * 300 * fs));
      xs.push(1e9, -1e9, 0, -0);
      const inPtr = h.putF32(xs);
      const outPtr = h.alloc(xs.length);
      h.x.dispatchQuantize(1, h.block([inPtr, outPtr, xs.length, 0, { f32: fs }, 0, zp, 0, 0]));
      const expected = Int8Array.from(xs, (x) => clamp(roundHalfAway(Math.fround(Math.fround(x) / fs)) + zp, -128, 127));
      expect(h.readI8(outPtr, xs.length)).toEqual(expected);
    }
  });

  it("int8 -> f32 is f32(f64(scale) * (x - zp))", () => {
    const h = H(build);
    const x = Int8Array.from({ length: 256 }, (_, i) => i - 128);
    for (const [scale, zp] of [[0.0390625, -128], [0.1234567, 7]]) {
      const fs = Math.fround(scale);
      const outPtr = h.alloc(256 * 4);
      h.x.dispatchQuantize(1, h.block([h.putI8(x), outPtr, 256, 2, { f32: fs }, zp, 0, 0, 0]));
      expect(Array.from(h.readF32(outPtr, 256))).toEqual(Array.from(x, (v) => Math.fround(fs * (v - zp))));
    }
  });

  it("requantize int8 -> int8, uint8 -> int8, int8 -> uint8", () => {
    const h = H(build);
    const all = Array.from({ length: 256 }, (_, i) => i);
    for (const [inScale, inZp, outScale, outZp] of [[0.05, -3, 0.07, 5], [0.2, 10, 0.01, -20], [0.0078125, 0, 0.0078125, 0], [1.7, -128, 0.25, 127]]) {
      const q = requantizeParams(inScale, outScale);
      const cases: Array<[number, Int8Array | Uint8Array, number, number]> = [
        [1, Int8Array.from(all, (i) => i - 128), -128, 127],
        [3, Uint8Array.from(all), -128, 127],
        [4, Int8Array.from(all, (i) => i - 128), 0, 255],
      ];
      for (const [mode, xs, lo, hi] of cases) {
        const zpIn = mode === 3 ? inZp + 128 : inZp;
        const zpOut = mode === 4 ? outZp + 128 : outZp;
        const inPtr = mode === 3 ? h.putU8(xs) : h.putI8(xs);
        const outPtr = h.alloc(256);
        h.x.dispatchQuantize(0, h.block([inPtr, outPtr, 256, mode, { f32: 1 }, zpIn, zpOut, q.mult, q.shift]));
        const expected = Array.from(xs, (x) => clamp(mbqm(x - zpIn, q.mult, q.shift) + zpOut, lo, hi));
        const got = mode === 4 ? Array.from(h.readU8(outPtr, 256)) : Array.from(h.readI8(outPtr, 256));
        expect(got, `mode ${mode} scales ${inScale}/${outScale}`).toEqual(expected);
      }
    }
  });
});

// ---------------------------------------------------------------- mean

describe.each(builds)("mean, %s build", (build) => {
  it("any axes mask over [2,5,6,17]", () => {
    const h = H(build);
    const next = rng(5);
    const d = [2, 5, 6, 17];
    const x = randomI8(next, d[0] * d[1] * d[2] * d[3]);
    const inPtr = h.putI8(x);
    for (const mask of [0b0110, 0b0010, 0b1000, 0b1111, 0b0101, 0b0000, 0b1001]) {
      for (const [inScale, inZp, outScale, outZp] of [[0.05, -7, 0.05, -7], [0.1, 3, 0.02, -100]]) {
        const q = requantizeParams(inScale, outScale);
        const keep = d.map((v, k) => (mask >> k) & 1 ? 1 : v);
        const red = d.map((v, k) => (mask >> k) & 1 ? v : 1);
        const n = red.reduce((a, b) => a * b, 1);
        const expected: number[] = [];
        for (let i0 = 0; i0 < keep[0]; i0++) for (let i1 = 0; i1 < keep[1]; i1++) for (let i2 = 0; i2 < keep[2]; i2++) for (let i3 = 0; i3 < keep[3]; i3++) {
          let acc = 0;
          for (let j0 = 0; j0 < red[0]; j0++) for (let j1 = 0; j1 < red[1]; j1++) for (let j2 = 0; j2 < red[2]; j2++) for (let j3 = 0; j3 < red[3]; j3++) {
            acc += x[(((i0 + j0) * d[1] + i1 + j1) * d[2] + i2 + j2) * d[3] + i3 + j3] - inZp;
          }
          expected.push(clamp(cRoundedDiv(mbqm(acc, q.mult, q.shift), n) + outZp, -128, 127));
        }
        for (const tier of [0, 1]) {
          const outPtr = h.alloc(expected.length);
          h.x.dispatchMean(tier, h.block([inPtr, outPtr, ...d, mask, inZp, outZp, q.mult, q.shift]));
          expect(Array.from(h.readI8(outPtr, expected.length)), `mask ${mask} tier ${tier}`).toEqual(expected);
        }
      }
    }
  });
});

// ---------------------------------------------------------------- concat

describe.each(builds)("concatenation, %s build", (build) => {
  it("copies and requantizes slices in order", () => {
    const h = H(build);
    const next = rng(9);
    const layout = Array.from({ length: 7 }, (_, k) => h.x.concatInputLayout(k));
    expect(layout).toEqual([0, 4, 8, 12, 16, 20, 24]);
    const outer = 4;
    const outScale = 0.07, outZp = -4;
    const inputs = [
      { axis: 5, requant: false, scale: 0.07, zp: -4 },
      { axis: 16, requant: true, scale: 0.11, zp: 12 },
      { axis: 3, requant: true, scale: 0.02, zp: -128 },
      { axis: 1, requant: false, scale: 0.07, zp: -4 },
    ];
    const outAxis = inputs.reduce((a, i) => a + i.axis, 0);
    const data = inputs.map((i) => randomI8(next, outer * i.axis));
    const records = h.alloc(24 * inputs.length);
    const view = () => new DataView(h.x.memory.buffer);
    const expected: number[] = [];
    inputs.forEach((inp, k) => {
      const ptr = h.putI8(data[k]);
      const r = concatRequantParams(inp.scale, inp.zp, outScale);
      const v = view();
      v.setInt32(records + 24 * k + layout[0], ptr, true);
      v.setInt32(records + 24 * k + layout[1], inp.axis, true);
      v.setInt32(records + 24 * k + layout[2], inp.requant ? 1 : 0, true);
      v.setFloat32(records + 24 * k + layout[3], r.scale, true);
      v.setFloat32(records + 24 * k + layout[4], r.bias, true);
      v.setInt32(records + 24 * k + layout[5], outZp, true);
    });
    for (let o = 0; o < outer; o++) inputs.forEach((inp, k) => {
      const r = concatRequantParams(inp.scale, inp.zp, outScale);
      for (let j = 0; j < inp.axis; j++) {
        const x = data[k][o * inp.axis + j];
        expected.push(inp.requant ? clamp(roundHalfAway(Math.fround(Math.fround(x * r.scale) + r.bias)) + outZp, -128, 127) : x);
      }
    });
    for (const tier of [0, 1]) {
      const outPtr = h.alloc(outer * outAxis);
      h.x.dispatchConcat(tier, h.block([outPtr, outer, outAxis, inputs.length, records]));
      expect(Array.from(h.readI8(outPtr, outer * outAxis)), `tier ${tier}`).toEqual(expected);
    }
  });
});

// ---------------------------------------------------------------- pad

describe.each(builds)("pad, %s build", (build) => {
  it("fills with the pad value and places the input at the offset", () => {
    const h = H(build);
    const next = rng(3);
    for (const [inD, before, outD, padValue] of [
      [[1, 3, 4, 5], [0, 1, 2, 1], [1, 5, 7, 8], -7],
      [[2, 2, 3, 16], [0, 0, 1, 0], [2, 2, 5, 16], -128],
      [[1, 1, 1, 1], [1, 1, 1, 1], [3, 3, 3, 3], 0],
    ] as Array<[number[], number[], number[], number]>) {
      const x = randomI8(next, inD.reduce((a, b) => a * b, 1));
      const total = outD.reduce((a, b) => a * b, 1);
      const expected = new Array<number>(total).fill(padValue);
      for (let i0 = 0; i0 < inD[0]; i0++) for (let i1 = 0; i1 < inD[1]; i1++) for (let i2 = 0; i2 < inD[2]; i2++) for (let i3 = 0; i3 < inD[3]; i3++) {
        const o = (((i0 + before[0]) * outD[1] + i1 + before[1]) * outD[2] + i2 + before[2]) * outD[3] + i3 + before[3];
        expected[o] = x[((i0 * inD[1] + i1) * inD[2] + i2) * inD[3] + i3];
      }
      for (const tier of [0, 1]) {
        const outPtr = h.alloc(total);
        h.x.dispatchPad(tier, h.block([h.putI8(x), outPtr, ...inD, ...before, ...outD, padValue]));
        expect(Array.from(h.readI8(outPtr, total))).toEqual(expected);
      }
    }
  });
});

// ---------------------------------------------------------------- host constants

describe("quant-params", () => {
  it("frexp splits into [0.5, 1) and an exponent", () => {
    expect(frexp(1)).toEqual({ fraction: 0.5, exponent: 1 });
    expect(frexp(0.75)).toEqual({ fraction: 0.75, exponent: 0 });
    expect(frexp(-3)).toEqual({ fraction: -0.75, exponent: 2 });
    expect(frexp(2 ** -1070)).toEqual({ fraction: 0.5, exponent: -1069 });
  });

  it("quantizeMultiplier on known values", () => {
    expect(quantizeMultiplier(0.5)).toEqual({ mult: 1073741824, shift: 0 });
    expect(quantizeMultiplier(0.25)).toEqual({ mult: 1073741824, shift: -1 });
    expect(quantizeMultiplier(1)).toEqual({ mult: 1073741824, shift: 1 });
    expect(quantizeMultiplier(0.75)).toEqual({ mult: 1610612736, shift: 0 });
    expect(quantizeMultiplier(0)).toEqual({ mult: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** -40)).toEqual({ mult: 0, shift: 0 }); // shift < -31 flushes
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ mult: 1073741824, shift: 1 }); // q rounds to 2^31
    expect(quantizeMultiplier(2 ** 40)).toEqual({ mult: 1073741824, shift: 41 });
    expect(quantizeMultiplier(2 ** 40, { singleRounding: true })).toEqual({ mult: 2147483647, shift: 30 });
    expect(quantizeMultiplier(0.1)).toEqual({ mult: 1717986918, shift: -3 });
  });

  it("quantizeMultiplier is within half a unit of the real value", () => {
    const next = rng(1);
    for (let i = 0; i < 2000; i++) {
      const real = Math.exp((next() - 0.5) * 40);
      const { mult, shift } = quantizeMultiplier(real);
      expect(mult).toBeGreaterThanOrEqual(2 ** 30);
      expect(mult).toBeLessThan(2 ** 31);
      expect(Math.abs(mult * 2 ** (shift - 31) - real)).toBeLessThanOrEqual(2 ** (shift - 32) * (1 + 1e-12));
    }
  });

  it("addParams follows CalculateOpDataAdd", () => {
    const p = addParams(0.5, 3, 0.5, -2, 0.5, 7, -128, 127);
    expect(p).toEqual({
      in1Offset: -3, in2Offset: 2, leftShift: 20,
      in1Mult: 1073741824, in1Shift: 0, in2Mult: 1073741824, in2Shift: 0,
      outMult: 1073741824, outShift: -18, outOffset: 7, actMin: -128, actMax: 127,
    });
    const q = addParams(0.1, 0, 0.05, 0, 0.2, 0);
    expect([q.in1Mult, q.in1Shift]).toEqual([1073741824, 0]);
    expect([q.in2Mult, q.in2Shift]).toEqual([1073741824, -1]);
    // real_out = 0.2 / (2^20 * 0.2) with float32 scales: exactly 2^-20
    expect([q.outMult, q.outShift]).toEqual([1073741824, -19]);
  });

  it("softmaxParams follows PreprocessSoftmaxScaling and CalculateInputRadius", () => {
    expect(softmaxParams(1, 1 / 256)).toEqual({ inputMult: 1073741824, inputLeftShift: 19, diffMin: -3968 });
    const s = softmaxParams(1, 0.3);
    expect(s.inputLeftShift).toBe(25);
    expect(s.diffMin).toBe(-62);
    expect(s.inputMult).toBe(quantizeMultiplier(Math.fround(0.3) * 2 ** 26).mult);
    expect(() => softmaxParams(1, 2 ** -30)).toThrow(EdgerunError);
  });

  it("activationRange follows CalculateActivationRangeQuantized", () => {
    expect(activationRange("none", 0.1, 5)).toEqual({ actMin: -128, actMax: 127 });
    expect(activationRange("relu", 0.1, -5)).toEqual({ actMin: -5, actMax: 127 });
    expect(activationRange("relu6", 6 / 255, -128)).toEqual({ actMin: -128, actMax: 127 });
    expect(activationRange("relu6", 0.1, -10)).toEqual({ actMin: -10, actMax: 50 });
    expect(activationRange("relu_n1_to_1", 1 / 64, 0)).toEqual({ actMin: -64, actMax: 64 });
    expect(activationRange("relu6", 0.01, 0)).toEqual({ actMin: 0, actMax: 127 });
  });

  it("requantizeParams and concatRequantParams", () => {
    expect(requantizeParams(0.5, 0.25)).toEqual({ mult: 1073741824, shift: 2 });
    const r = concatRequantParams(0.5, 3, 0.25);
    expect(r).toEqual({ scale: 2, bias: -6 });
  });

  it("rejects multipliers outside (0, 1) for ADD with a coded error", () => {
    try {
      addParams(0.1, 0, 0.1, 0, 1e-9, 0);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EdgerunError);
      expect((e as EdgerunError).code).toBe("QUANT_MULTIPLIER_RANGE");
    }
  });
});

// ---------------------------------------------------------------- TFLite Micro goldens

// Replays every ADD, AVERAGE_POOL_2D, MAX_POOL_2D and SOFTMAX of the MLPerf Tiny models on
// TFLM's own per-layer outputs (../shared/models/mlperf-tiny/<model>/golden/<case>/layers):
// inputs are the producing layers' goldens, constants come from quant-params.ts, and the
// result must equal the op's golden byte for byte, at both tiers, in both builds.
const modelsDir = join(repoRoot, "../shared/models/mlperf-tiny");
const goldenModels: Array<[string, string]> = [["kws", "kws_ref_model.tflite"], ["ic", "pretrainedResnet_quant.tflite"]];

describe.each(builds)("TFLite Micro goldens, %s build", (build) => {
  for (const [name, file] of goldenModels) {
    it.skipIf(!existsSync(join(modelsDir, name)))(`${name}: ADD, pools and SOFTMAX match TFLM layer by layer`, () => {
      const model = new TfliteView(new Uint8Array(readFileSync(join(modelsDir, name, file))));
      let replayed = 0;
      for (const c of readdirSync(join(modelsDir, name, "golden"))) {
        const dir = join(modelsDir, name, "golden", c);
        model.operators.forEach((op, k) => {
          for (const tier of [0, 1]) {
            const got = replayOp(H(build), model, k, dir, tier);
            if (got === null) continue;
            const want = new Int8Array(readFileSync(join(dir, "layers", `op${String(k).padStart(2, "0")}.bin`)));
            expect(got, `${name}/${c} op${k} (code ${op.code}) tier ${tier}`).toEqual(want);
            replayed++;
          }
        });
      }
      expect(replayed).toBeGreaterThanOrEqual(name === "ic" ? 40 : 16);
    });
  }
});
