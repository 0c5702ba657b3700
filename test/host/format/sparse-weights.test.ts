// The sparse weight encoding: round trips, size against sparsity, and hostile blobs (both
// readers give an ERM_* code, the runtime never reads outside the input or the blob).

import { describe, expect, it } from "vitest";
import { writeErm } from "../../../host/format/erm-writer.js";
import { readErm } from "../../../host/format/erm-reader.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { decodeSparse, encodeSparse, sparseHeader, SparseBlock } from "../../../host/format/sparse-weights.js";
import { compileGraph } from "../../../firmware-tools/lib/compile/compile.js";
import { rng, sparseLayerGraph } from "../../../firmware-tools/lib/bench/sparse-layer.js";
import { applyMask, magnitudeMask } from "../../../firmware-tools/lib/prune/mask.js";
import { patch, sectionSpan, tensorRecord, fixCrc } from "../../helpers/erm-patch.js";
import { RawRuntime } from "../../helpers/runtime-raw.js";

function randomSparse(rows: number, cols: number, s: number, seed: number): Int8Array {
  const r = rng(seed);
  return Int8Array.from({ length: rows * cols }, () => (r() < s ? 0 : Math.floor(r() * 255) - 127));
}

describe("encoding", () => {
  it.each([[[1, 1]], [[4, 8]], [[2, 16]], [[8, 1]]] as [SparseBlock][])("round-trips %j blocks, including gaps over 255 columns", (block) => {
    for (const [rows, cols, s] of [[8, 16, 0.5], [16, 2048, 0.995], [8, 64, 0], [8, 64, 1]]) {
      const w = randomSparse(rows, cols, s, rows + cols);
      const dense = w.slice();
      // Zero whole blocks so the block encodings see block structure too.
      expect(Array.from(decodeSparse(encodeSparse(w, rows, cols, block), rows, cols))).toEqual(Array.from(dense));
    }
  });

  it("file size falls with sparsity and is below dense from about 50% (1x1) / 10% (4x8)", () => {
    const rows = 256, cols = 256;
    let last = Infinity;
    for (const s of [0.3, 0.5, 0.7, 0.9]) {
      const w = randomSparse(rows, cols, s, 5);
      const bytes = encodeSparse(w, rows, cols, [1, 1]).length;
      expect(bytes).toBeLessThan(last);
      last = bytes;
      if (s >= 0.5) expect(bytes).toBeLessThan(rows * cols * 1.05);
      const b = w.slice();
      applyMask(b, magnitudeMask(b, s, { rows, cols, block: [4, 8] }));
      expect(encodeSparse(b, rows, cols, [4, 8]).length).toBeLessThan(rows * cols * (1 - s) + 2000);
    }
  });

  it("refuses blocks that do not tile the matrix", () => {
    expect(() => encodeSparse(new Int8Array(12), 3, 4, [2, 2])).toThrow(EdgerunError);
    expect(() => encodeSparse(new Int8Array(12), 3, 4, [3, 1])).toThrow(/SPARSE_BAD_BLOCK/);
  });
});

// A sparse FC 64 -> 8 (1x1 blocks, 60% zeros) and where its blob sits in the file.
const layer = sparseLayerGraph({ kind: "fc", K: 64, N: 8, seed: 4 });
applyMask(layer.weights, magnitudeMask(layer.weights, 0.6));
const model = compileGraph(layer.g, { sparse: "always" }).model;
const good = writeErm(model);
const wT = model.ops[0].inputs[1];
const blobAt = sectionSpan(good, "WGTS").offset + new DataView(good.buffer).getUint32(tensorRecord(good, wT) + 28, true);
const hdr = sparseHeader(model.tensors[wT].data!);
const countsAt = blobAt + 16, stepsAt = countsAt + 2 * (hdr.rows / hdr.blockRows);

function tsCode(bytes: Uint8Array): string {
  try {
    readErm(bytes);
    return "OK";
  } catch (e) {
    if (e instanceof EdgerunError) return e.code;
    throw e;
  }
}

// [name, file, TypeScript reader code, runtime code]: the TypeScript reader checks the blob on its
// own; the runtime also checks it against the op's shapes.
const damaged: [string, Uint8Array, string, string?][] = [
  ["rows not the op's output channels", patch(good, (dv) => dv.setUint16(blobAt, 9, true)), "ERM_BAD_PARAMS", "ERM_SHAPE_MISMATCH"],
  ["block rows 3", patch(good, (dv) => dv.setUint8(blobAt + 4, 3)), "ERM_BAD_TENSOR"],
  ["block cols 0", patch(good, (dv) => dv.setUint8(blobAt + 5, 0)), "ERM_BAD_TENSOR"],
  ["reserved header bytes set", patch(good, (dv) => dv.setUint16(blobAt + 6, 1, true)), "ERM_BAD_TENSOR"],
  ["block total above the matrix", patch(good, (dv) => dv.setUint32(blobAt + 8, 10000, true)), "ERM_BAD_PARAMS"],
  ["block total not matching the length", patch(good, (dv) => dv.setUint32(blobAt + 8, hdr.blocks - 1, true)), "ERM_BAD_TENSOR"],
  ["group count past the block total", patch(good, (dv) => dv.setUint16(countsAt, 500, true)), "ERM_BAD_PARAMS"],
  ["group counts short of the total", patch(good, (dv) => dv.setUint16(countsAt, dv.getUint16(countsAt, true) - 1, true)), "ERM_BAD_PARAMS"],
  ["column step past the input", patch(good, (dv) => dv.setUint8(stepsAt + 1, 200)), "ERM_BAD_PARAMS"],
  ["column step 0 (columns must rise)", patch(good, (dv) => dv.setUint8(stepsAt + 1, 0)), "ERM_BAD_PARAMS"],
  ["blob shorter than its header", patch(good, (dv) => { dv.setUint32(tensorRecord(good, wT) + 4, 8, true); dv.setUint32(tensorRecord(good, wT) + 32, 8, true); }), "ERM_BAD_TENSOR"],
];

describe("hostile sparse weights", () => {
  const runtimes = { simd: new RawRuntime("simd"), mvp: new RawRuntime("mvp") };
  it("the good file loads and runs in both builds", () => {
    expect(tsCode(good)).toBe("OK");
    expect(runtimes.simd.load(good)).toBe("OK");
    expect(runtimes.mvp.load(good)).toBe("OK");
  });

  it.each(damaged)("%s", (_name, bytes, code, rtCode = code) => {
    expect(tsCode(bytes)).toBe(code);
    expect(runtimes.simd.load(bytes)).toBe(rtCode);
    expect(runtimes.mvp.load(bytes)).toBe(rtCode);
  });

  it("20,000 mutations of the blob: typed errors or a clean run, never a trap", () => {
    const r = rng(77);
    const len = model.tensors[wT].data!.length;
    for (let i = 0; i < 20000; i++) {
      const f = good.slice();
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) f[blobAt + Math.floor(r() * Math.min(len, 64))] = Math.floor(r() * 256);
      fixCrc(f);
      const ts = tsCode(f);
      const rt = [runtimes.simd, runtimes.mvp][i & 1].load(f);
      expect(rt.startsWith("INVOKE_")).toBe(false);
      expect(ts === "OK" || ts.startsWith("ERM_")).toBe(true);
      expect(rt === "OK" || rt.startsWith("ERM_")).toBe(true);
    }
  });
});
