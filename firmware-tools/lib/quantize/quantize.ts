// Post-training static quantization of a float graph: validate the calibration set, preprocess,
// calibrate (minmax / percentile / mse / entropy, or auto: per layer, the method with the best measured
// SQNR), correct biases, lower to int8 and measure each layer's SQNR in the runtime.

import { EdgerunError } from "../../../host/format/errors.js";
import type { BuildName } from "../../../host/runtime/runtime.js";
import { compileGraph } from "../compile/compile.js";
import type { Graph } from "../compile/graph.js";
import { FGraph, FNode, numel } from "../import/onnx/float-graph.js";
import { CALIB_METHODS, CalibMethod, collectStats, inputHistogram, rangeFor, Sample, TensorStats } from "./calibrate.js";
import { correctBiases } from "./bias-correction.js";
import { IoLayout, lowerGraph, Lowered, QParam } from "./lower.js";
import { rangeToQ, SIGMOID_Q, TANH_Q } from "./lower-elem.js";
import { checkFinite } from "./weights.js";
import { measureSqnr } from "./sqnr.js";
import { applyPreprocessing, Preprocessing } from "./preprocess.js";

export interface QuantizeOptions {
  method?: CalibMethod | "auto";
  /** Percentile kept by the percentile method (default 99.99). */
  percentile?: number;
  /** Default true: remove the mean output shift that weight rounding causes. */
  biasCorrection?: boolean;
  /** Applied to every calibration sample before use; stored in the model's metadata. */
  preprocessing?: Preprocessing;
  floatIo?: boolean;
  /** Samples used for the per-layer SQNR (default 8). */
  sqnrSamples?: number;
  build?: BuildName;
}

export interface LayerReport {
  name: string;
  type: string;
  /** Output shape in ONNX order. */
  shape: number[];
  output: string;
  sqnrDb: number;
  method: CalibMethod | "fixed";
  scale: number;
  zeroPoint: number;
  source: number[];
}

export interface QuantizeResult {
  graph: Graph;
  layers: LayerReport[];
  layouts: IoLayout[];
  /** META entries: preprocessing, calibration, layouts. */
  meta: Record<string, unknown>;
}

const INHERIT = new Set(["maxpool", "avgpool", "reshape", "transpose", "pad"]);

/** Calibration input: one Float32Array per sample (single-input models) or per-input records. */
export type CalibrationSet = Float32Array[] | Sample[];

export function quantizeOnnx(g: FGraph, calib: CalibrationSet, opts: QuantizeOptions = {}): QuantizeResult {
  const raw = validateCalibration(g, calib);
  for (const t of g.tensors.values()) if (t.data) checkFinite(t);
  const samples = raw.map((s) => applyPreprocessing(g, s, opts.preprocessing));
  const stats = collectStats(g, samples);
  const corrected = opts.biasCorrection === false ? g : correctBiases(g, stats);
  const sqnrSet = samples.slice(0, opts.sqnrSamples ?? 8);
  const method = opts.method ?? "minmax";
  let choice = new Map<string, CalibMethod>();
  if (method === "auto") choice = pickPerLayer(corrected, stats, sqnrSet, opts);
  const methodOf = (name: string): CalibMethod => choice.get(name) ?? (method === "auto" ? "minmax" : method);
  const q = assignQuant(corrected, stats, methodOf, opts.percentile);
  const lowered = lowerGraph(corrected, q, { floatIo: opts.floatIo });
  const sqnr = measureSqnr(corrected, lowered, compileGraph(cloneGraph(lowered.graph)), sqnrSet, opts.build);
  const layers = report(corrected, lowered, q, sqnr, methodOf);
  const meta = {
    preprocessing: opts.preprocessing ?? {},
    calibration: calibrationMeta(g, samples, q, method, opts.percentile),
    layouts: lowered.layouts,
  };
  return { graph: lowered.graph, layers, layouts: lowered.layouts, meta };
}

function validateCalibration(g: FGraph, calib: CalibrationSet): Sample[] {
  if (!calib || calib.length === 0) throw new EdgerunError("QUANT_EMPTY_CALIBRATION", "the calibration set is empty: give at least one sample");
  const samples: Sample[] = calib.map((s) => (s instanceof Float32Array ? { [g.inputs[0]]: s } : s));
  if (calib[0] instanceof Float32Array && g.inputs.length !== 1) throw new EdgerunError("QUANT_CALIBRATION_MISMATCH", `the model has ${g.inputs.length} inputs; give one record per sample with every input`, { expected: g.inputs });
  samples.forEach((s, k) => {
    for (const name of g.inputs) {
      const want = numel(g.tensor(name).shape), v = s[name];
      if (!v) throw new EdgerunError("QUANT_CALIBRATION_MISMATCH", `calibration sample ${k} has no values for input ${name}`, { sample: k, expected: name });
      if (v.length !== want) throw new EdgerunError("QUANT_CALIBRATION_MISMATCH", `calibration sample ${k} has ${v.length} values; input ${name} ${JSON.stringify(g.tensor(name).shape)} needs ${want}`, { sample: k, expected: want, actual: v.length });
      const bad = v.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new EdgerunError("QUANT_CALIBRATION_NAN", `calibration sample ${k} holds ${v[bad]} at element ${bad} of input ${name}`, { sample: k, actual: bad });
    }
  });
  return samples;
}

