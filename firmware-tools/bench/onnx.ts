// Compressed ONNX models in edgerun beside onnxruntime (issue 3, item 7): the digits MLP and CNN
// and the MLPerf-shaped DS-CNN and ResNet-8 (examples/mlperf-shaped), each compressed to an int8
// .erm with compressOnnx (and for digits also 70% pruned), run in edgerun's SIMD and MVP builds,
// against onnxruntime-web (WebAssembly, 1 thread) and onnxruntime-node (native, 1 thread) on the
// float model and on a uint8 QDQ model carrying edgerun's own quantization (qdq-export.ts).
// Batch 1, one sample; rounds interleaved so machine noise hits all runners alike; medians.
// Also reports which kernels ORT ran for the QDQ model (profiled run) and how far ORT's uint8
// outputs are from edgerun's int8 ones.
// Run alone: node dist/firmware-tools/bench/onnx.js [--write]  (--write puts the section into
// docs/benchmarks.md, replacing an earlier copy of it).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Opcode } from "../../host/format/opcodes.js";
import { SPARSE_RUN_BITS } from "../../host/format/sparse-weights.js";
import type { ErmModel } from "../../host/format/erm-types.js";
import { packageRoot } from "../../host/runtime/paths.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import { compressOnnx } from "../lib/compress/compress.js";
import { loadLabelled } from "../lib/compress/evaluate.js";
import { opMacs } from "../lib/compile/graph.js";
import { importOnnx } from "../lib/import/onnx/import.js";
import { numel } from "../lib/import/onnx/float-graph.js";
import { loadCalibration } from "../lib/quantize/data.js";
import { applyPreprocessing } from "../lib/quantize/preprocess.js";
import { quantizeOnnx } from "../lib/quantize/quantize.js";
import { exportQdq } from "../lib/quantize/qdq-export.js";
import { decodeOutputInts, encodeInput } from "../lib/quantize/sqnr.js";
import { Runner as BenchRunner, median, timeInterleaved } from "../lib/model/bench.js";
import { describeKernels, executedKernels, loadOrt, OrtBackend, OrtModel, qdqFused } from "../lib/bench/ort-session.js";

const ROUNDS = Number(process.env.EDGERUN_BENCH_ROUNDS ?? 15);
const PER_ROUND = Number(process.env.EDGERUN_BENCH_RUNS ?? 40);
const WARMUP = 30;
const HEADING = "## Compressed ONNX models: edgerun vs onnxruntime-web (WASM) and onnxruntime-node";

interface ModelSpec {
  name: string;
  onnx: string;
  calib: string;
  /** Preprocessing scale (raw data -> model input), as the example's README states. */
  scale: number;
  /** The one raw input timed (before preprocessing). */
  sample: () => Float32Array;
  prune: boolean;
}

const ex = (...p: string[]) => join(packageRoot(), "examples", ...p);
const digitsSample = () => loadLabelled(ex("digits", "eval.csv"), 64).x[0];
const calibSample = (path: string, elements: number) => () => loadCalibration(path, { elements, limit: 1 })[0];

const MODELS: ModelSpec[] = [
  { name: "digits-mlp", onnx: ex("digits", "digits-mlp.onnx"), calib: ex("digits", "calib.csv"), scale: 0.0625, sample: digitsSample, prune: true },
  { name: "digits-cnn", onnx: ex("digits", "digits-cnn.onnx"), calib: ex("digits", "calib.csv"), scale: 0.0625, sample: digitsSample, prune: true },
  { name: "ds-cnn (KWS)", onnx: ex("mlperf-shaped", "ds-cnn.onnx"), calib: ex("mlperf-shaped", "kws-calib.npy"), scale: 0.0625, sample: calibSample(ex("mlperf-shaped", "kws-calib.npy"), 490), prune: false },
  { name: "resnet8 (IC)", onnx: ex("mlperf-shaped", "resnet8.onnx"), calib: ex("mlperf-shaped", "ic-calib.npy"), scale: 1 / 255, sample: calibSample(ex("mlperf-shaped", "ic-calib.npy"), 3072), prune: false },
];

/** Column order of the table; a runner is absent (blank cell) when its model does not apply. */
const COLUMNS = ["er-simd", "er-mvp", "er-simd-pruned", "er-mvp-pruned", "web-float", "web-qdq", "node-float", "node-qdq"] as const;
type Column = typeof COLUMNS[number];
const TITLES: Record<Column, string> = {
  "er-simd": "edgerun SIMD int8", "er-mvp": "edgerun MVP int8", "er-simd-pruned": "edgerun SIMD 70% pruned", "er-mvp-pruned": "edgerun MVP 70% pruned",
  "web-float": "ORT-web float", "web-qdq": "ORT-web uint8 QDQ", "node-float": "ORT-node float", "node-qdq": "ORT-node uint8 QDQ",
};

type Runner = BenchRunner<Column>;

