// Sparse kernels beside our dense int8 kernel on the same layer, SIMD build (issue 3, item 7):
// FULLY_CONNECTED 1024x1024 and 1x1 CONV_2D 64->64 on 25x5, at 50 / 70 / 90% sparsity. Both
// encodings of each layer are full one-op .erm models run through host/runtime; samples of dense
// and sparse alternate (interleaved), medians. Two pruning patterns: 4x8 blocks and unstructured
// (scattered weights). The conv runs qs8_spmm_8x4__simd (pixels in lanes) in the SIMD build; the
// batch-1 FC runs qs8_spmm_4x8__simd on 4x8 chunks, or the scalar kernel on scattered weights.
// "compiled" is what compileGraph({ sparse: "auto" }) makes of the layer in this build: the
// sparse kernel where it measured faster, else the dense kernel on weights expanded at load
// (the file stays sparse either way).
// Goals: sparse at least 1.3x / 2x / 4x faster than dense at 50 / 70 / 90%.
// Run alone: node dist/firmware-tools/bench/sparse.js

import { compileGraph } from "../lib/compile/compile.js";
import { timePair } from "../lib/compile/sparse-select.js";
import { writeErm } from "../../host/format/erm-writer.js";
import { sparseLayerGraph, SparseLayerSpec } from "../lib/bench/sparse-layer.js";
import type { Graph } from "../lib/compile/graph.js";
import { applyMask, magnitudeMask } from "../lib/prune/mask.js";
import type { BuildName } from "../../host/runtime/runtime.js";

const LAYERS: { name: string; spec: SparseLayerSpec }[] = [
  { name: "FULLY_CONNECTED 1024x1024", spec: { kind: "fc", K: 1024, N: 1024 } },
  { name: "CONV_2D 1x1 64->64 on 25x5", spec: { kind: "conv1x1", K: 64, N: 64, h: 25, w: 5 } },
];
const SPARSITIES = [0.5, 0.7, 0.9];
const GOALS: Record<number, number> = { 0.5: 1.3, 0.7: 2, 0.9: 4 };
const PATTERNS: { name: string; block?: [number, number] }[] = [{ name: "4x8 blocks", block: [4, 8] }, { name: "unstructured" }];

function models(spec: SparseLayerSpec, s: number, block?: [number, number]) {
  const dense = sparseLayerGraph({ ...spec, seed: 11 });
  applyMask(dense.weights, magnitudeMask(dense.weights, s, { rows: spec.N, cols: spec.K, block }));
  const sparse = sparseLayerGraph({ ...spec, seed: 11 });
  sparse.weights.set(dense.weights);
  const auto = sparseLayerGraph({ ...spec, seed: 11 });
  auto.weights.set(dense.weights);
  return { dense: compileGraph(dense.g).model, sparse: compileGraph(sparse.g, { sparse: "always" }).model, bytes: smallestBytes(auto.g) };
}

/** File bytes of the layer as compileGraph({ sparse: "auto" }) stores it (run bits do not change the size). */
function smallestBytes(g: Graph): number {
  return writeErm(compileGraph(g, { sparse: "auto", sparseSelect: { measure: () => 1 } }).model).length;
}

export async function benchSparse(say: (line: string) => void, builds: BuildName[] = ["simd"]): Promise<void> {
  const samples = Number(process.env.EDGERUN_BENCH_ROUNDS ?? 15);
  for (const build of builds) {
    say("");
    say(`Sparse vs dense int8, ${build} build (µs per layer: medians of ${samples} interleaved samples; speed-up: median of the back-to-back dense / sparse ratios; file = the one-op .erm)`);
    say("");
    say("| layer | pruning | sparsity | dense µs | sparse µs | speed-up | goal | compiled runs | dense file | sparse file |");
    say("|---|---|---|---|---|---|---|---|---|---|");
    for (const layer of LAYERS) {
      for (const p of PATTERNS) {
        for (const s of SPARSITIES) {
          const m = models(layer.spec, s, p.block);
          let d: number, sp: number, ratio: number;
          try {
            const t = timePair(m.dense, m.sparse, build, samples);
            [d, sp, ratio] = [t.denseUs, t.sparseUs, 1 / t.ratio];
          } catch (e) {
            say(`| ${layer.name} | ${p.name} | ${Math.round(s * 100)}% | does not fit the ${build} build's memory | | | | | | |`);
            continue;
          }
          const goal = `${GOALS[s]}x ${ratio >= GOALS[s] ? "met" : "missed"}`;
          // The cost model's rule (sparse-select.ts, maxRatio 0.97) on these medians.
          const denseBytes = writeErm(m.dense).length;
          const runs = m.bytes >= denseBytes ? "dense (stored dense), 1x" : 1 / ratio <= 0.97 ? `sparse, ${ratio.toFixed(2)}x` : "dense (expanded), 1x";
          say(`| ${layer.name} | ${p.name} | ${Math.round(s * 100)}% | ${d.toFixed(1)} | ${sp.toFixed(1)} | ${ratio.toFixed(2)}x | ${goal} | ${runs} | ${denseBytes} | ${m.bytes} |`);
        }
      }
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const builds = (process.argv[2] ?? "simd").split(",") as BuildName[];
  await benchSparse((l) => console.log(l), builds);
}