/** Activation quantization of every non-constant tensor, in graph order. */
export function assignQuant(g: FGraph, stats: Map<string, TensorStats> | undefined, methodOf: (name: string) => CalibMethod, percentile?: number): Map<string, QParam> {
  const q = new Map<string, QParam>();
  const set = (name: string, producer?: FNode) => {
    const t = g.tensor(name);
    if (t.quant && t.quant.sourceType !== "int32") return q.set(name, { scale: t.quant.scale[0], zp: t.quant.zeroPoint[0] });
    if (producer && INHERIT.has(producer.kind) && q.has(producer.inputs[0])) return q.set(name, q.get(producer.inputs[0])!);
    if (producer?.kind === "sigmoid" || producer?.kind === "softmax") return q.set(name, SIGMOID_Q);
    if (producer?.kind === "tanh") return q.set(name, TANH_Q);
    const st = stats?.get(name);
    if (st) q.set(name, rangeToQ(...rangeFor(st, methodOf(name), percentile)));
  };
  g.inputs.forEach((i) => set(i));
  g.nodes.forEach((n) => set(n.output, n));
  return q;
}

function pickPerLayer(g: FGraph, stats: Map<string, TensorStats>, samples: Sample[], opts: QuantizeOptions): Map<string, CalibMethod> {
  const perMethod = CALIB_METHODS.map((m) => {
    const lowered = lowerGraph(g, assignQuant(g, stats, () => m, opts.percentile), { floatIo: opts.floatIo });
    return measureSqnr(g, lowered, compileGraph(cloneGraph(lowered.graph)), samples, opts.build);
  });
  const choice = new Map<string, CalibMethod>();
  for (const name of [...g.inputs, ...g.nodes.map((n) => n.output)]) {
    let best = 0;
    perMethod.forEach((s, k) => { if ((s.get(name) ?? -Infinity) > (perMethod[best].get(name) ?? -Infinity)) best = k; });
    choice.set(name, CALIB_METHODS[best]);
  }
  return choice;
}

function report(g: FGraph, lowered: Lowered, q: Map<string, QParam>, sqnr: Map<string, number>, methodOf: (n: string) => CalibMethod): LayerReport[] {
  const fusedInto = new Map([...lowered.fused].map(([act, out]) => [out, act]));
  const fusedActs = new Set(lowered.fused.keys());
  return g.nodes.filter((n) => !fusedActs.has(n.output)).map((n) => {
    const out = fusedInto.get(n.output) ?? n.output;
    const p = q.get(out) ?? { scale: 0, zp: 0 };
    const fixed = g.tensor(out).quant !== undefined || n.kind === "sigmoid" || n.kind === "tanh" || n.kind === "softmax";
    return { name: n.name, type: fusedInto.has(n.output) ? `${n.kind}+${g.producer(out)?.kind ?? "act"}` : n.kind, shape: g.tensor(out).shape, output: out, sqnrDb: sqnr.get(out) ?? NaN, method: fixed ? "fixed" : methodOf(out), scale: p.scale, zeroPoint: p.zp, source: n.source };
  });
}

function calibrationMeta(g: FGraph, samples: Sample[], q: Map<string, QParam>, method: string, percentile?: number): Record<string, unknown> {
  return {
    method, percentile: method === "percentile" || method === "auto" ? percentile ?? 99.99 : undefined, samples: samples.length,
    inputs: g.inputs.map((name) => {
      const p = q.get(name)!;
      const h = inputHistogram(samples.map((s) => s[name]), p.scale, p.zp);
      return { name, space: "int8", bins: 32, binWidth: 8, lo: -128, ...h };
    }),
  };
}

/** compileGraph rewrites its graph (fusion, scratch); measurements compile a copy. */
export function cloneGraph(g: Graph): Graph {
  const c = Object.assign(Object.create(Object.getPrototypeOf(g)), g) as Graph;
  c.tensors = g.tensors.map((t) => ({ ...t }));
  c.ops = g.ops.map((o) => ({ ...o, inputs: o.inputs.slice(), outputs: o.outputs.slice(), params: o.params.slice(), source: o.source.slice() }));
  c.inputs = g.inputs.slice();
  c.outputs = g.outputs.slice();
  return c;
}
