// onnxruntime-node as the oracle on whole models (fixtures made by test/fixtures/onnx/make_fixtures.py):
// float models agree with ORT within the quantization error the quantizer reports (the output
// layer's SQNR), and ORT agrees with edgerun's float executor; a uint8 QOperator model agrees
// with ORT within 1 LSB (fixed-point requantization vs ORT's float rounding).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { importOnnx } from "../../firmware-tools/lib/import/onnx/import.js";
import { runFloat } from "../../firmware-tools/lib/quantize/float-exec.js";
import { quantizeOnnx } from "../../firmware-tools/lib/quantize/quantize.js";
import { compileGraph } from "../../firmware-tools/lib/compile/compile.js";
import { decodeOutput, encodeInput, sqnrDb } from "../../firmware-tools/lib/quantize/sqnr.js";
import { writeErm } from "../../host/format/erm-writer.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import { convertFile } from "../../firmware-tools/lib/model/convert.js";

const dir = join(__dirname, "../fixtures/onnx");

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
const gauss = (next: () => number) => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());

async function ortRun(file: string, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(join(dir, file), { intraOpNumThreads: 1 });
  const out = await s.run({ input: new ort.Tensor("float32", x, shape) });
  return out[s.outputNames[0]].data as Float32Array;
}

describe.each([["mlp.onnx", [1, 16]], ["cnn.onnx", [1, 1, 16, 16]]] as const)("%s against onnxruntime", (file, shape) => {
  it("agrees within the reported quantization error, both builds", async () => {
    const g = importOnnx(readFileSync(join(dir, file)), file);
    const next = rng(7);
    const n = shape.reduce((a, b) => a * b, 1);
    const make = () => Float32Array.from({ length: n }, () => gauss(next));
    const calib = Array.from({ length: 96 }, make), heldOut = Array.from({ length: 12 }, make);
    // The report's SQNR is measured on the first 12 calibration samples (against the float executor).
    const r = quantizeOnnx(g, calib, { method: "auto", sqnrSamples: 12 });
    const outLayer = r.layers.find((l) => l.output === g.outputs[0])!;
    expect(outLayer.sqnrDb).toBeGreaterThan(20);
    const bytes = writeErm(compileGraph(r.graph, { meta: r.meta as never }).model);
    const lin = r.layouts[0], lout = r.layouts[1];
    for (const [build, set, margin] of [["simd", calib.slice(0, 12), 0.5], ["mvp", calib.slice(0, 12), 0.5], ["simd", heldOut, 12]] as const) {
      const it = Interpreter.load(bytes, { build });
      let s = 0, e = 0;
      for (const x of set) {
        const want = await ortRun(file, x, shape.slice());
        const ours = runFloat(g, { [g.inputs[0]]: x }).get(g.outputs[0])!;
        want.forEach((v, i) => expect(Math.abs(v - ours[i]), "float executor vs ORT").toBeLessThan(1e-4 + 1e-4 * Math.abs(v)));
        const got = decodeOutput(it.run(encodeInput(x, lin))[0], lout);
        want.forEach((v, i) => { s += v * v; e += (v - got[i]) ** 2; });
      }
      // On the samples the report measured, ORT sees the reported error (0.5 dB for ORT's own float
      // rounding); held-out samples may leave the calibrated ranges, so they get a wide margin.
      expect(sqnrDb(s, e), `${build}: SQNR vs ORT (reported ${outLayer.sqnrDb.toFixed(1)} dB)`).toBeGreaterThan(outLayer.sqnrDb - margin);
    }
  });
});

describe("uint8 QOperator model against onnxruntime", () => {
  it("edgerun convert output is within 1 LSB of ORT, both builds", async () => {
    const conv = convertFile(join(dir, "qoperator.onnx"));
    const layouts = conv.model.meta.layouts as Parameters<typeof encodeInput>[1][];
    const next = rng(3);
    for (const build of ["simd", "mvp"] as const) {
      const it = Interpreter.load(conv.bytes, { build });
      let worst = 0;
      for (let k = 0; k < 8; k++) {
        const x = Float32Array.from({ length: 3 * 64 }, () => gauss(next));
        const want = await ortRun("qoperator.onnx", x, [1, 3, 8, 8]);
        const got = decodeOutput(it.run(encodeInput(x, layouts[0]))[0], layouts[1]);
        want.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - got[i]) / layouts[1].scale); });
      }
      expect(worst, build).toBeLessThanOrEqual(1 + 1e-6);
    }
  });
});
