// Runs an ONNX node test case through edgerun: import (weights bound as constants), quantization
// calibrated on the case's own inputs (pre-quantized tensors keep the model's parameters), the
// compiler and the runtime; returns the worst deviation per output in output LSBs.

import { importOnnxModel } from "../../firmware-tools/lib/import/onnx/import.js";
import type { FGraph } from "../../firmware-tools/lib/import/onnx/float-graph.js";
import { quantizeOnnx } from "../../firmware-tools/lib/quantize/quantize.js";
import { compileGraph } from "../../firmware-tools/lib/compile/compile.js";
import { writeErm } from "../../host/format/erm-writer.js";
import { BuildName, Interpreter } from "../../host/runtime/runtime.js";
import { decodeOutput, decodeOutputInts, encodeInput } from "../../firmware-tools/lib/quantize/sqnr.js";
import { inputOf, loadCase, tensorValues } from "./onnx-case.js";

export interface CaseResult { quantized: boolean; worstLsb: number; runs: number; opTypes: string[] }

/** Real values of a graph input as the float graph sees them (quantized inputs dequantized). */
function inputToFloat(g: FGraph, name: string, v: number[]): Float32Array {
  const q = g.tensor(name).quant, type = g.ioTypes.get(name);
  if (!q || type === 1) return Float32Array.from(v);
  return Float32Array.from(v, (x) => (x - (type === 2 ? 128 : 0) - q.zeroPoint[0]) * q.scale[0]);
}

export function runNodeCase(name: string, runs: Array<{ build: BuildName; tier: 0 | 1 }>): CaseResult {
  const c = loadCase(name);
  const g = importOnnxModel(c.model, name, { bind: c.bind });
  const samples = c.sets.map((s) => Object.fromEntries(g.inputs.map((n) => [n, inputToFloat(g, n, tensorValues(inputOf(c, s, n)))])));
  const r = quantizeOnnx(g, samples, { sqnrSamples: 1 });
  const bytes = writeErm(compileGraph(r.graph).model);
  const lin = r.layouts.slice(0, g.inputs.length), lout = r.layouts.slice(g.inputs.length);
  const quantized = lout.some((l) => g.ioTypes.get(l.name) !== 1);
  let worst = 0;
  for (const run of runs) {
    const it = Interpreter.load(bytes, { build: run.build });
    it.setKernelTier(run.tier);
    c.sets.forEach((s, k) => {
      const outs = it.run(...lin.map((l) => encodeInput(samples[k][l.name], l)));
      lout.forEach((l, o) => {
        const want = tensorValues(s.outputs[o]);
        if (g.ioTypes.get(l.name) !== 1) {
          const got = decodeOutputInts(outs[o], l);
          want.forEach((e, i) => { worst = Math.max(worst, Math.abs(e - got[i])); });
        } else {
          const got = decodeOutput(outs[o], l);
          want.forEach((e, i) => { worst = Math.max(worst, Math.abs(e - got[i]) / l.scale); });
        }
      });
    });
  }
  return { quantized, worstLsb: worst, runs: runs.length, opTypes: (c.model.graph?.node ?? []).map((n) => n.opType ?? "") };
}
