// The coded sparse encoding (kind 2: the bitmap's content range coded): bit-exact round trips
// TypeScript encoder -> TypeScript decoder and -> the runtime's decoder (both builds, both flag
// models) on matrices of varied shape, sparsity and pattern; sizes against the bitmap; and the two
// decoders agreeing on every single-bit flip of a stream. Damaged files: sparse-weights.test.ts.

import { describe, expect, it } from "vitest";
import { DType, Opcode } from "../../../host/format/opcodes.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { readErm } from "../../../host/format/erm-reader.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import { quantizeMultiplier, requantBytes } from "../../../host/format/quant-params.js";
import { SPARSE_KIND_CODED, bitmapBytes, decodeSparse, encodeCoded, sparseHeader } from "../../../host/format/sparse-weights.js";
import { CODED_MAX_DECISIONS_PER_BYTE, CODED_MODEL_DENSITY, CODED_MODEL_PATTERN } from "../../../host/format/sparse-coded.js";
import { Interpreter } from "../../../host/runtime/runtime.js";
import { Graph } from "../../../firmware-tools/lib/compile/graph.js";
import { compileGraph } from "../../../firmware-tools/lib/compile/compile.js";
import { toSparseOp } from "../../../firmware-tools/lib/compile/sparse-encode.js";
import { rng } from "../../../firmware-tools/lib/bench/sparse-layer.js";
import { applyMask, magnitudeMask, nmMask } from "../../../firmware-tools/lib/prune/mask.js";
import { RawRuntime } from "../../helpers/runtime-raw.js";
import { tsCode } from "../../helpers/erm-patch.js";

/** Laplacian-ish int8 weights (small magnitudes common, as in trained layers), a share `s` zeroed by magnitude. */
function weights(rows: number, cols: number, s: number, seed: number): Int8Array {
  const r = rng(seed);
  const w = Int8Array.from({ length: rows * cols }, () => {
    const v = Math.round(Math.log(1 - r()) * 30 * (r() < 0.5 ? -1 : 1));
    return Math.max(-128, Math.min(127, v)) || 1;
  });
  return s > 0 ? applyMask(w, magnitudeMask(w, s)) : w;
}

const CASES: [name: string, rows: number, cols: number, w: Int8Array][] = [
  ["unstructured 70%, 16x64", 16, 64, weights(16, 64, 0.7, 1)],
  ["unstructured 30%, 9x13 (cols off 8)", 9, 13, weights(9, 13, 0.3, 2)],
  ["unstructured 95%, 32x200", 32, 200, weights(32, 200, 0.95, 3)],
  ["unstructured 50%, 5x1027", 5, 1027, weights(5, 1027, 0.5, 4)],
  ["2:4, 16x64", 16, 64, (() => { const w = weights(16, 64, 0, 5); return applyMask(w, nmMask(w, 16, 64, 2, 4)); })()],
  ["4x8 blocks 75%, 16x64", 16, 64, (() => { const w = weights(16, 64, 0, 6); return applyMask(w, magnitudeMask(w, 0.75, { rows: 16, cols: 64, block: [4, 8] })); })()],
  ["empty rows (first, middle, last), 12x20", 12, 20, (() => { const w = weights(12, 20, 0.6, 7); for (const r of [0, 5, 11]) w.fill(0, r * 20, r * 20 + 20); return w; })()],
  ["all zero, 8x24", 8, 24, new Int8Array(8 * 24)],
  ["fully dense, 8x24", 8, 24, weights(8, 24, 0, 8)],
  ["extremes -128 / 127 / -1 / 1 only, 6x10", 6, 10, Int8Array.from({ length: 60 }, (_, i) => [-128, 127, -1, 1, 0][i % 5])],
  ["one row, 1x77", 1, 77, weights(1, 77, 0.6, 9)],
  ["one column, 40x1", 40, 1, weights(40, 1, 0.5, 10)],
  ["1x1 stored -128", 1, 1, Int8Array.of(-128)],
  ["1x1 empty", 1, 1, Int8Array.of(0)],
];
const MODELS: [string, number | undefined][] = [["smaller model", undefined], ["density model", CODED_MODEL_DENSITY], ["pattern model", CODED_MODEL_PATTERN]];

