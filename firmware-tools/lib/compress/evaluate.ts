// Evaluation on labelled data: top-1 accuracy of the float model (onnxruntime-node, the oracle),
// of an .erm in the runtime, and how often the two agree.

import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";
import { Interpreter, BuildName } from "../../../host/runtime/runtime.js";
import type { IoLayout } from "../quantize/lower.js";
import { decodeOutput, encodeInput } from "../quantize/sqnr.js";
import { applyPreprocessing, Preprocessing } from "../quantize/preprocess.js";
import type { FGraph } from "../import/onnx/float-graph.js";

export interface Labelled { x: Float32Array[]; y: number[] }

/** CSV (label in the last column) or JSON Lines ({"input": [...], "label": k}). */
export function loadLabelled(path: string, elements: number): Labelled {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new EdgerunError("DATA_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
  const x: Float32Array[] = [], y: number[] = [];
  const jsonl = [".jsonl", ".ndjson"].includes(extname(path).toLowerCase());
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || (!jsonl && i === 0 && /[a-df-z]/i.test(line))) return; // blank or header
    let values: number[], label: number;
    if (jsonl) {
      const o = JSON.parse(line) as { input?: number[]; label?: number };
      values = (o.input ?? []).flat(8) as number[];
      label = Number(o.label);
    } else {
      const cells = line.split(",").map(Number);
      label = cells.pop()!;
      values = cells;
    }
    if (values.length !== elements || !Number.isInteger(label) || values.some((v) => !Number.isFinite(v))) {
      throw new EdgerunError("DATA_SHAPE_MISMATCH", `row ${i + 1} of ${path} needs ${elements} numbers and an integer label`, { path, expected: elements, actual: values.length });
    }
    x.push(Float32Array.from(values));
    y.push(label);
  });
  if (x.length === 0) throw new EdgerunError("DATA_EMPTY", `${path} holds no labelled rows`, { path });
  return { x, y };
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Float predictions through onnxruntime-node (one thread), inputs preprocessed like the device does. */
export async function floatPredictions(onnxPath: string, g: FGraph, data: Labelled, pre: Preprocessing | undefined): Promise<number[]> {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const name = g.inputs[0];
  const shape = g.tensor(name).shape;
  const out: number[] = [];
  for (const x of data.x) {
    const input = applyPreprocessing(g, { [name]: x }, pre)[name];
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", input, shape) });
    out.push(argmax(result[session.outputNames[0]].data as Float32Array));
  }
  await session.release();
  return out;
}

/** Predictions of an .erm in the runtime, inputs preprocessed and encoded per the model's layouts. */
export function ermPredictions(erm: Uint8Array, g: FGraph, layouts: IoLayout[], data: Labelled, pre: Preprocessing | undefined, build: BuildName = "simd"): number[] {
  const it = Interpreter.load(erm, { build });
  const name = g.inputs[0];
  const inLayout = layouts.find((l) => l.name === name) ?? layouts[0];
  const outLayout = layouts.find((l) => l.name === g.outputs[0]) ?? layouts[layouts.length - 1];
  return data.x.map((x) => {
    const input = applyPreprocessing(g, { [name]: x }, pre)[name];
    const [out] = it.run(encodeInput(input, inLayout));
    return argmax(decodeOutput(out, outLayout));
  });
}

export function accuracy(pred: number[], labels: number[]): number {
  return pred.filter((p, i) => p === labels[i]).length / labels.length;
}

export function agreement(a: number[], b: number[]): number {
  return a.filter((p, i) => p === b[i]).length / a.length;
}
