// Bias correction (Nagel et al., "Data-Free Quantization", empirical form): rounding the weights
// shifts each output channel's mean by E[(Wq - W) x]. Convolution and matrix products are
// linear, so that shift is the layer applied to the mean calibration input with the weight
// error as weights; it is subtracted from the float bias before quantization.

import { FGraph, FNode } from "../import/onnx/float-graph.js";
import { evalNode } from "./float-exec.js";
import type { TensorStats } from "./calibrate.js";
import { dequantWeights, quantizeWeights } from "./weights.js";

export function correctBiases(g: FGraph, stats: Map<string, TensorStats>): FGraph {
  const out = Object.assign(Object.create(Object.getPrototypeOf(g)), g) as FGraph;
  out.tensors = new Map(g.tensors);
  out.nodes = g.nodes.map((n) => ({ ...n, inputs: n.inputs.slice() }));
  for (const n of out.nodes) {
    if ((n.kind !== "conv" && n.kind !== "fc") || g.tensor(n.inputs[1]).quant) continue;
    const mean = stats.get(n.inputs[0])?.mean;
    if (!mean) continue;
    correctOne(out, n, Float32Array.from(mean));
  }
  return out;
}

function correctOne(g: FGraph, n: FNode, meanInput: Float32Array): void {
  const w = g.tensor(n.inputs[1]);
  const O = w.shape[0];
  const bias = n.inputs[2] ? g.tensor(n.inputs[2]).data! : new Float32Array(O);
  const qw = dequantWeights(quantizeWeights(w, O, bias), O);
  const dw = Float32Array.from(qw, (v, i) => v - w.data![i]);
  const shift = evalNode(g, { ...n, inputs: [n.inputs[0], n.inputs[1]] }, (name) => (name === n.inputs[0] ? meanInput : dw));
  const perChannel = new Float64Array(O), counts = new Float64Array(O);
  const outShape = g.tensor(n.output).shape;
  // conv output [N, O, H, W]: channel is dim 1; fc output [..., O]: channel is the last dim.
  const inner = n.kind === "conv" ? outShape[2] * outShape[3] : 1;
  shift.forEach((v, i) => {
    const c = Math.floor(i / inner) % O;
    perChannel[c] += v;
    counts[c]++;
  });
  const name = `${n.output}/corrected_bias`;
  g.tensors.set(name, { name, shape: [O], data: Float32Array.from(bias, (b, c) => b - perChannel[c] / counts[c]) });
  n.inputs = [n.inputs[0], n.inputs[1], name];
}