interface Prepared {
  runners: Runner[];
  macs: number;
  sizes: { float: number; qdq: number; erm: number; pruned?: number };
  /** Largest |ORT QDQ - edgerun int8| on the timed sample, in output LSB, per ORT backend. */
  lsb: Record<OrtBackend, number>;
  /** Kernels each ORT backend ran for the QDQ model, and whether no float compute was left. */
  kernels: Record<OrtBackend, { list: string; fused: boolean } | undefined>;
  simdMatchesMvp: boolean;
  /** Sparse-encoded layers of the pruned model, and how many each build runs sparse. */
  sparse?: { layers: number; simd: number; mvp: number };
  release: () => Promise<void>;
}

async function prepare(spec: ModelSpec): Promise<Prepared> {
  const pre = { scale: spec.scale };
  const floatBytes = readFileSync(spec.onnx);
  const g = importOnnx(floatBytes, spec.name);
  const shape = g.tensor(g.inputs[0]).shape;
  const calib = loadCalibration(spec.calib, { elements: numel(shape), limit: 512 });
  // The QDQ model carries the same quantization compressOnnx computes (deterministic from the
  // same calibration set and options), so ORT and edgerun run the same integer model.
  const q = quantizeOnnx(g, calib, { preprocessing: pre });
  const qdq = exportQdq(g, q.graph);
  const common = { calibPath: spec.calib, preprocessing: pre, latencyRuns: 5 };
  const int8 = await compressOnnx(spec.onnx, common);
  const pruned = spec.prune ? await compressOnnx(spec.onnx, { ...common, prune: 0.7 }) : undefined;

  const x = applyPreprocessing(g, { [g.inputs[0]]: spec.sample() }, pre)[g.inputs[0]];
  const [inL, outL] = [q.layouts[0], q.layouts[q.layouts.length - 1]];
  const xq = encodeInput(x, inL);
  const er = (bytes: Uint8Array, build: "simd" | "mvp") => Interpreter.load(bytes, { build });
  const simd = er(int8.bytes, "simd"), mvp = er(int8.bytes, "mvp");
  const ours = decodeOutputInts(simd.run(xq)[0].slice(), outL);
  const simdMatchesMvp = decodeOutputInts(mvp.run(xq)[0].slice(), outL).every((v, i) => v === ours[i]);

  const ort: Partial<Record<`${OrtBackend}-${"float" | "qdq"}`, OrtModel>> = {};
  const lsb = { node: 0, web: 0 };
  const kernels: Prepared["kernels"] = { node: undefined, web: undefined };
  for (const backend of ["web", "node"] as const) {
    ort[`${backend}-float`] = await loadOrt(backend, floatBytes, shape);
    const m = (ort[`${backend}-qdq`] = await loadOrt(backend, qdq, shape));
    const theirs = Array.from(await m.run(x), (v) => Math.round(v / outL.scale) + outL.zeroPoint);
    lsb[backend] = Math.max(...theirs.map((v, i) => Math.abs(v - ours[i])));
    const k = await executedKernels(backend, qdq, x, shape);
    kernels[backend] = k && { list: describeKernels(k), fused: qdqFused(k, g.inputs.length, g.outputs.length) };
  }
  const runners: Runner[] = [
    { name: "er-simd", run: () => simd.run(xq) },
    { name: "er-mvp", run: () => mvp.run(xq) },
  ];
  if (pruned) {
    const ps = er(pruned.bytes, "simd"), pm = er(pruned.bytes, "mvp");
    runners.push({ name: "er-simd-pruned", run: () => ps.run(xq) }, { name: "er-mvp-pruned", run: () => pm.run(xq) });
  }
  for (const [k, m] of Object.entries(ort)) runners.push({ name: k as Column, run: () => m.run(x) });
  return {
    runners, lsb, kernels, simdMatchesMvp, sparse: pruned && sparseRuns(pruned.model),
    macs: int8.model.ops.reduce((a, op) => a + opMacs(op, int8.model.tensors), 0),
    sizes: { float: floatBytes.length, qdq: qdq.length, erm: int8.bytes.length, pruned: pruned?.bytes.length },
    release: async () => { for (const m of Object.values(ort)) await m.release(); },
  };
}

/**
 * The compiler marks each sparse layer with the builds that run it sparse (a measured cost model:
 * never slower than dense); the other builds expand it to dense weights at load.
 */
function sparseRuns(model: ErmModel): { layers: number; simd: number; mvp: number } {
  const ops = model.ops.filter((o) => o.opcode === Opcode.FULLY_CONNECTED_SPARSE || o.opcode === Opcode.CONV_2D_SPARSE);
  const runs = (b: "simd" | "mvp") => ops.filter((o) => (o.params[o.params.length - 1] & SPARSE_RUN_BITS[b]) !== 0).length;
  return { layers: ops.length, simd: runs("simd"), mvp: runs("mvp") };
}

const us = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

