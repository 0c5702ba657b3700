// Micro benchmark of the conv-family kernels (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) on
// the MLPerf Tiny layer shapes and a 3x3 32x32x32 -> 32 reference conv, in the SIMD and the MVP
// build (both run in V8 here). Prints the median time per call and GMAC/s for each variant the
// build selects. Peer: FACTS.md's ceiling for i32x4.dot_i16x8_s on this core (~59-67 GMAC/s)
// and the ~55 GMAC/s a quick register-tiled AssemblyScript 3x3 conv reached. GMAC/s counts
// direct-convolution MACs, so the Winograd variants (3x3 stride 1) can exceed that ceiling.
//
// The machine is shared: --min reports the fastest sample instead of the median (for A/B runs
// while neighbours load the host).
//
//   node bench/kernels-conv.mjs [--quick] [--ref] [--simd-only] [--min] [--only <layer name part>]

import { FAMILY, buildHarness, loadHarness, setupCase } from "../test/kernels/harness/conv-harness.mjs";
import { convCase, fcCase, rng } from "../test/kernels/harness/conv-cases.mjs";

const quick = process.argv.includes("--quick");
const withRef = process.argv.includes("--ref");
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : "";
const mvpToo = !process.argv.includes("--simd-only");
const useMin = process.argv.includes("--min");
const SAMPLES = quick ? 9 : 31;
const SAMPLE_MS = quick ? 2 : 5;

const same = { perChannel: true, bias: true, act: "relu", padding: "same" };
const layers = [
  { name: "conv 3x3 32x32x32->32 s1", family: FAMILY.conv2d, spec: { ...same, inH: 32, inW: 32, inC: 32, outC: 32, kH: 3, kW: 3 } },
  { name: "kws conv 10x4 s2 49x10x1->64", family: FAMILY.conv2d, spec: { ...same, inH: 49, inW: 10, inC: 1, outC: 64, kH: 10, kW: 4, stride: [2, 2] } },
  { name: "kws conv 1x1 25x5x64->64", family: FAMILY.conv2d, spec: { ...same, inH: 25, inW: 5, inC: 64, outC: 64, kH: 1, kW: 1 } },
  { name: "ic conv 3x3 32x32x3->16", family: FAMILY.conv2d, spec: { ...same, inH: 32, inW: 32, inC: 3, outC: 16, kH: 3, kW: 3 } },
  { name: "ic conv 3x3 32x32x16->16", family: FAMILY.conv2d, spec: { ...same, inH: 32, inW: 32, inC: 16, outC: 16, kH: 3, kW: 3 } },
  { name: "ic conv 3x3 s2 32x32x16->32", family: FAMILY.conv2d, spec: { ...same, inH: 32, inW: 32, inC: 16, outC: 32, kH: 3, kW: 3, stride: [2, 2] } },
  { name: "ic conv 3x3 16x16x32->32", family: FAMILY.conv2d, spec: { ...same, inH: 16, inW: 16, inC: 32, outC: 32, kH: 3, kW: 3 } },
  { name: "ic conv 3x3 32x32x16->16 +add", family: FAMILY.conv2d, spec: { ...same, inH: 32, inW: 32, inC: 16, outC: 16, kH: 3, kW: 3, fused: "alias" } },
  { name: "ic conv 1x1 s2 32x32x16->32 +add", family: FAMILY.conv2d, spec: { ...same, inH: 32, inW: 32, inC: 16, outC: 32, kH: 1, kW: 1, stride: [2, 2], fused: "alias" } },
  { name: "ic conv 3x3 16x16x32->32 +add", family: FAMILY.conv2d, spec: { ...same, inH: 16, inW: 16, inC: 32, outC: 32, kH: 3, kW: 3, fused: "alias" } },
  { name: "ic conv 3x3 8x8x64->64", family: FAMILY.conv2d, spec: { ...same, inH: 8, inW: 8, inC: 64, outC: 64, kH: 3, kW: 3 } },
  { name: "ic conv 1x1 s2 32x32x16->32", family: FAMILY.conv2d, spec: { ...same, inH: 32, inW: 32, inC: 16, outC: 32, kH: 1, kW: 1, stride: [2, 2] } },
  { name: "kws dw 3x3 25x5x64", family: FAMILY.depthwise, spec: { ...same, inH: 25, inW: 5, inC: 64, kH: 3, kW: 3 } },
  { name: "dw 3x3 s2 32x32x32", family: FAMILY.depthwise, spec: { ...same, inH: 32, inW: 32, inC: 32, kH: 3, kW: 3, stride: [2, 2] } },
  { name: "fc 64->12", family: FAMILY.fc, spec: { ...same, batches: 1, depth: 64, outC: 12 } },
  { name: "fc 640->128", family: FAMILY.fc, spec: { ...same, batches: 1, depth: 640, outC: 128 } },
  { name: "fc 128->128", family: FAMILY.fc, spec: { ...same, batches: 1, depth: 128, outC: 128 } },
  { name: "fc 1024->1024", family: FAMILY.fc, spec: { ...same, batches: 1, depth: 1024, outC: 1024 } },
];

