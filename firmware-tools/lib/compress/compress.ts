// compress: float ONNX + calibration data -> int8 .erm (optionally pruned), with an honest report.
//   import -> (prune float weights: uniform, N:M, or per-layer by a sensitivity scan) -> calibrate +
//   quantize -> (prune channels) -> compile (sparse encodings where measured faster) -> evaluate.
// Progress is reported through a callback; nothing here prints.

import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";
import { DTYPE_BYTES, TensorKind, opcodeName } from "../../../host/format/opcodes.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { Interpreter } from "../../../host/runtime/runtime.js";
import { importOnnx } from "../import/onnx/import.js";
import type { FGraph } from "../import/onnx/float-graph.js";
import { numel } from "../import/onnx/float-graph.js";
import { quantizeOnnx, QuantizeOptions, LayerReport } from "../quantize/quantize.js";
import { loadCalibration } from "../quantize/data.js";
import { runFloat } from "../quantize/float-exec.js";
import { applyPreprocessing, Preprocessing } from "../quantize/preprocess.js";
import { compileGraph } from "../compile/compile.js";
import type { EncodingChoice } from "../compile/sparse-select.js";
import { encodingLabel } from "../compile/sparse-encode.js";
import { Graph, opMacs } from "../compile/graph.js";
import { chooseSparsities, checkSparsity, pruneChannels, weightMatrix } from "../prune/index.js";
import { benchInterpreter } from "../model/bench.js";
import { computeGolden } from "../model/golden.js";
import { accuracy, agreement, argmax, ermPredictions, floatPredictions, Labelled, loadLabelled } from "./evaluate.js";
import { FloatPrune, prunableLayers, pruneFloat } from "./float-prune.js";
import { CompressReport, LayerRow, ModelFigures } from "./report.js";

export interface CompressOptions {
  calibPath: string;
  calibMethod?: QuantizeOptions["method"];
  calibLimit?: number;
  preprocessing?: Preprocessing;
  evalPath?: string;
  /** Fraction of weights to prune (magnitude); with evalPath and maxDrop, the upper bound of a per-layer scan. */
  prune?: number;
  pruneScope?: "layer" | "global";
  /** N:M structured sparsity, e.g. [2, 4]. */
  nm?: [number, number];
  /** Prune in rows x cols blocks (per-layer scope), e.g. [4, 8]. */
  block?: [number, number];
  /** Fraction of output channels to remove from each conv/FC. */
  pruneChannels?: number;
  /** Accuracy points (0..100) the pruned model may lose against the int8 model, for the scan. */
  maxDrop?: number;
  sparse?: "auto" | "size" | "never" | "always";
  name?: string;
  version?: string;
  labels?: string[];
  latencyRuns?: number;
  onProgress?: (step: string, done: number, total: number) => void;
}

export interface CompressResult { bytes: Uint8Array; report: CompressReport; model: ErmModel }

