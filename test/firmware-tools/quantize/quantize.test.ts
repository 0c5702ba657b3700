// The quantizer's API on bad input (coded errors, nothing written), calibration methods, the
// metadata it produces, and the calibration data loaders.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importOnnx } from "../../../firmware-tools/lib/import/onnx/import.js";
import { quantizeOnnx } from "../../../firmware-tools/lib/quantize/quantize.js";
import { loadCalibration } from "../../../firmware-tools/lib/quantize/data.js";
import { rangeFor, statsOf } from "../../../firmware-tools/lib/quantize/calibrate.js";
import { EdgerunError } from "../../../host/format/errors.js";

const mlp = () => importOnnx(readFileSync(join(__dirname, "../../fixtures/onnx/mlp.onnx")), "mlp");
const sample = (k: number) => Float32Array.from({ length: 16 }, (_, i) => Math.sin(i * 0.7 + k));
const code = (f: () => unknown): string => {
  try { f(); } catch (e) { return (e as EdgerunError).code; }
  return "none";
};

/** Deterministic standard normal draws (Box-Muller over a fixed LCG). */
function normals(n: number, seed = 1): Float64Array {
  let x = seed;
  const u = () => ((x = (x * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
  return Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe("calibration ranges", () => {
  it("entropy (KL) clips rare outliers that min-max keeps, keeps a uniform range, and does not collapse on ReLU zeros", () => {
    const g = normals(100000);
    const outliers = statsOf([...g, 40, -40]);
    const [lo, hi] = rangeFor(outliers, "entropy");
    expect(hi).toBeLessThan(0.4 * 40);
    expect(lo).toBeGreaterThan(-0.4 * 40);
    expect(hi).toBeGreaterThan(3); // still covers the body of the distribution
    expect(rangeFor(outliers, "minmax")).toEqual([-40, 40]);
    const uniform = statsOf(Float64Array.from({ length: 50000 }, (_, i) => (i % 1000) / 999));
    expect(rangeFor(uniform, "entropy")[1]).toBeGreaterThan(0.9);
    // After a ReLU: half exact zeros, half |normal|; the zero spike must not pull the range in.
    const relu = statsOf(Float64Array.from(g, (v, i) => (i % 2 ? Math.abs(v) : 0)));
    const [rlo, rhi] = rangeFor(relu, "entropy");
    expect(rlo).toBe(0);
    expect(rhi).toBeGreaterThan(2.5);
  });
});

describe("quantizeOnnx", () => {
  it("rejects empty, mismatched and NaN calibration sets and NaN weights with coded errors", () => {
    expect(code(() => quantizeOnnx(mlp(), []))).toBe("QUANT_EMPTY_CALIBRATION");
    expect(code(() => quantizeOnnx(mlp(), [new Float32Array(15)]))).toBe("QUANT_CALIBRATION_MISMATCH");
    expect(code(() => quantizeOnnx(mlp(), [Float32Array.from(sample(0), (v, i) => (i === 3 ? NaN : v))]))).toBe("QUANT_CALIBRATION_NAN");
    const g = mlp();
    const w = [...g.tensors.values()].find((t) => t.data && t.shape.length === 2)!;
    w.data![5] = NaN;
    expect(code(() => quantizeOnnx(g, [sample(0)]))).toBe("QUANT_NAN_WEIGHTS");
  });

  it("every method yields per-layer SQNR and the metadata devices use", () => {
    const calib = Array.from({ length: 16 }, (_, k) => sample(k));
    for (const method of ["minmax", "percentile", "mse", "entropy", "auto"] as const) {
      const r = quantizeOnnx(mlp(), calib, { method, preprocessing: { scale: 1, mean: [0.1], std: [2] } });
      expect(r.layers.length).toBeGreaterThanOrEqual(4);
      for (const l of r.layers) expect(l.sqnrDb, `${method} ${l.name}`).toBeGreaterThan(15);
      const cal = r.meta.calibration as { inputs: Array<{ proportions: number[] }> };
      expect(cal.inputs[0].proportions.length).toBe(32);
      expect(cal.inputs[0].proportions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(r.meta.preprocessing).toEqual({ scale: 1, mean: [0.1], std: [2] });
    }
  });
});

describe("calibration data loaders", () => {
  const dir = mkdtempSync(join(tmpdir(), "calib-"));
  it("reads CSV (header, label column), JSON Lines, raw float32 and .npy", () => {
    writeFileSync(join(dir, "a.csv"), "label,a,b,c\n1,0.5,1,2\n0,3,4,5\n");
    expect(loadCalibration(join(dir, "a.csv"), { elements: 3, dropColumn: 0 }).map((s) => Array.from(s))).toEqual([[0.5, 1, 2], [3, 4, 5]]);
    writeFileSync(join(dir, "a.jsonl"), "[[1,2],[3]]\n{\"input\": [4,5,6]}\n");
    expect(loadCalibration(join(dir, "a.jsonl"), { elements: 3 }).length).toBe(2);
    writeFileSync(join(dir, "a.bin"), Buffer.from(Float32Array.of(1, 2, 3, 4, 5, 6).buffer));
    expect(Array.from(loadCalibration(join(dir, "a.bin"), { elements: 3 })[1])).toEqual([4, 5, 6]);
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".padEnd(117) + "\n";
    const npy = Buffer.concat([Buffer.from([0x93]), Buffer.from("NUMPY"), Buffer.from([1, 0]), Buffer.from(Uint16Array.of(header.length).buffer), Buffer.from(header, "latin1"), Buffer.from(Float32Array.of(1, 2, 3, 4, 5, 6).buffer)]);
    writeFileSync(join(dir, "a.npy"), npy);
    expect(Array.from(loadCalibration(join(dir, "a.npy"), { elements: 3 })[0])).toEqual([1, 2, 3]);
  });

  it("names the cause of bad data", () => {
    writeFileSync(join(dir, "b.csv"), "1,2\n");
    expect(code(() => loadCalibration(join(dir, "b.csv"), { elements: 3 }))).toBe("DATA_SHAPE_MISMATCH");
    writeFileSync(join(dir, "c.csv"), "");
    expect(code(() => loadCalibration(join(dir, "c.csv"), { elements: 3 }))).toBe("DATA_EMPTY");
    expect(code(() => loadCalibration(join(dir, "missing.npy"), { elements: 3 }))).toBe("DATA_NOT_FOUND");
    writeFileSync(join(dir, "d.xyz"), "1");
    expect(code(() => loadCalibration(join(dir, "d.xyz"), { elements: 1 }))).toBe("DATA_UNKNOWN_FORMAT");
  });

  it("convert refuses a float ONNX model without calibration and names the fix", async () => {
    const { convertFile } = await import("../../../firmware-tools/lib/model/convert.js");
    expect(code(() => convertFile(join(__dirname, "../../fixtures/onnx/mlp.onnx")))).toBe("CONVERT_NEEDS_CALIBRATION");
  });
});