function macs(family, c) {
  if (family === FAMILY.fc) return c.batches * c.depth * c.outC;
  const perOut = family === FAMILY.depthwise ? c.kH * c.kW : c.kH * c.kW * c.inC;
  return c.outH * c.outW * c.outC * perOut; // includes padded taps the kernels skip
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median microseconds per call of run(tier). */
function time(h, family, args, tier) {
  const x = h.x;
  let iters = 1;
  for (;;) { // calibrate so one sample lasts SAMPLE_MS
    const t0 = performance.now();
    x.runRepeated(family, args, tier, iters);
    const dt = performance.now() - t0;
    if (dt >= SAMPLE_MS || iters >= 1 << 20) break;
    iters *= dt < SAMPLE_MS / 8 ? 8 : 2;
  }
  x.runRepeated(family, args, tier, iters); // warm-up (tier-up to TurboFan)
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    x.runRepeated(family, args, tier, iters);
    samples.push(((performance.now() - t0) * 1000) / iters);
  }
  return useMin ? Math.min(...samples) : median(samples);
}

const familyKey = { [FAMILY.conv2d]: "conv2d", [FAMILY.depthwise]: "depthwise", [FAMILY.fc]: "fc" };
const results = {};
for (const simd of mvpToo ? [true, false] : [true]) {
  const build = simd ? "simd" : "mvp";
  const h = await loadHarness(await buildHarness(simd));
  console.log(`\n${build} build (${h.bytes.length} bytes), ${useMin ? "fastest" : "median"} of ${SAMPLES} samples, single thread`);
  console.log("layer".padEnd(32) + "variant".padEnd(28) + "MMAC".padStart(8) + "us/call".padStart(11) + "GMAC/s".padStart(9));
  for (const layer of layers.filter((l) => l.name.includes(only))) {
    const r = rng(7);
    const c = layer.family === FAMILY.fc ? fcCase(r, layer.spec) : convCase(r, layer.spec, layer.family === FAMILY.depthwise);
    const k = setupCase(h, layer.family, c);
    const m = macs(layer.family, c);
    for (const tier of withRef ? [0, 1] : [1]) {
      const us = time(h, layer.family, k.args, tier);
      const variant = h.variants[familyKey[layer.family]][k.selected(tier)].name;
      results[`${build}/${layer.name}/${tier}`] = us;
      console.log(layer.name.padEnd(32) + variant.padEnd(28) + (m / 1e6).toFixed(3).padStart(8) +
        us.toFixed(2).padStart(11) + (m / us / 1e3).toFixed(2).padStart(9));
    }
  }
}
console.log("\nMVP / SIMD time ratio (fast tiers):");
for (const layer of layers.filter((l) => mvpToo && l.name.includes(only))) {
  const ratio = results[`mvp/${layer.name}/1`] / results[`simd/${layer.name}/1`];
  console.log("  " + layer.name.padEnd(32) + ratio.toFixed(1) + "x");
}
