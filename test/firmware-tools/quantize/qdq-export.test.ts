// The uint8 QDQ export of edgerun's quantization: onnxruntime runs it, fuses it into integer
// kernels (no DequantizeLinear left inside the graph), and its outputs agree with edgerun's int8
// model to within 1-2 LSB (ORT requantizes in float with round-half-even, edgerun with TFLite's
// fixed-point multipliers; the difference is at most one step per layer and rarely compounds).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { importOnnx } from "../../../firmware-tools/lib/import/onnx/import.js";
import { decodeModel } from "../../../firmware-tools/lib/import/onnx/proto.js";
import { cloneGraph, quantizeOnnx } from "../../../firmware-tools/lib/quantize/quantize.js";
import { loadCalibration } from "../../../firmware-tools/lib/quantize/data.js";
import { applyPreprocessing } from "../../../firmware-tools/lib/quantize/preprocess.js";
import { exportQdq } from "../../../firmware-tools/lib/quantize/qdq-export.js";
import { decodeOutputInts, encodeInput } from "../../../firmware-tools/lib/quantize/sqnr.js";
import { loadLabelled } from "../../../firmware-tools/lib/compress/evaluate.js";
import { compileGraph } from "../../../firmware-tools/lib/compile/compile.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { Interpreter } from "../../../host/runtime/runtime.js";
import { executedKernels, loadOrt, qdqFused } from "../../../firmware-tools/lib/bench/ort-session.js";

const digits = join(__dirname, "../../../examples/digits");
const pre = { scale: 0.0625 };

function quantized(file: string) {
  const g = importOnnx(readFileSync(join(digits, file)), file);
  const calib = loadCalibration(join(digits, "calib.csv"), { elements: 64, limit: 256 });
  return { g, q: quantizeOnnx(g, calib, { preprocessing: pre }) };
}

/** Op types of the model ORT actually runs, read back from its optimized-model file. */
async function optimizedOps(qdq: Uint8Array): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "edgerun-qdq-"));
  try {
    const file = join(dir, "optimized.onnx");
    const s = await ort.InferenceSession.create(qdq, { intraOpNumThreads: 1, optimizedModelFilePath: file, logSeverityLevel: 3 });
    await s.release();
    return (decodeModel(readFileSync(file)).graph?.node ?? []).map((n) => n.opType ?? "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([["digits-mlp.onnx", "QGemm"], ["digits-cnn.onnx", "QLinearConv"]] as const)("QDQ export of %s", (file, kernel) => {
  it("onnxruntime-node fuses it and agrees with edgerun's int8 model within 2 LSB", async () => {
    const { g, q } = quantized(file);
    const qdq = exportQdq(g, q.graph);
    const ops = await optimizedOps(qdq);
    expect(ops).toContain(kernel);
    // Fused: only the input's QuantizeLinear and the output's DequantizeLinear stay.
    expect(ops.filter((o) => o === "DequantizeLinear").length).toBe(1);
    expect(ops.filter((o) => ["Conv", "Gemm", "MatMul", "Relu"].includes(o))).toEqual([]);

    const it = Interpreter.load(writeErm(compileGraph(cloneGraph(q.graph)).model), { build: "simd" });
    const session = await ort.InferenceSession.create(qdq, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const [inL, outL] = [q.layouts[0], q.layouts[q.layouts.length - 1]];
    const shape = g.tensor(g.inputs[0]).shape;
    let exact = 0, total = 0, worst = 0;
    for (const raw of loadLabelled(join(digits, "eval.csv"), 64).x.slice(0, 120)) {
      const x = applyPreprocessing(g, { [g.inputs[0]]: raw }, pre)[g.inputs[0]];
      const ours = decodeOutputInts(it.run(encodeInput(x, inL))[0], outL);
      const out = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", x, shape) });
      const theirs = Array.from(out[session.outputNames[0]].data as Float32Array, (v) => Math.round(v / outL.scale) + outL.zeroPoint);
      ours.forEach((v, i) => {
        const d = Math.abs(v - theirs[i]);
        worst = Math.max(worst, d);
        exact += d === 0 ? 1 : 0;
        total++;
      });
    }
    await session.release();
    expect(worst).toBeLessThanOrEqual(2);
    expect(exact / total).toBeGreaterThan(0.9);
  });

  it("onnxruntime-web (WASM, 1 thread) runs it fused, within 2 LSB of edgerun", async () => {
    const { g, q } = quantized(file);
    const qdq = exportQdq(g, q.graph);
    const shape = g.tensor(g.inputs[0]).shape;
    const [inL, outL] = [q.layouts[0], q.layouts[q.layouts.length - 1]];
    const it = Interpreter.load(writeErm(compileGraph(cloneGraph(q.graph)).model), { build: "simd" });
    const web = await loadOrt("web", qdq, shape);
    const xs = loadLabelled(join(digits, "eval.csv"), 64).x.slice(0, 20).map((raw) => applyPreprocessing(g, { [g.inputs[0]]: raw }, pre)[g.inputs[0]]);
    for (const x of xs) {
      const ours = decodeOutputInts(it.run(encodeInput(x, inL))[0], outL);
      const theirs = Array.from(await web.run(x), (v) => Math.round(v / outL.scale) + outL.zeroPoint);
      theirs.forEach((v, i) => expect(Math.abs(v - ours[i])).toBeLessThanOrEqual(2));
    }
    await web.release();
    const kernels = await executedKernels("web", qdq, xs[0], shape);
    expect(kernels).toContain(kernel);
    expect(qdqFused(kernels!, 1, 1)).toBe(true);
  });
});

describe("QDQ export on bad input", () => {
  it("refuses a lowered graph that is not the float graph's quantization, with a coded error", () => {
    const cnn = quantized("digits-cnn.onnx");
    const mlp = quantized("digits-mlp.onnx");
    let code = "none";
    try { exportQdq(cnn.g, mlp.q.graph); } catch (e) { code = (e as EdgerunError).code; }
    expect(code).toBe("QDQ_UNSUPPORTED");
  });
});