export async function compressOnnx(onnxPath: string, opts: CompressOptions): Promise<CompressResult> {
  const progress = opts.onProgress ?? (() => {});
  checkOptions(opts);
  const fileBytes = readOnnx(onnxPath);
  const g = importOnnx(fileBytes, opts.name ?? basename(onnxPath, extname(onnxPath)));
  const elements = numel(g.tensor(g.inputs[0]).shape);
  const calib = loadCalibration(opts.calibPath, { elements, limit: opts.calibLimit ?? 512 });
  const evalSet = opts.evalPath ? loadLabelled(opts.evalPath, elements) : undefined;
  const pre = opts.preprocessing;
  const qopts: QuantizeOptions = { method: opts.calibMethod ?? "minmax", preprocessing: pre };
  const meta = { name: opts.name ?? g.name, version: opts.version ?? "1.0.0", source: basename(onnxPath), ...(opts.labels ? { labels: opts.labels } : {}) };

  progress("quantize", 0, 1);
  const q = quantizeOnnx(g, calib, qopts);
  const int8 = finish(q.graph, q.meta, meta, "never", calib, g, q.layouts);
  progress("quantize", 1, 1);

  const report: CompressReport = {
    model: meta.name,
    calibration: { method: opts.calibMethod ?? "minmax", samples: calib.length },
    layers: [],
    float: { fileBytes: fileBytes.length },
    int8: figures(int8),
    evalSamples: evalSet?.x.length,
  };
  let final = int8;
  let layerSource: { graph: Graph; layers: LayerReport[] } = { graph: q.graph, layers: q.layers };
  let floatPred: number[] | undefined;
  if (evalSet) {
    progress("evaluate float (onnxruntime)", 0, 1);
    floatPred = await floatPredictions(onnxPath, g, evalSet, pre);
    report.float.accuracy = accuracy(floatPred, evalSet.y);
    report.float.agreementWithFloat = 1;
    progress("evaluate float (onnxruntime)", 1, 1);
    const p = ermPredictions(int8.bytes, g, q.layouts, evalSet, pre);
    report.int8.accuracy = accuracy(p, evalSet.y);
    report.int8.agreementWithFloat = agreement(p, floatPred);
  }
  if (opts.prune !== undefined || opts.nm || opts.pruneChannels !== undefined) {
    const layers = prunableLayers(g);
    const plan = await choosePruning(g, layers, opts, evalSet, progress);
    const pg = plan ? pruneFloat(g, layers, plan) : g;
    progress("quantize pruned", 0, 1);
    const pq = quantizeOnnx(pg, calib, qopts);
    let channelsRemoved = 0;
    if (opts.pruneChannels) channelsRemoved = pruneChannels(pq.graph, { ratio: opts.pruneChannels }).reduce((a, r) => a + r.removed.length, 0);
    final = finish(pq.graph, pq.meta, meta, opts.sparse ?? "auto", calib, g, pq.layouts);
    layerSource = { graph: pq.graph, layers: pq.layers };
    progress("quantize pruned", 1, 1);
    report.pruned = figures(final);
    const w = layers.map((l) => pg.tensor(l.weight).data!);
    const totalSparsity = w.reduce((a, d) => a + d.filter((v) => v === 0).length, 0) / Math.max(1, w.reduce((a, d) => a + d.length, 0));
    report.pruning = { mode: describePruning(opts, plan), sparsities: plan?.scope === "layer" ? plan.sparsities : undefined, channelsRemoved, totalSparsity };
    if (evalSet && floatPred) {
      const p = ermPredictions(final.bytes, g, pq.layouts, evalSet, pre);
      report.pruned.accuracy = accuracy(p, evalSet.y);
      report.pruned.agreementWithFloat = agreement(p, floatPred);
    }
  }
  report.layers = layerRows(final.model, layerSource, g, final.sparsity, final.encodings);
  progress("latency", 0, 2);
  for (const [k, m] of [["int8", int8], ["pruned", final]] as const) {
    if (k === "pruned" && !report.pruned) continue;
    report[k]!.latencyUs = latency(m.bytes, m.model, opts.latencyRuns ?? 200);
  }
  progress("latency", 2, 2);
  return { bytes: final.bytes, report, model: final.model };
}

function checkOptions(o: CompressOptions): void {
  if (o.prune !== undefined) checkSparsity(o.prune, "--prune");
  if (o.pruneChannels !== undefined) checkSparsity(o.pruneChannels, "--prune-channels");
  if (o.nm && !(Number.isInteger(o.nm[0]) && Number.isInteger(o.nm[1]) && o.nm[0] > 0 && o.nm[0] < o.nm[1] && o.nm[1] <= 16)) {
    throw new EdgerunError("PRUNE_BAD_PATTERN", "N:M needs integers 0 < N < M <= 16, e.g. 2:4", { actual: o.nm });
  }
  if (o.maxDrop !== undefined && !(o.maxDrop >= 0 && o.maxDrop <= 100)) throw new EdgerunError("PRUNE_BAD_MAX_DROP", "--max-drop is in accuracy points, 0..100", { actual: o.maxDrop });
  if (o.maxDrop !== undefined && !o.evalPath) throw new EdgerunError("PRUNE_NEEDS_EVAL", "--max-drop needs --eval data to measure accuracy");
}

