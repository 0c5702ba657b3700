// Magnitude pruning of a float graph's weights before quantization, so that calibration and
// bias correction see the pruned model. Masks come from lib/prune.

import type { FGraph } from "../import/onnx/float-graph.js";
import { applyMask, globalMasks, magnitudeMask, nmMask } from "../prune/index.js";

export interface FloatLayer { node: number; name: string; weight: string; rows: number; cols: number }

/** The conv and fully-connected nodes with constant weights, as [out][in * kh * kw] matrices. */
export function prunableLayers(g: FGraph): FloatLayer[] {
  const out: FloatLayer[] = [];
  g.nodes.forEach((n, i) => {
    if (n.kind !== "conv" && n.kind !== "fc") return;
    const w = g.tensors.get(n.inputs[1]);
    if (!w?.data) return;
    const rows = w.shape[0];
    out.push({ node: i, name: n.name, weight: w.name, rows, cols: w.data.length / rows });
  });
  return out;
}

export type FloatPrune = ({ scope: "layer"; sparsities: number[] } | { scope: "global"; sparsity: number } | { scope: "nm"; n: number; m: number }) & {
  /** Prune whole rows x cols blocks (e.g. 4x8, which the SIMD sparse kernels run fastest); layers the block does not tile are pruned unstructured. */
  block?: [number, number];
};

/** Returns a copy of g whose prunable weights are masked (the input graph is left unchanged). */
export function pruneFloat(g: FGraph, layers: FloatLayer[], p: FloatPrune): FGraph {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(g)), g) as FGraph;
  copy.tensors = new Map(g.tensors);
  const masks: (Uint8Array | null)[] =
    p.scope === "global"
      ? globalMasks(layers.map((l) => ({ weights: g.tensor(l.weight).data!, cols: l.cols })), p.sparsity)
      : layers.map((l, k) => {
          const w = g.tensor(l.weight).data!;
          if (p.scope === "nm") return l.cols % p.m === 0 ? nmMask(w, l.rows, l.cols, p.n, p.m) : null;
          if (!(p.sparsities[k] > 0)) return null;
          const tiles = p.block && l.rows % p.block[0] === 0 && l.cols % p.block[1] === 0;
          return magnitudeMask(w, p.sparsities[k], { rows: l.rows, cols: l.cols, block: tiles ? p.block : undefined });
        });
  layers.forEach((l, k) => {
    const mask = masks[k];
    if (!mask) return;
    const t = g.tensor(l.weight);
    copy.tensors.set(l.weight, { ...t, data: applyMask(Float32Array.from(t.data!), mask) });
  });
  return copy;
}
