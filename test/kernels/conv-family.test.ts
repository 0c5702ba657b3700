// Conv-family kernels (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED): every fast kernel is
// compared byte for byte with its reference kernel on tile-edge shapes, in both builds (SIMD
// and MVP), the reference itself against an independent JavaScript model, the scratch formula
// against host/format/scratch.ts, and the MVP build is checked to contain no SIMD instruction.

import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { FAMILY, buildHarness, loadHarness, setupCase } from "./harness/conv-harness.mjs";
import { convCase, convModel, fcCase, fcModel, rng } from "./harness/conv-cases.mjs";
import { convScratchBytes } from "../../host/format/scratch";

type Harness = Awaited<ReturnType<typeof loadHarness>>;
type Spec = Record<string, any>;

// ---- Named tile-edge shapes (SIMD tiles: conv 4 pixels x 8 channels over i16 pairs or Winograd, depthwise
// 8 channels x tap pairs, FC GEMM 8 channels x 8 inputs; MVP tiles: conv 3 pixels (i64 lanes) x 4
// channels where the scratch holds a filter row's packing, else 4x4 inside and 1x4 on the border,
// depthwise 1x4, fc 1x4; fused ADD: the split fast path, its spec fallback and the SIMD build's
// row pass with tails) ----

const base = { perChannel: true, bias: true, act: "none", padding: "same" };
const convNamed: Spec[] = [
  // K below / at / above the 8-input block and odd K pairs
  ...[1, 2, 3, 7, 8, 9, 16, 17].map((inC) => ({ ...base, name: `3x3 inC=${inC}`, inH: 6, inW: 7, inC, outC: 8, kH: 3, kW: 3 })),
  // output channels not a multiple of 8 / 4
  ...[1, 3, 4, 5, 7, 9, 12, 17].map((outC) => ({ ...base, name: `outC=${outC}`, inH: 5, inW: 9, inC: 4, outC, kH: 3, kW: 3 })),
  // outW below the 4-pixel tile, and tails of 1..3
  ...[1, 2, 3, 5, 6, 7].map((inW) => ({ ...base, name: `outW=${inW}`, inH: 4, inW, inC: 5, outC: 9, kH: 3, kW: 3 })),
  { ...base, name: "stride 2 SAME", inH: 9, inW: 11, inC: 6, outC: 10, kH: 3, kW: 3, stride: [2, 2] },
  { ...base, name: "stride 2 VALID", inH: 9, inW: 11, inC: 6, outC: 10, kH: 3, kW: 3, stride: [2, 2], padding: "valid" },
  { ...base, name: "stride 1x2", inH: 8, inW: 13, inC: 3, outC: 16, kH: 3, kW: 2, stride: [1, 2] },
  { ...base, name: "VALID 5x5", inH: 9, inW: 10, inC: 3, outC: 8, kH: 5, kW: 5, padding: "valid" },
  { ...base, name: "dilation 2", inH: 9, inW: 11, inC: 5, outC: 12, kH: 3, kW: 3, dil: [2, 2] },
  { ...base, name: "dilation 1x2 stride 2", inH: 9, inW: 12, inC: 3, outC: 7, kH: 3, kW: 3, dil: [1, 2], stride: [2, 2] },
  { ...base, name: "dilation 2x1 VALID", inH: 11, inW: 9, inC: 4, outC: 9, kH: 3, kW: 3, dil: [2, 1], padding: "valid" },
  { ...base, name: "kernel bigger than image", inH: 3, inW: 2, inC: 3, outC: 5, kH: 5, kW: 5 },
  { ...base, name: "1x1", inH: 5, inW: 5, inC: 19, outC: 13, kH: 1, kW: 1 },
  { ...base, name: "1x1 inC<8", inH: 3, inW: 7, inC: 5, outC: 9, kH: 1, kW: 1 },
  { ...base, name: "1x1 stride 2", inH: 8, inW: 8, inC: 16, outC: 32, kH: 1, kW: 1, stride: [2, 2] },
  { ...base, name: "1x1 over several 64-pixel chunks", inH: 9, inW: 15, inC: 7, outC: 10, kH: 1, kW: 1 },
  { ...base, name: "kws 1x1 25x5x64 fused ADD aliasing", inH: 25, inW: 5, inC: 64, outC: 64, kH: 1, kW: 1, fused: "alias", act: "relu" },
  { ...base, name: "1x3 row", inH: 1, inW: 10, inC: 9, outC: 8, kH: 1, kW: 3 },
  { ...base, name: "per-tensor", inH: 6, inW: 6, inC: 8, outC: 8, kH: 3, kW: 3, perChannel: false },
  { ...base, name: "no bias", inH: 6, inW: 6, inC: 8, outC: 8, kH: 3, kW: 3, bias: false },
  { ...base, name: "RELU", inH: 6, inW: 6, inC: 8, outC: 8, kH: 3, kW: 3, act: "relu" },
  { ...base, name: "RELU6", inH: 6, inW: 6, inC: 8, outC: 8, kH: 3, kW: 3, act: "relu6" },
  { ...base, name: "fused ADD", inH: 6, inW: 7, inC: 8, outC: 11, kH: 3, kW: 3, fused: "separate" },
  { ...base, name: "fused ADD aliasing output", inH: 6, inW: 7, inC: 8, outC: 11, kH: 3, kW: 3, fused: "alias" },
  { ...base, name: "fused ADD aliasing, 1x1", inH: 4, inW: 5, inC: 8, outC: 13, kH: 1, kW: 1, fused: "alias" },
  { ...base, name: "extreme", inH: 6, inW: 7, inC: 16, outC: 16, kH: 3, kW: 3, extreme: true },
  // The fast fused ADD (split srdhm, vector pass over a row) at its parameter corners and row tails.
  ...[1, 2, 3, 4, 5, 6].map((seed) => ({ ...base, name: `fused ADD extreme ${seed}`, inH: 5, inW: 7, inC: 8, outC: 11, kH: 3, kW: 3,
    fused: seed % 2 ? "alias" : "separate", extreme: true })),
  { ...base, name: "fused ADD extreme 1x1 over 64-pixel chunks", inH: 9, inW: 15, inC: 7, outC: 10, kH: 1, kW: 1, fused: "alias", extreme: true },
  { ...base, name: "fused ADD 1x1 stride 2", inH: 8, inW: 8, inC: 16, outC: 32, kH: 1, kW: 1, stride: [2, 2], fused: "alias" },
  { ...base, name: "extreme 1x1 per-tensor", inH: 4, inW: 4, inC: 33, outC: 9, kH: 1, kW: 1, extreme: true, perChannel: false },
  // SIMD requantization layouts: one shift count per 4 channels (largest exponent E <= 21, no
  // left shifts) or the per-lane general layout; ranges straddle both limits, extreme accumulators.
  ...[[-21, -14], [-22, -18], [-1, 0], [0, 0], [-3, 2], [-25, -1]].map((shiftRange) => ({ ...base,
    name: `requant shifts ${shiftRange}`, inH: 5, inW: 6, inC: 16, outC: 16, kH: 3, kW: 3, shiftRange, extreme: true })),
  // Winograd F(2x2, 3x3) (3x3 stride 1, inC % 8 == 0; SIMD build): 4 tiles of 2x2 pixels x 8
  // channels: odd/even sizes, 1-2 pixel images, outC tails, VALID, aliasing, wide rows.
  ...[8, 16, 24, 32, 40].map((inC) => ({ ...base, name: `winograd inC=${inC}`, inH: 6, inW: 7, inC, outC: 8, kH: 3, kW: 3 })),
  ...[[1, 1], [1, 2], [2, 1], [2, 2], [3, 3], [2, 5], [4, 8], [5, 9], [3, 16], [7, 17]].map(([inH, inW]) => ({ ...base,
    name: `winograd ${inH}x${inW}`, inH, inW, inC: 8, outC: 9, kH: 3, kW: 3 })),
  ...[1, 3, 4, 5, 7, 9, 12, 17].map((outC) => ({ ...base, name: `winograd outC=${outC}`, inH: 5, inW: 6, inC: 16, outC, kH: 3, kW: 3 })),
  { ...base, name: "winograd VALID", inH: 7, inW: 10, inC: 8, outC: 12, kH: 3, kW: 3, padding: "valid" },
  { ...base, name: "winograd fused ADD aliasing", inH: 5, inW: 7, inC: 16, outC: 11, kH: 3, kW: 3, fused: "alias" },
  { ...base, name: "winograd fused ADD separate", inH: 6, inW: 9, inC: 8, outC: 16, kH: 3, kW: 3, fused: "separate" },
  { ...base, name: "winograd extreme", inH: 5, inW: 7, inC: 16, outC: 9, kH: 3, kW: 3, extreme: true },
  { ...base, name: "winograd inC=1024 extreme", inH: 2, inW: 3, inC: 1024, outC: 3, kH: 3, kW: 3, extreme: true },
  { ...base, name: "winograd inC=1032 (direct)", inH: 2, inW: 2, inC: 1032, outC: 2, kH: 3, kW: 3, extreme: true },
  ...[[1, 30], [2, 31], [3, 32], [5, 33]].map(([inH, inW]) => ({ ...base, name: `winograd wide ${inH}x${inW}`, inH, inW,
    inC: 8, outC: 13, kH: 3, kW: 3 })),
  { ...base, name: "winograd wide inC=16 outC=6", inH: 4, inW: 32, inC: 16, outC: 6, kH: 3, kW: 3, act: "relu" },
  { ...base, name: "winograd wide VALID", inH: 5, inW: 35, inC: 8, outC: 8, kH: 3, kW: 3, padding: "valid" },
  { ...base, name: "winograd wide fused ADD aliasing", inH: 3, inW: 31, inC: 16, outC: 16, kH: 3, kW: 3, fused: "alias" },
  { ...base, name: "winograd wide extreme", inH: 3, inW: 33, inC: 8, outC: 7, kH: 3, kW: 3, extreme: true },
  { ...base, name: "winograd wide inC=1024 extreme", inH: 1, inW: 30, inC: 1024, outC: 2, kH: 3, kW: 3, extreme: true },
  { ...base, name: "winograd wide fused ADD extreme", inH: 2, inW: 30, inC: 8, outC: 9, kH: 3, kW: 3, fused: "alias", extreme: true },
  // MVP i64 lanes (qs8_conv2d_3x4_i64__mvp): pixel count % 3 = 0, 1, 2 with the whole K packed,
  // outC tails (single channels), filter rows packed in several passes (scratch under K * 8
  // bytes: 1 and 2 rows), and every product at 128 * 128 to hold the 21-bit lanes at their bound.
  ...[[3, 15], [5, 14], [4, 14]].map(([inH, inW]) => ({ ...base, name: `i64 lanes ${inH}x${inW}`, inH, inW, inC: 5, outC: 8, kH: 3, kW: 3 })),
  ...[1, 2, 3, 5, 6, 7].map((outC) => ({ ...base, name: `i64 lanes outC=${outC}`, inH: 4, inW: 16, inC: 5, outC, kH: 3, kW: 3 })),
  { ...base, name: "i64 lanes 1 row per pass, fused ADD aliasing", inH: 6, inW: 6, inC: 32, outC: 14, kH: 3, kW: 3, fused: "alias" },
  { ...base, name: "i64 lanes 2 rows per pass, stride 2", inH: 9, inW: 11, inC: 6, outC: 10, kH: 3, kW: 3, stride: [2, 2], act: "relu" },
  { ...base, name: "i64 lanes at their bound", inH: 5, inW: 16, inC: 64, outC: 5, kH: 3, kW: 3, fill: -128, bias: false, shiftRange: [-19, -17] },
  // The unpadded 1x1 twin (qs8_conv2d_1x1_3x4_i64__mvp, packing as it goes): K over several
  // 56-product chunks at the lanes' bound, stride 2 with pixel tails, fused ADD aliasing.
  { ...base, name: "i64 1x1 lanes at their bound", inH: 5, inW: 16, inC: 130, outC: 7, kH: 1, kW: 1, fill: -128, bias: false, shiftRange: [-20, -18] },
  { ...base, name: "i64 1x1 stride 2 fused ADD aliasing", inH: 7, inW: 9, inC: 60, outC: 6, kH: 1, kW: 1, stride: [2, 2], fused: "alias", act: "relu" },
  { ...base, name: "resnet 3x3 8x8x64 (1 row per pass)", inH: 8, inW: 8, inC: 64, outC: 64, kH: 3, kW: 3, act: "relu" },
  { ...base, name: "resnet 3x3 32x32x16 fused ADD aliasing", inH: 32, inW: 32, inC: 16, outC: 16, kH: 3, kW: 3, fused: "alias", act: "relu" },
  { ...base, name: "kws conv1 10x4 s2", inH: 49, inW: 10, inC: 1, outC: 64, kH: 10, kW: 4, stride: [2, 2] },
  { ...base, name: "resnet 3x3 s2", inH: 16, inW: 16, inC: 16, outC: 32, kH: 3, kW: 3, stride: [2, 2], act: "relu" },
];
const dwBase = { ...base, depthMultiplier: 1 };
const dwNamed: Spec[] = [
  ...[1, 3, 7, 8, 9, 15, 16, 17, 24].map((inC) => ({ ...dwBase, name: `C=${inC}`, inH: 5, inW: 6, inC, kH: 3, kW: 3 })),
  { ...dwBase, name: "multiplier 2", inH: 5, inW: 6, inC: 5, depthMultiplier: 2, kH: 3, kW: 3 },
  { ...dwBase, name: "multiplier 3 stride 2", inH: 7, inW: 6, inC: 3, depthMultiplier: 3, kH: 3, kW: 3, stride: [2, 2] },
  { ...dwBase, name: "stride 2 VALID", inH: 9, inW: 11, inC: 12, kH: 3, kW: 3, stride: [2, 2], padding: "valid" },
  { ...dwBase, name: "5x5 (odd tap count)", inH: 7, inW: 8, inC: 10, kH: 5, kW: 5 },
  { ...dwBase, name: "2x2 (even tap count)", inH: 7, inW: 8, inC: 10, kH: 2, kW: 2 },
  { ...dwBase, name: "1x1", inH: 3, inW: 3, inC: 9, kH: 1, kW: 1 },
  { ...dwBase, name: "dilation 2", inH: 9, inW: 9, inC: 16, kH: 3, kW: 3, dil: [2, 2] },
  { ...dwBase, name: "outW 1", inH: 4, inW: 1, inC: 8, kH: 3, kW: 3 },
  { ...dwBase, name: "per-tensor no bias RELU6", inH: 5, inW: 5, inC: 11, kH: 3, kW: 3, perChannel: false, bias: false, act: "relu6" },
  { ...dwBase, name: "fused ADD aliasing output", inH: 5, inW: 6, inC: 13, kH: 3, kW: 3, fused: "alias" },
  { ...dwBase, name: "fused ADD aliasing, C<8", inH: 5, inW: 6, inC: 5, kH: 3, kW: 3, fused: "alias" },
  { ...dwBase, name: "fused ADD separate, multiplier 2", inH: 5, inW: 4, inC: 6, depthMultiplier: 2, kH: 3, kW: 3, fused: "separate" },
  { ...dwBase, name: "extreme", inH: 5, inW: 6, inC: 17, kH: 3, kW: 3, extreme: true },
  ...[[-21, -14], [-22, -18], [-21, 0], [-1, 0], [-3, 2]].map((shiftRange) => ({ ...dwBase,
    name: `requant shifts ${shiftRange}`, inH: 5, inW: 6, inC: 17, kH: 3, kW: 3, shiftRange, extreme: true })),
  { ...dwBase, name: "fused ADD extreme", inH: 5, inW: 6, inC: 13, kH: 3, kW: 3, fused: "alias", extreme: true },
  { ...dwBase, name: "kws dw 3x3 25x5x64", inH: 25, inW: 5, inC: 64, kH: 3, kW: 3, act: "relu" },
];
const fcBase = { perChannel: true, bias: true, act: "none", batches: 1 };
const fcNamed: Spec[] = [
  ...[1, 2, 7, 8, 9, 15, 16, 17, 64].map((depth) => ({ ...fcBase, name: `depth=${depth}`, depth, outC: 8 })),
  ...[1, 3, 4, 5, 7, 9, 12, 17].map((outC) => ({ ...fcBase, name: `outC=${outC}`, depth: 20, outC })),
  { ...fcBase, name: "batches 3", batches: 3, depth: 13, outC: 10 },
  { ...fcBase, name: "per-tensor no bias RELU", depth: 40, outC: 12, perChannel: false, bias: false, act: "relu" },
  { ...fcBase, name: "extreme", depth: 33, outC: 11, extreme: true },
  ...[[-21, -14], [-22, -18], [-21, 0], [-1, 0], [-3, 2]].map((shiftRange) => ({ ...fcBase,
    name: `requant shifts ${shiftRange}`, depth: 40, outC: 13, shiftRange, extreme: true })),
  { ...fcBase, name: "kws fc 64->12", depth: 64, outC: 12 },
  { ...fcBase, name: "ad fc 640->128", depth: 640, outC: 128, act: "relu" },
];