function readOnnx(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EdgerunError("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
}

interface Built { bytes: Uint8Array; model: ErmModel; sparsity: Map<string, number>; encodings: EncodingChoice[] }

function finish(graph: Graph, qmeta: Record<string, unknown>, meta: Record<string, unknown>, sparse: NonNullable<CompressOptions["sparse"]>, calib: Float32Array[], g: FGraph, layouts: { name: string }[]): Built {
  const sparsity = new Map<string, number>();
  graph.ops.forEach((_, i) => {
    const w = weightMatrix(graph, i);
    if (w) sparsity.set(graph.ops[i].source.join(","), w.data.filter((v) => v === 0).length / w.data.length);
  });
  const { model, encodings } = compileGraph(graph, { meta: { ...qmeta, ...meta } as never, sparse });
  // Golden self-test vector: the first calibration sample as the device would see it.
  void g; void layouts; void calib;
  model.golden = computeGolden(model, [seededInput(model)]);
  return { bytes: writeErm(model), model, sparsity, encodings: encodings ?? [] };
}

function seededInput(model: ErmModel): Uint8Array {
  const bytes = model.inputs.reduce((a, t) => a + model.tensors[t].shape.reduce((x, y) => x * y, 1) * DTYPE_BYTES[model.tensors[t].dtype], 0);
  return Uint8Array.from({ length: bytes }, (_, i) => (i * 37 + 11) & 0x7f);
}

function figures(b: Built): ModelFigures {
  return { fileBytes: b.bytes.length, arenaBytes: b.model.plan.arenaBytes };
}

function latency(bytes: Uint8Array, model: ErmModel, runs: number): { simd: number; mvp: number } {
  const t = (build: "simd" | "mvp") => benchInterpreter(Interpreter.load(bytes, { build }), model, runs, Math.min(50, runs), false).medianUs;
  return { simd: t("simd"), mvp: t("mvp") };
}

function describePruning(o: CompressOptions, plan: FloatPrune | undefined): string {
  const parts: string[] = [];
  if (plan?.scope === "nm") parts.push(`${plan.n}:${plan.m} structured`);
  if (plan?.block) parts.push(`${plan.block[0]}x${plan.block[1]} blocks`);
  else if (plan?.scope === "global") parts.push(`global magnitude ${(plan.sparsity * 100).toFixed(0)}%`);
  else if (plan?.scope === "layer") parts.push(o.maxDrop !== undefined ? `per-layer sensitivity scan (max drop ${o.maxDrop} points)` : `per-layer magnitude to ${((o.prune ?? 0) * 100).toFixed(0)}% overall, tiny layers kept dense`);
  if (o.pruneChannels) parts.push(`${(o.pruneChannels * 100).toFixed(0)}% of channels`);
  return parts.join(" + ") || "none";
}

/** Uniform pruning, N:M, or per-layer sparsities from a sensitivity scan on the float model. */
async function choosePruning(g: FGraph, layers: ReturnType<typeof prunableLayers>, o: CompressOptions, evalSet: Labelled | undefined, progress: NonNullable<CompressOptions["onProgress"]>): Promise<FloatPrune | undefined> {
  if (o.nm) return { scope: "nm", n: o.nm[0], m: o.nm[1] };
  if (o.prune === undefined || o.prune === 0) return undefined;
  if (o.pruneScope === "global") {
    if (o.block) throw new EdgerunError("PRUNE_BAD_PATTERN", "block pruning works per layer, not with --prune-scope global");
    return { scope: "global", sparsity: o.prune };
  }
  if (o.maxDrop === undefined || !evalSet) return { scope: "layer", sparsities: uniformSparsities(layers, o.prune), block: o.block };
  const candidates = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95].filter((c) => c <= o.prune! + 1e-9);
  let done = 0;
  const total = layers.length * candidates.length + 4;
  const evalFn = (s: number[]) => {
    progress("sensitivity scan", Math.min(++done, total), total);
    return floatAccuracy(pruneFloat(g, layers, { scope: "layer", sparsities: s, block: o.block }), evalSet, o.preprocessing) * 100;
  };
  const r = await chooseSparsities(evalFn, layers, o.maxDrop, candidates);
  progress("sensitivity scan", total, total);
  return { scope: "layer", sparsities: r.sparsities, block: o.block };
}