export async function benchOnnx(say: (line: string) => void): Promise<void> {
  say(HEADING);
  say("");
  say(`Single-sample inference (batch 1), one thread everywhere; medians in microseconds over ${ROUNDS} interleaved rounds of ${PER_ROUND} calls after ${WARMUP} warm-up calls, and in brackets the time relative to edgerun SIMD int8 (above 1x: edgerun is faster). edgerun: \`Interpreter.run\` on an input already quantized to int8 in the runtime's layout (copy in, invoke), on the .erm from \`compressOnnx\` (no pruning; for digits also \`prune: 0.7\`). onnxruntime 1.30: \`session.run\` on a float input including the \`Tensor\` creation and the awaited promise, as a user of the API pays it (onnxruntime-node also defers each native run by one event-loop turn, \`setImmediate\`); ORT-web is onnxruntime-web's WebAssembly build run in Node with \`numThreads = 1\`, ORT-node the native CPU provider with one intra-op and one inter-op thread, both at graph optimization level \`all\`. ORT-node is native x86-64 code (MLAS kernels); edgerun and ORT-web are WebAssembly, so ORT-web is the like-for-like peer. The pruned models use \`compressOnnx\`'s default per-layer unstructured magnitude pruning.`);
  say("");
  say("The uint8 QDQ models are written by `lib/quantize/qdq-export.ts` from edgerun's own quantization (same activation scales, per-channel int8 weights, int32 biases), so both runtimes run the same integer model. They use uint8 activations on purpose: with int8 QDQ activations onnxruntime takes slow paths and some graphs silently run in float (see /work/shared/FACTS.md). The DS-CNN and ResNet-8 are MLPerf Tiny's architectures with seeded random weights (`examples/mlperf-shaped/`), for speed only.");
  say("");
  say(`| model | MACs | ${COLUMNS.map((c) => TITLES[c]).join(" | ")} |`);
  say(`|---|---|${COLUMNS.map(() => "---").join("|")}|`);
  const notes: string[] = [], sizes: string[] = [];
  for (const spec of MODELS) {
    const p = await prepare(spec);
    const s = await timeInterleaved(p.runners, ROUNDS, PER_ROUND, WARMUP);
    await p.release();
    const base = median(s.get("er-simd")!);
    const cell = (c: Column) => {
      const v = s.get(c);
      if (!v) return "";
      const m = median(v);
      return c === "er-simd" ? us(m) : `${us(m)} (${(m / base).toFixed(2)}x)`;
    };
    say(`| ${spec.name} | ${p.macs.toLocaleString("en-US")} | ${COLUMNS.map(cell).join(" | ")} |`);
    const k = (b: OrtBackend) => (p.kernels[b] ? `${p.kernels[b]!.fused ? "fused" : "NOT fused"} (${p.kernels[b]!.list})` : "kernels not read");
    notes.push(`- ${spec.name}: ORT-node ${k("node")}; ORT-web ${k("web")}. Output vs edgerun int8 on the timed sample: at most ${p.lsb.node} LSB (node), ${p.lsb.web} LSB (web); edgerun SIMD and MVP ${p.simdMatchesMvp ? "bit-exact" : "DIFFER"}.${p.sparse ? ` 70% pruned: ${p.sparse.layers} sparse-encoded layer(s), of which SIMD runs ${p.sparse.simd} and MVP ${p.sparse.mvp} sparse (a layer measured no faster sparse than dense at compile time in a build is expanded to dense there at load).` : ""}`);
    sizes.push(`| ${spec.name} | ${p.sizes.float.toLocaleString("en-US")} | ${p.sizes.qdq.toLocaleString("en-US")} | ${p.sizes.erm.toLocaleString("en-US")} | ${p.sizes.pruned?.toLocaleString("en-US") ?? ""} |`);
  }
  say("");
  say("What onnxruntime ran for each uint8 QDQ model (op types from its profiler, one profiled run; layout Transposes and Reshapes left out). \"Fused\" means no DequantizeLinear ran except on the output and no QuantizeLinear except on the input, i.e. every conv, matmul, add, pool and softmax ran on an integer kernel:");
  say("");
  notes.forEach((n) => say(n));
  say("");
  say("| model | float ONNX (bytes) | uint8 QDQ ONNX (bytes) | edgerun .erm int8 (bytes) | edgerun .erm 70% pruned (bytes) |");
  say("|---|---|---|---|---|");
  sizes.forEach((l) => say(l));
}

/** Replaces this section in docs/benchmarks.md (up to the next "## " heading), or appends it. */
function writeSection(lines: string[]): void {
  const path = join(packageRoot(), "docs", "benchmarks.md");
  const doc = readFileSync(path, "utf8").split("\n");
  const start = doc.indexOf(HEADING);
  let end = start < 0 ? -1 : doc.findIndex((l, i) => i > start && l.startsWith("## "));
  if (start >= 0 && end < 0) end = doc.length;
  const body = [...lines, ""];
  const out = start < 0 ? [...doc.slice(0, doc.length - (doc[doc.length - 1] === "" ? 1 : 0)), "", ...body] : [...doc.slice(0, start), ...body, ...doc.slice(end)];
  writeFileSync(path, out.join("\n").replace(/\n*$/, "\n"));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lines: string[] = [];
  await benchOnnx((l) => { console.log(l); lines.push(l); });
  if (process.argv.includes("--write")) writeSection(lines);
}
