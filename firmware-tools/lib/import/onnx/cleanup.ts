// Graph clean-up after import: a QuantizeLinear that only re-labels its producer's output is
// folded into that producer (QDQ -> QOperator form), and copies from Identity, Dropout and
// DequantizeLinear are removed by renaming.

import { FGraph, FNode } from "./float-graph.js";

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function foldQuantizeIntoProducers(g: FGraph): void {
  for (const n of g.nodes.slice()) {
    if (n.kind !== "requant") continue;
    const x = n.inputs[0], xt = g.tensor(x), yt = g.tensor(n.output);
    if (xt.quant || xt.data || g.outputs.includes(x) || g.consumers(x).length !== 1) continue;
    if (g.inputs.includes(x)) {
      // A float graph input quantized once: the model's input takes that quantization.
      xt.quant = yt.quant;
      n.kind = "reshape";
      continue;
    }
    const p = g.producer(x);
    if (!p) continue;
    p.output = n.output;
    p.source.push(...n.source);
    g.nodes.splice(g.nodes.indexOf(n), 1);
    g.tensors.delete(x);
  }
}

function rename(g: FGraph, from: string, to: string): void {
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((i) => (i === from ? to : i));
    if (n.output === from) n.output = to;
  }
  g.outputs = g.outputs.map((o) => (o === from ? to : o));
}

/** Removes shape-preserving copies whose two sides can be one tensor. */
export function dropIdentities(g: FGraph): void {
  for (const n of g.nodes.slice()) {
    if (n.kind !== "reshape") continue;
    const x = n.inputs[0], y = n.output, xt = g.tensor(x), yt = g.tensor(y);
    if (!sameShape(xt.shape, yt.shape)) continue;
    if (yt.quant && xt.quant && (yt.quant.scale[0] !== xt.quant.scale[0] || yt.quant.zeroPoint[0] !== xt.quant.zeroPoint[0])) continue;
    const xIsIo = g.inputs.includes(x) || g.outputs.includes(x);
    const yIsOut = g.outputs.includes(y);
    if (xIsIo && yIsOut) continue; // input copied straight to an output: keep one op
    removeNode(g, n);
    if (yIsOut) {
      rename(g, x, y);
      g.tensors.set(y, { ...xt, name: y, quant: xt.quant ?? yt.quant });
      g.tensors.delete(x);
      g.inputs = g.inputs.map((i) => (i === x ? y : i));
    } else {
      rename(g, y, x);
      xt.quant ??= yt.quant;
      g.tensors.delete(y);
    }
  }
}

function removeNode(g: FGraph, n: FNode): void {
  g.nodes.splice(g.nodes.indexOf(n), 1);
}