/**
 * Per-layer pruning to an overall sparsity: layers with a tiny fan-in (< 16 inputs per output,
 * e.g. a first conv on one channel) or under 1% of the weights stay dense, since each of their
 * few weights carries much of the signal; the other layers share the target so that the model
 * as a whole loses `target` of its weights (each capped at 95%).
 */
export function uniformSparsities(layers: { rows: number; cols: number }[], target: number): number[] {
  const total = layers.reduce((a, l) => a + l.rows * l.cols, 0);
  const small = layers.map((l) => l.cols < 16 || l.rows * l.cols < 0.01 * total);
  const prunable = layers.reduce((a, l, i) => a + (small[i] ? 0 : l.rows * l.cols), 0);
  if (prunable === 0) return layers.map(() => target);
  const s = Math.min(0.95, (target * total) / prunable);
  return layers.map((_, i) => (small[i] ? 0 : s));
}

function floatAccuracy(g: FGraph, data: Labelled, pre: Preprocessing | undefined): number {
  const name = g.inputs[0];
  const pred = data.x.map((x) => argmax(runFloat(g, applyPreprocessing(g, { [name]: x }, pre)).get(g.outputs[0])!));
  return accuracy(pred, data.y);
}

/** How a layer's weights are stored, and which builds run the sparse kernel on them. */
function encodingOf(e: EncodingChoice | undefined): string {
  if (!e || e.storage === "dense") return encodingLabel(null, []);
  const runs = (Object.keys(e.runSparse) as (keyof typeof e.runSparse)[]).filter((b) => e.runSparse[b]);
  return encodingLabel(e.encoding === "blocks" ? `${e.block.join("x")} blocks` : e.encoding, runs);
}

function layerRows(model: ErmModel, src: { graph: Graph; layers: LayerReport[] }, g: FGraph, sparsity: Map<string, number>, encodings: EncodingChoice[]): LayerRow[] {
  const rows: LayerRow[] = [];
  model.ops.forEach((op, i) => {
    const consts = op.inputs.filter((t) => t >= 0 && model.tensors[t].kind === TensorKind.CONSTANT);
    if (consts.length === 0) return;
    const source = model.meta.sourceOps?.[i] ?? [];
    const node = g.nodes.find((n) => n.source.some((s) => source.includes(s)) && (n.kind === "conv" || n.kind === "fc"));
    const floatBytes = node ? node.inputs.slice(1).reduce((a, t) => a + (g.tensors.get(t)?.data?.length ?? 0) * 4, 0) : 0;
    const s = sparsity.get(src.graph.ops.find((o) => o.source.some((x) => source.includes(x)))?.source.join(",") ?? "") ?? 0;
    const enc = encodings.find((e) => e.op === i);
    // A sparse op's own MAC count is its nonzeros: report the dense count and the effective one.
    const macs = enc ? enc.rows * enc.cols * Math.max(1, enc.pixels) : opMacs(op, model.tensors);
    const sq = src.layers.find((l) => l.source.some((x) => source.includes(x)) && (l.type.startsWith("conv") || l.type.startsWith("fc")));
    rows.push({
      name: node?.name ?? `op${i}`, type: opcodeName(op.opcode), shape: model.tensors[op.outputs[0]].shape, sparsity: s,
      floatWeightBytes: floatBytes, ermWeightBytes: consts.reduce((a, t) => a + (model.tensors[t].data?.length ?? 0), 0),
      macs, effectiveMacs: Math.round(macs * (1 - s)), sqnrDb: sq?.sqnrDb, encoding: encodingOf(enc),
    });
  });
  return rows;
}