// ---- Random tile-edge shapes ----

function randomConvSpec(r: ReturnType<typeof rng>, depthwise: boolean): Spec {
  const k = r.pick([[1, 1], [3, 3], [3, 3], [2, 2], [5, 5], [1, 3], [3, 1], [4, 2]]);
  return {
    name: "random",
    inH: r.int(1, 9), inW: r.int(1, 11), inC: r.pick([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 33]),
    outC: r.pick([1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24]), depthMultiplier: r.pick([1, 1, 1, 2, 3]),
    kH: k[0], kW: k[1], stride: [r.pick([1, 1, 2, 3]), r.pick([1, 1, 2, 3])], dil: r.next() < 0.2 ? [r.pick([1, 2]), r.pick([1, 2, 3])] : [1, 1],
    padding: r.pick(["same", "same", "valid"]), perChannel: r.next() < 0.8, bias: r.next() < 0.8,
    act: r.pick(["none", "relu", "relu6"]), fused: depthwise || r.next() < 0.5 ? r.pick([null, null, "separate", "alias"]) : null,
    extreme: r.next() < 0.15,
  };
}
function randomFcSpec(r: ReturnType<typeof rng>): Spec {
  return {
    name: "random", batches: r.pick([1, 1, 2, 3]), depth: r.pick([1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100]),
    outC: r.pick([1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17]), perChannel: r.next() < 0.8, bias: r.next() < 0.8,
    act: r.pick(["none", "relu", "relu6"]), extreme: r.next() < 0.15,
  };
}
function validConv(spec: Spec): boolean {
  const effH = (spec.kH - 1) * (spec.dil?.[0] ?? 1) + 1, effW = (spec.kW - 1) * (spec.dil?.[1] ?? 1) + 1;
  return spec.padding === "same" || (spec.inH >= effH && spec.inW >= effW);
}

