// Weight and bias quantization, shared by the lowering and by bias correction (which needs the
// exact rounding error the lowering will make): per-output-channel symmetric int8 weights,
// int32 bias at scale inputScale x weightScale (TFLite spec).

import { EdgerunError } from "../../../host/format/errors.js";
import type { FTensor } from "../import/onnx/float-graph.js";

export interface QuantWeights {
  ints: Int8Array;
  /** float32 scale per output channel (axis 0). */
  scales: Float32Array;
}

/** Channel c's values are the contiguous block c of `data` (axis 0 outermost). */
export function quantizeWeights(t: FTensor, channels: number, bias?: Float32Array, inScale = 1): QuantWeights {
  const data = t.data!;
  const per = data.length / channels;
  // Given integer weights are kept exactly when they fit int8 once centered; otherwise (uint8
  // weights far from their zero point) they are requantized symmetric from their real values.
  const fixed = t.quant?.ints;
  if (fixed && fixed.every((v) => v >= -128 && v <= 127)) return fixedWeights(t, channels, per);
  checkFinite(t);
  const ints = new Int8Array(data.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(data[c * per + i]));
    // An all-zero channel still needs a scale that keeps its bias representable in int32.
    const b = bias ? Math.abs(bias[c]) : 0;
    scales[c] = Math.fround(Math.max(m / 127, b / (inScale * 2 ** 30), 1e-12));
    for (let i = 0; i < per; i++) ints[c * per + i] = Math.max(-127, Math.min(127, Math.round(data[c * per + i] / scales[c])));
  }
  return { ints, scales };
}

function fixedWeights(t: FTensor, channels: number, per: number): QuantWeights {
  const q = t.quant!;
  const ints = new Int8Array(q.ints!.length);
  q.ints!.forEach((v, i) => {
    if (v < -128 || v > 127) throw new EdgerunError("CONVERT_UNSUPPORTED", `weights ${t.name} do not fit int8 after removing their zero point`, { tensor: t.name as never, actual: v });
    ints[i] = v;
  });
  const scales = Float32Array.from({ length: channels }, (_, c) => q.scale[q.scale.length === 1 ? 0 : c]);
  if (q.scale.length !== 1 && q.scale.length !== channels) throw new EdgerunError("CONVERT_UNSUPPORTED", `weights ${t.name} have ${q.scale.length} scales for ${channels} channels`);
  void per;
  return { ints, scales };
}

export function checkFinite(t: FTensor): void {
  const bad = t.data!.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new EdgerunError("QUANT_NAN_WEIGHTS", `constant ${t.name} holds ${t.data![bad]} at element ${bad}`, { tensor: t.name as never, actual: bad });
}

/** Dequantized weights (for bias correction and SQNR of the weights alone). */
export function dequantWeights(w: QuantWeights, channels: number): Float32Array {
  const per = w.ints.length / channels;
  return Float32Array.from(w.ints, (v, i) => v * w.scales[Math.floor(i / per)]);
}

/** int32 bias: round(b / (inScale x weightScale[c])), products in float32 as TFLite. */
export function quantizeBias(t: FTensor | undefined, channels: number, inScale: number, wScales: Float32Array): Int32Array {
  const out = new Int32Array(channels);
  if (!t) return out;
  if (t.quant?.ints && t.quant.sourceType === "int32") return Int32Array.from(t.quant.ints);
  checkFinite(t);
  for (let c = 0; c < channels; c++) {
    const s = Math.fround(Math.fround(inScale) * wScales[c]);
    const v = Math.round(t.data![t.data!.length === 1 ? 0 : c] / s);
    if (Math.abs(v) >= 2 ** 31) throw new EdgerunError("QUANT_BIAS_RANGE", `bias ${t.name} channel ${c} does not fit int32 at scale ${s}`, { tensor: t.name as never, actual: v });
    out[c] = v;
  }
  return out;
}