/** Batches of the probe: identity rows per run. */
const PROBE_BATCHES = 64;

/**
 * A probe: FULLY_CONNECTED with weights w, multiplier 1, no bias or offsets, run on rows of the
 * identity: output row b is weight column b, so the outputs are w transposed, byte for byte.
 */
function probeModel(w: Int8Array, rows: number, cols: number): ErmModel {
  const g = new Graph("probe");
  const batches = Math.min(cols, PROBE_BATCHES);
  const x = g.addArena("input", DType.INT8, [batches, cols]);
  const q = quantizeMultiplier(1);
  const wt = g.addConstant("weights", DType.INT8, [rows, cols], new Uint8Array(w.buffer, w.byteOffset, w.length));
  const rq = requantBytes(new Array(rows).fill(q));
  const mult = g.addConstant("mult", DType.INT32, [rows], rq.mult);
  const shift = g.addConstant("shift", DType.INT8, [rows], rq.shift);
  const y = g.addArena("output", DType.INT8, [batches, rows]);
  for (const t of [x, y]) Object.assign(g.tensors[t], { scale: 1, zeroPoint: 0 });
  g.inputs = [x];
  g.outputs = [y];
  g.ops.push({ opcode: Opcode.FULLY_CONNECTED, inputs: [x, wt, -1, mult, shift], outputs: [y], params: [0, 0, -128, 127], scratch: -1, source: [0] });
  return compileGraph(g).model;
}

/** The probe with its weights as the given coded blob (run bits 0: expanded at load). */
function codedProbe(dense: ErmModel, blob: Uint8Array): Uint8Array {
  const tensors = dense.tensors.map((t) => ({ ...t }));
  const op = toSparseOp(dense.ops[0], tensors, "coded", 0);
  Object.assign(tensors[op.inputs[1]], { data: blob, shape: [blob.length] });
  return writeErm({ ...dense, tensors, ops: [op] });
}

function transposed(w: Int8Array, rows: number, cols: number): Uint8Array {
  const t = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c] & 0xff;
  return t;
}

/** The matrix as the probe sees it: w transposed, from identity windows of PROBE_BATCHES columns. */
function probe(bytes: Uint8Array, build: "simd" | "mvp", rows: number, cols: number): Uint8Array {
  const it = Interpreter.load(bytes, { build });
  const batches = Math.min(cols, PROBE_BATCHES);
  const out = new Uint8Array(rows * cols);
  for (let at = 0; at < cols; at += batches) {
    const x = new Uint8Array(batches * cols);
    for (let b = 0; b < batches && at + b < cols; b++) x[b * cols + at + b] = 1;
    const y = it.run(x)[0];
    out.set(y.subarray(0, Math.min(batches, cols - at) * rows), at * rows);
  }
  return out;
}

describe("coded sparse weights: round trips", () => {
  it.each(CASES)("%s: TypeScript encode -> decode, each flag model", (_name, rows, cols, w) => {
    for (const [how, model] of MODELS) {
      const blob = encodeCoded(w, rows, cols, model);
      const h = sparseHeader(blob);
      expect(h, how).toMatchObject({ rows, cols, blockRows: 1, blockCols: 1, kind: SPARSE_KIND_CODED, blocks: w.filter((v) => v !== 0).length });
      if (model !== undefined) expect(blob[7]).toBe(model);
      expect(new DataView(blob.buffer).getUint32(12, true)).toBe(blob.length - 16);
      expect(Array.from(decodeSparse(blob, rows, cols)), how).toEqual(Array.from(w));
    }
  });

  it.each(CASES)("%s: TypeScript encode -> runtime decode, both builds, each flag model (probe: the output is the matrix)", (_name, rows, cols, w) => {
    const dense = probeModel(w, rows, cols);
    const expected = transposed(w, rows, cols);
    for (const build of ["simd", "mvp"] as const) expect(probe(writeErm(dense), build, rows, cols), `dense ${build}`).toEqual(expected);
    for (const [how, model] of MODELS) {
      const bytes = codedProbe(dense, encodeCoded(w, rows, cols, model));
      readErm(bytes);
      for (const build of ["simd", "mvp"] as const) expect(probe(bytes, build, rows, cols), `${how} ${build}`).toEqual(expected);
    }
  });
});