const RANDOM_CASES = 300;
const familyNames = { [FAMILY.conv2d]: "conv2d", [FAMILY.depthwise]: "depthwise", [FAMILY.fc]: "fc" } as Record<number, string>;

function casesFor(family: number, seed: number): Spec[] {
  const r = rng(seed);
  const named = family === FAMILY.conv2d ? convNamed : family === FAMILY.depthwise ? dwNamed : fcNamed;
  const specs: Spec[] = [...named];
  while (specs.length < named.length + RANDOM_CASES) {
    const s = family === FAMILY.fc ? randomFcSpec(r) : randomConvSpec(r, family === FAMILY.depthwise);
    if (family === FAMILY.fc || validConv(s)) specs.push(s);
  }
  return specs.map((s, i) => ({ ...s, seed: seed * 1000 + i }));
}

function makeCase(family: number, spec: Spec) {
  const r = rng(spec.seed);
  return family === FAMILY.fc ? fcCase(r, spec) : convCase(r, spec, family === FAMILY.depthwise);
}

function describeSpec(s: Spec): string {
  return JSON.stringify(Object.fromEntries(Object.entries(s).filter(([k]) => k !== "seed")));
}

/** Runs every case of a family in one build; returns the number of cases and the variants used. */
function compareFamily(h: Harness, family: number): { cases: number; used: Set<string> } {
  const specs = casesFor(family, 17 + family);
  const names = h.variants[familyNames[family]].map((v: { name: string }) => v.name);
  const used = new Set<string>();
  for (const spec of specs) {
    const c = makeCase(family, spec);
    const k = setupCase(h, family, c);
    const ref = k.run(0);
    const fast = k.run(1);
    used.add(names[k.selected(1)]);
    if (!Buffer.from(fast).equals(Buffer.from(ref))) {
      const at = fast.findIndex((v: number, i: number) => v !== ref[i]);
      throw new Error(`${names[k.selected(1)]} differs from ref at byte ${at} (${(fast[at] << 24) >> 24} vs ${(ref[at] << 24) >> 24}) on ${describeSpec(spec)}`);
    }
    expect(k.guardsIntact(), `guard bytes overwritten on ${describeSpec(spec)}`).toBe(true);
    if (family !== FAMILY.fc) {
      const formula = convScratchBytes(c);
      expect(family === FAMILY.conv2d ? formula : 0).toBe(k.scratchBytes);
    }
  }
  return { cases: specs.length, used };
}

