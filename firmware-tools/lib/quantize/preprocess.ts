// Input preprocessing applied to calibration samples and recorded in the model's metadata, so a
// device normalizes its inputs exactly as the model was calibrated: x' = (x * scale - mean[c]) / std[c],
// with c the channel (ONNX dim 1 of a rank >= 2 input) and one-element lists applying to all.

import { EdgerunError } from "../../../host/format/errors.js";
import { FGraph, numel } from "../import/onnx/float-graph.js";
import type { Sample } from "./calibrate.js";

export interface Preprocessing {
  scale?: number;
  mean?: number[];
  std?: number[];
}

export function applyPreprocessing(g: FGraph, s: Sample, p: Preprocessing | undefined): Sample {
  if (!p || (p.scale === undefined && !p.mean && !p.std)) return s;
  const out: Sample = {};
  for (const name of g.inputs) {
    const shape = g.tensor(name).shape;
    const C = shape.length >= 2 ? shape[1] : 1;
    const inner = shape.length >= 2 ? numel(shape.slice(2)) : 1;
    for (const [what, list] of [["mean", p.mean], ["std", p.std]] as const) {
      if (list && list.length !== 1 && list.length !== C) throw new EdgerunError("QUANT_BAD_PREPROCESSING", `${what} has ${list.length} values; input ${name} has ${C} channels`, { expected: C, actual: list.length });
    }
    if (p.std?.some((v) => !(v > 0))) throw new EdgerunError("QUANT_BAD_PREPROCESSING", "std values must be positive", { actual: p.std });
    const pick = (list: number[] | undefined, c: number, d: number) => (list ? list[list.length === 1 ? 0 : c] : d);
    out[name] = Float32Array.from(s[name], (x, i) => {
      const c = Math.floor(i / inner) % C;
      return (x * (p.scale ?? 1) - pick(p.mean, c, 0)) / pick(p.std, c, 1);
    });
  }
  return out;
}
