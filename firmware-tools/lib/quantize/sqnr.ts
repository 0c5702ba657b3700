// Per-layer signal-to-quantization-noise ratio: the int8 model runs op by op in the real runtime
// (reference of truth, not a simulation), every op output that stands for a float tensor is
// dequantized, put back in ONNX order and compared with the float executor's value.

import { writeErm } from "../../../host/format/erm-writer.js";
import { BuildName, Interpreter } from "../../../host/runtime/runtime.js";
import { Compiled } from "../compile/compile.js";
import { FGraph, numel } from "../import/onnx/float-graph.js";
import { runFloat } from "./float-exec.js";
import type { IoLayout, Lowered } from "./lower.js";
import { fromStorage, toStorage } from "./tensor-util.js";
import type { Sample } from "./calibrate.js";

/** ONNX-ordered float values -> the runtime's input bytes for one graph input. */
export function encodeInput(values: ArrayLike<number>, l: IoLayout): Uint8Array {
  const stored = toStorage(values, l.onnxShape, l.perm);
  if (l.dtype === "float32") return new Uint8Array(Float32Array.from(stored).buffer);
  const lo = l.dtype === "uint8" ? 0 : -128, hi = l.dtype === "uint8" ? 255 : 127;
  const q = stored.map((x) => Math.max(lo, Math.min(hi, roundHalfAway(x / l.scale) + l.zeroPoint)));
  return l.dtype === "uint8" ? Uint8Array.from(q) : new Uint8Array(Int8Array.from(q).buffer);
}

/** The runtime's output bytes -> ONNX-ordered real values. */
export function decodeOutput(bytes: Uint8Array, l: IoLayout): number[] {
  let stored: number[];
  if (l.dtype === "float32") stored = Array.from(new Float32Array(bytes.slice().buffer));
  else if (l.dtype === "uint8") stored = Array.from(bytes, (v) => (v - l.zeroPoint) * l.scale);
  else stored = Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length), (v) => (v - l.zeroPoint) * l.scale);
  return fromStorage(stored, l.onnxShape, l.perm);
}

/** Raw integer outputs in ONNX order (for exact comparisons of quantized models). */
export function decodeOutputInts(bytes: Uint8Array, l: IoLayout): number[] {
  const raw = l.dtype === "uint8" ? Array.from(bytes) : Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  return fromStorage(raw, l.onnxShape, l.perm);
}

function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

export function sqnrDb(signal: number, noise: number): number {
  if (noise === 0) return Infinity;
  return 10 * Math.log10(signal / noise);
}

/** SQNR (dB) of every float tensor the int8 model computes, over the given samples. */
export function measureSqnr(g: FGraph, lowered: Lowered, compiled: Compiled, samples: Sample[], build: BuildName = "simd"): Map<string, number> {
  const model = compiled.model;
  const it = Interpreter.load(writeErm(model), { build });
  const names = model.meta.tensorNames ?? [];
  const power = new Map<string, { s: number; n: number }>();
  const inLayouts = lowered.layouts.slice(0, g.inputs.length);
  for (const sample of samples) {
    const ref = runFloat(g, sample);
    inLayouts.forEach((l, i) => it.inputs[i].set(encodeInput(sample[l.name], l)));
    for (let op = 0; op < it.opCount; op++) {
      it.invokeOps(op, op + 1);
      const t = model.ops[op].outputs[0], name = names[t];
      const lt = lowered.tensorOf.get(name), want = ref.get(name);
      if (!lt || !want) continue;
      const tensor = model.tensors[t];
      const bytes = it.tensor(t, numel(tensor.shape));
      const got = fromStorage(Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length), (v) => (v - tensor.zeroPoint) * tensor.scale), g.tensor(name).shape, lt.perm);
      const p = power.get(name) ?? { s: 0, n: 0 };
      for (let i = 0; i < want.length; i++) {
        p.s += want[i] * want[i];
        p.n += (want[i] - got[i]) ** 2;
      }
      power.set(name, p);
    }
  }
  return new Map([...power].map(([k, p]) => [k, sqnrDb(p.s, p.n)]));
}