describe("coded sparse weights: sizes", () => {
  it("pruned weights: smaller than the bitmap (the density model); N:M and blocks: the pattern model, far smaller", () => {
    const nz = (w: Int8Array) => w.filter((v) => v !== 0).length;
    for (const s of [0.3, 0.5, 0.7, 0.9]) {
      const w = weights(64, 256, s, 11);
      const blob = encodeCoded(w, 64, 256);
      expect(blob.length, `${s}`).toBeLessThan(bitmapBytes(64, 256, nz(w)) * 0.95);
    }
    const nm = weights(64, 256, 0, 12);
    applyMask(nm, nmMask(nm, 64, 256, 2, 4));
    const nmBlob = encodeCoded(nm, 64, 256);
    expect(nmBlob[7]).toBe(CODED_MODEL_PATTERN);
    expect(nmBlob.length).toBeLessThan(bitmapBytes(64, 256, nz(nm)) - 64 * 256 / 8 / 3); // flags: log2(6) / 4 bits per weight, not 1
    const blocks = weights(64, 256, 0, 13);
    applyMask(blocks, magnitudeMask(blocks, 0.7, { rows: 64, cols: 256, block: [4, 8] }));
    const blBlob = encodeCoded(blocks, 64, 256);
    expect(blBlob[7]).toBe(CODED_MODEL_PATTERN);
    expect(blBlob.length).toBeLessThan(bitmapBytes(64, 256, nz(blocks)) - 64 * 256 / 8 * 0.8);
  });

  it("a stream holds fewer than CODED_MAX_DECISIONS_PER_BYTE decisions per byte (the readers' bound before decoding)", () => {
    for (const [rows, cols] of [[1000, 1000], [65535, 3], [2, 65535]]) {
      const blob = encodeCoded(new Int8Array(rows * cols), rows, cols);
      const streamBytes = blob.length - 16;
      expect(rows * cols).toBeLessThan(CODED_MAX_DECISIONS_PER_BYTE * streamBytes);
      expect(rows * cols).toBeGreaterThan((CODED_MAX_DECISIONS_PER_BYTE - 20) * (streamBytes - 5)); // and the bound is close
      expect(decodeSparse(blob, rows, cols).every((v) => v === 0)).toBe(true);
    }
  });
});

describe("coded sparse weights: the two decoders agree", () => {
  const rows = 12, cols = 20;
  const w = weights(rows, cols, 0.6, 14);
  const dense = probeModel(w, rows, cols);
  const rt = { simd: new RawRuntime("simd"), mvp: new RawRuntime("mvp") };
  it.each(MODELS.slice(1))("every single-bit flip of a %s stream: the same code in the TypeScript reader and both builds", (_how, model) => {
    const blob = encodeCoded(w, rows, cols, model);
    const seen = new Set<string>();
    for (let at = 16; at < blob.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = blob.slice();
        b[at] ^= 1 << bit;
        const bytes = codedProbe(dense, b);
        const ts = tsCode(bytes);
        seen.add(ts);
        expect(rt.simd.load(bytes), `byte ${at} bit ${bit}`).toBe(ts);
        expect(rt.mvp.load(bytes), `byte ${at} bit ${bit}`).toBe(ts);
        if (ts !== "OK") continue;
        // A flip the checks cannot see (the coder's last bytes carry slack): both decode the same matrix.
        const expected = transposed(decodeSparse(b, rows, cols), rows, cols);
        for (const build of ["simd", "mvp"] as const) expect(probe(bytes, build, rows, cols), `byte ${at} bit ${bit} ${build}`).toEqual(expected);
      }
    }
    expect(seen.has("ERM_BAD_PARAMS")).toBe(true);
  });
});