const builds: Record<string, Harness> = {};
const paths: Record<string, string> = {};

beforeAll(async () => {
  for (const simd of [true, false]) {
    const key = simd ? "simd" : "mvp";
    paths[key] = await buildHarness(simd);
    builds[key] = await loadHarness(paths[key]);
  }
}, 180_000);

describe.each(["simd", "mvp"])("%s build", (key) => {
  it("reports the build it was compiled for", () => {
    expect(builds[key].simd).toBe(key === "simd");
  });

  it.each([["conv2d", FAMILY.conv2d], ["depthwise", FAMILY.depthwise], ["fc", FAMILY.fc]])(
    "%s: fast kernels equal the reference byte for byte on tile-edge shapes",
    (name, family) => {
      const h = builds[key];
      const { cases, used } = compareFamily(h, family);
      const expected = h.variants[name as string].filter((v: { tier: number; build: string }) =>
        v.tier === 1 && (v.build === key || v.build === "any")).map((v: { name: string }) => v.name);
      for (const v of expected) expect(used, `variant ${v} never selected`).toContain(v);
      console.log(`[${key}] ${name}: ${cases} shapes bit-exact, variants ${[...used].join(", ")}`);
    },
    120_000,
  );

  it("reference kernels match an independent JavaScript model of the TFLite semantics", () => {
    const h = builds[key];
    for (const family of [FAMILY.conv2d, FAMILY.depthwise, FAMILY.fc]) {
      const all = casesFor(family, 99 + family);
      const specs = [...all.slice(0, family === FAMILY.fc ? 40 : 25), ...all.filter((sp) => /fused ADD extreme/.test(sp.name))];
      for (const spec of specs) {
        const c = makeCase(family, spec);
        const k = setupCase(h, family, c);
        const want = family === FAMILY.fc ? fcModel(c) : convModel(c, family === FAMILY.depthwise);
        expect(Buffer.from(k.run(0)).equals(Buffer.from(want)), describeSpec(spec)).toBe(true);
      }
    }
  }, 120_000);
});

