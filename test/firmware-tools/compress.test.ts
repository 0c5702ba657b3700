// compress on the digits example (real data, onnxruntime as the float oracle), the report files,
// and every bad input of the issue: a clear error naming the cause and no output file left.

import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compressOnnx } from "../../firmware-tools/lib/compress/compress.js";
import { decodeModel, onnx } from "../../firmware-tools/lib/import/onnx/proto.js";
import { readErm } from "../../host/format/erm-reader.js";
import { inspectModel } from "../../firmware-tools/lib/model/inspect.js";
import { edgerun } from "../helpers/cli.js";

const ex = join(__dirname, "../../examples/digits");
const mlp = join(ex, "digits-mlp.onnx"), cnn = join(ex, "digits-cnn.onnx");
const calib = join(ex, "calib.csv"), evalCsv = join(ex, "eval.csv");
const dir = mkdtempSync(join(tmpdir(), "edgerun-compress-"));

describe("compress the digits MLP", () => {
  let r: Awaited<ReturnType<typeof compressOnnx>>;
  beforeAll(async () => {
    r = await compressOnnx(mlp, { calibPath: calib, evalPath: evalCsv, preprocessing: { scale: 1 / 16 }, prune: 0.7, pruneScope: "global", sparse: "auto", latencyRuns: 20 });
  });

  it("int8 keeps accuracy within 0.5 points of float (onnxruntime)", () => {
    expect(r.report.float.accuracy).toBeGreaterThan(0.95);
    expect(Math.abs(r.report.int8.accuracy! - r.report.float.accuracy!)).toBeLessThanOrEqual(0.005);
  });

  it("70% pruned + int8 stays within 1.5 points of float, and the file shrinks", () => {
    expect(r.report.pruning!.totalSparsity).toBeCloseTo(0.7, 2);
    expect(r.report.float.accuracy! - r.report.pruned!.accuracy!).toBeLessThanOrEqual(0.015);
    expect(r.report.pruned!.fileBytes).toBeLessThan(r.report.int8.fileBytes * 0.75);
    expect(r.report.int8.fileBytes).toBeLessThan(r.report.float.fileBytes / 3);
  });

  it("stored for size (--sparse size), the 70% pruned .erm is at least 8x smaller than the float ONNX file", async () => {
    const small = await compressOnnx(mlp, { calibPath: calib, evalPath: evalCsv, preprocessing: { scale: 1 / 16 }, prune: 0.7, pruneScope: "global", sparse: "size", latencyRuns: 5 });
    expect(small.report.pruned!.fileBytes).toBe(small.bytes.length);
    expect(small.bytes.length * 8).toBeLessThanOrEqual(readFileSync(mlp).length);
    expect(small.report.float.accuracy! - small.report.pruned!.accuracy!).toBeLessThanOrEqual(0.015);
    expect(small.report.layers.map((l) => l.encoding)).toContain("sparse coded, expanded at load");
    // inspect reads the same labels back from the file
    expect(inspectModel(readErm(small.bytes), small.bytes.length).ops.map((o) => o.encoding)).toEqual(small.report.layers.map((l) => l.encoding));
  });

  it("reports layers, SQNR, latency in both builds, and metadata devices need", () => {
    expect(r.report.layers).toHaveLength(3);
    for (const l of r.report.layers) {
      expect(l.sqnrDb).toBeGreaterThan(30);
      expect(l.effectiveMacs).toBeLessThan(l.macs);
    }
    expect(r.report.pruned!.latencyUs!.simd).toBeGreaterThan(0);
    expect(r.report.pruned!.latencyUs!.mvp).toBeGreaterThan(0);
    const m = readErm(r.bytes);
    expect(m.meta.preprocessing).toMatchObject({ scale: 1 / 16 });
    expect(m.meta.calibration).toBeTruthy();
    expect(m.golden.length).toBe(1);
  });
});

describe("edgerun compress (CLI)", () => {
  it("writes the .erm and the JSON and HTML reports", () => {
    const out = join(dir, "cnn.erm"), json = join(dir, "r.json"), html = join(dir, "r.html");
    const r = edgerun("compress", cnn, "--calib", calib, "--eval", evalCsv, "--scale", "0.0625", "-o", out, "--calib-method", "auto", "--report", json, html);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/float ONNX[\s\S]*\nint8 /);
    const j = JSON.parse(readFileSync(json, "utf8"));
    expect(j.int8.accuracy).toBeGreaterThan(0.97);
    expect(readFileSync(html, "utf8")).toMatch(/<table>/);
    expect(readErm(readFileSync(out)).ops.length).toBeGreaterThan(2);
  });

  const bad = (name: string, args: string[], code: number, message: RegExp) =>
    it(name, () => {
      const out = join(dir, `${name.replace(/\W+/g, "-")}.erm`);
      const r = edgerun("compress", ...args.map((a) => (a === "OUT" ? out : a)));
      expect(r.code, r.stdout + r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    });

  const nanModel = join(dir, "nan.onnx"), badShape = join(dir, "shape.csv"), emptyCsv = join(dir, "empty.csv");
  const unsupported = join(dir, "unsupported.onnx");
  beforeAll(() => {
    const m = decodeModel(readFileSync(mlp));
    const w = m.graph!.initializer!.find((t) => (t.dims ?? []).length === 2)!;
    const f = new Float32Array(new Uint8Array(w.rawData!).slice().buffer);
    f[3] = NaN;
    w.rawData = new Uint8Array(f.buffer);
    writeFileSync(nanModel, onnx.ModelProto.encode(m).finish());
    const u = decodeModel(readFileSync(mlp));
    u.graph!.node![1].opType = "Erf";
    writeFileSync(unsupported, onnx.ModelProto.encode(u).finish());
    writeFileSync(badShape, "1,2,3\n4,5,6\n");
    writeFileSync(emptyCsv, "");
  });
  bad("NaN weights", [nanModel, "--calib", calib, "-o", "OUT"], 1, /QUANT_NAN_WEIGHTS/);
  bad("unsupported op", [unsupported, "--calib", calib, "-o", "OUT"], 1, /CONVERT_UNSUPPORTED: .*Erf/);
  bad("calibration rows of the wrong size", [mlp, "--calib", badShape, "-o", "OUT"], 1, /DATA_SHAPE_MISMATCH/);
  bad("empty calibration set", [mlp, "--calib", emptyCsv, "-o", "OUT"], 1, /DATA_EMPTY|QUANT_EMPTY_CALIBRATION/);
  bad("sparsity out of range", [mlp, "--calib", calib, "-o", "OUT", "--prune", "1.5"], 1, /PRUNE_BAD_SPARSITY/);
  bad("max-drop without eval data", [mlp, "--calib", calib, "-o", "OUT", "--prune", "0.5", "--max-drop", "1"], 1, /PRUNE_NEEDS_EVAL/);
  bad("bad N:M", [mlp, "--calib", calib, "-o", "OUT", "--nm", "4:2"], 1, /PRUNE_BAD_PATTERN/);
  bad("missing model", [join(dir, "none.onnx"), "--calib", calib, "-o", "OUT"], 1, /CLI_FILE_NOT_FOUND/);
  bad("unknown calibration method", [mlp, "--calib", calib, "-o", "OUT", "--calib-method", "magic"], 1, /--calib-method/);
  bad("missing --calib", [mlp, "-o", "OUT"], 2, /--calib/);
});