describe("MLPerf Tiny scratch budget", () => {
  it("needs at most 4 KiB for the kws and ResNet-8 convolutions, 0 for 1x1", () => {
    const conv = (inW: number, inC: number, k: number, s: number, outW: number, pad: number) =>
      convScratchBytes({ inC, kH: k, kW: k === 10 ? 4 : k, outW, strideW: s, dilW: 1, padTop: pad, padLeft: pad });
    const shapes = [conv(10, 1, 10, 2, 5, 1), conv(32, 3, 3, 1, 32, 1), conv(32, 16, 3, 1, 32, 1), conv(32, 16, 3, 2, 16, 0),
      conv(16, 32, 3, 1, 16, 1), conv(16, 32, 3, 2, 8, 0), conv(8, 64, 3, 1, 8, 1)];
    for (const b of shapes) expect(b).toBeLessThanOrEqual(4096);
    expect(conv(5, 64, 1, 1, 5, 0)).toBe(0);
    expect(conv(32, 16, 1, 2, 16, 0)).toBe(0);
  });
});

describe("MVP build", () => {
  it("contains no SIMD instruction (wasm-validate --disable-simd)", (ctx) => {
    const validator = ["/usr/bin/wasm-validate", "/usr/local/bin/wasm-validate"].find((p) => existsSync(p));
    if (!validator) {
      if (process.env.CI === "true") throw new Error("wasm-validate (Debian package wabt) is required in CI");
      console.warn("SKIPPED: wasm-validate not found; install Debian's wabt to check the MVP build for SIMD");
      ctx.skip();
      return;
    }
    execFileSync(validator, ["--disable-simd", paths.mvp]); // throws on any SIMD opcode
    // The same check must reject the SIMD build, or it proves nothing.
    expect(() => execFileSync(validator, ["--disable-simd", paths.simd], { stdio: "pipe" })).toThrow();
  });
});
