// The sparse weight encoding: round trips, size against sparsity, and hostile blobs (both
// readers give an ERM_* code, the runtime never reads outside the input or the blob), whether a
// build runs the sparse kernel or expands the blob to dense weights at load (run bits). The coded
// encoding's own round trips are in sparse-coded.test.ts; its damaged files are here.

import { describe, expect, it } from "vitest";
import { writeErm } from "../../../host/format/erm-writer.js";
import { Opcode } from "../../../host/format/opcodes.js";
import { EdgerunError } from "../../../host/format/errors.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import { SPARSE_RUN_ALL, SPARSE_RUN_MVP, SPARSE_RUN_SIMD, bitmapBytes, decodeSparse, encodeBitmap, encodeSparse, sparseHeader, SparseBlock } from "../../../host/format/sparse-weights.js";
import { encodeCodedStream } from "../../../host/format/sparse-coded.js";
import { compileGraph } from "../../../firmware-tools/lib/compile/compile.js";
import { toSparseOp } from "../../../firmware-tools/lib/compile/sparse-encode.js";
import { rng, sparseLayerGraph } from "../../../firmware-tools/lib/bench/sparse-layer.js";
import { applyMask, magnitudeMask } from "../../../firmware-tools/lib/prune/mask.js";
import { patch, sectionSpan, tensorRecord, fixCrc, tsCode } from "../../helpers/erm-patch.js";
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

  it("compiled (auto): the file shrinks with sparsity for unstructured and block pruning, whichever kernel runs", () => {
    const size = (s: number, block?: [number, number]) => {
      const l = sparseLayerGraph({ kind: "conv1x1", K: 64, N: 64, h: 5, w: 5, seed: 9 });
      applyMask(l.weights, magnitudeMask(l.weights, s, { rows: 64, cols: 64, block }));
      // Dense measured faster everywhere: stored sparse all the same, run dense (expanded) in both builds.
      return writeErm(compileGraph(l.g, { sparse: "auto", sparseSelect: { measure: (m) => (m.ops[0].opcode === Opcode.CONV_2D ? 1 : 2) } }).model).length;
    };
    for (const block of [undefined, [4, 8]] as const) {
      const sizes = [0, 0.5, 0.7, 0.9].map((s) => size(s, block as [number, number] | undefined));
      expect(sizes[1]).toBeLessThanOrEqual(sizes[0]);
      expect(sizes[2]).toBeLessThan(sizes[1]);
      expect(sizes[3]).toBeLessThan(sizes[2]);
      expect(sizes[0] - sizes[3]).toBeGreaterThan(64 * 64 * (block ? 0.8 : 0.7));
    }
  });

  it("bitmap: round-trips any shape (columns off 8, empty and full rows)", () => {
    for (const [rows, cols, s] of [[8, 16, 0.5], [3, 13, 0.7], [16, 2048, 0.995], [8, 64, 0], [8, 64, 1], [1, 1, 0.5], [5, 9, 0.9]]) {
      const w = randomSparse(rows, cols, s, rows * 7 + cols);
      if (rows > 2) w.fill(0, 0, cols); // an empty row
      const blob = encodeBitmap(w, rows, cols);
      let nz = 0;
      for (const v of w) if (v) nz++;
      expect(blob.length).toBe(16 + rows * Math.ceil(cols / 8) + nz);
      expect(Array.from(decodeSparse(blob, rows, cols))).toEqual(Array.from(w));
    }
  });

  it("bitmap: 1/8 + (1 - s) bytes per weight, falls with sparsity, smaller than 1x1 blocks (2 bytes per nonzero) below 87.5%", () => {
    const rows = 256, cols = 256;
    let last = Infinity;
    for (const s of [0.3, 0.5, 0.7, 0.8, 0.9]) {
      const w = randomSparse(rows, cols, s, 5);
      const bytes = encodeBitmap(w, rows, cols).length;
      expect(bytes).toBeLessThan(last);
      last = bytes;
      expect(bytes / (rows * cols)).toBeCloseTo(0.125 + (1 - s), 1);
      if (s <= 0.8) expect(bytes).toBeLessThan(encodeSparse(w, rows, cols, [1, 1]).length);
      else expect(bytes).toBeGreaterThan(encodeSparse(w, rows, cols, [1, 1]).length);
      expect(bytes).toBe(bitmapBytes(rows, cols, rows * cols - w.filter((v) => v === 0).length));
    }
  });

  it("compiled (auto): unstructured weights run dense are stored coded (smaller than the bitmap); a build running sparse keeps blocks", () => {
    const compile = (s: number, faster: "dense" | "sparse") => {
      const l = sparseLayerGraph({ kind: "fc", K: 256, N: 64, seed: 3 });
      applyMask(l.weights, magnitudeMask(l.weights, s, { rows: 64, cols: 256 }));
      return compileGraph(l.g, { sparse: "auto", sparseSelect: { measure: (m) => ((m.ops[0].opcode === Opcode.FULLY_CONNECTED) === (faster === "dense") ? 1 : 2) } });
    };
    const dense = writeErm(compileGraph(sparseLayerGraph({ kind: "fc", K: 256, N: 64, seed: 3 }).g).model).length;
    for (const s of [0.2, 0.5, 0.7, 0.8, 0.95]) {
      const c = compile(s, "dense");
      expect(c.encodings![0]).toMatchObject({ storage: "sparse", encoding: "coded", runSparse: { simd: false, mvp: false } });
      const nz = Math.round(64 * 256 * (1 - s));
      expect(c.encodings![0].sparseBytes).toBeLessThan(Math.min(bitmapBytes(64, 256, nz), 16 + 2 * 64 + 2 * nz)); // below the bitmap and 1x1 blocks
      expect(writeErm(c.model).length).toBeLessThan(dense - 64 * 256 * (s - 0.14));
    }
    const fast = compile(0.7, "sparse");
    expect(fast.encodings![0]).toMatchObject({ encoding: "blocks", runSparse: { simd: true, mvp: true } });
    expect(fast.model.ops[0].params.at(-1)).toBe(SPARSE_RUN_ALL);
    // "size": the smallest encoding whatever the kernels would gain (coded: untimed, run dense).
    const l = sparseLayerGraph({ kind: "fc", K: 256, N: 64, seed: 3 });
    applyMask(l.weights, magnitudeMask(l.weights, 0.7, { rows: 64, cols: 256 }));
    const small = compileGraph(l.g, { sparse: "size", sparseSelect: { measure: () => { throw new Error("timed"); } } });
    expect(small.encodings![0]).toMatchObject({ encoding: "coded", runSparse: { simd: false, mvp: false } });
    expect(writeErm(small.model).length).toBeLessThan(writeErm(fast.model).length - 64 * 256 * 0.15);
  });

  it("refuses blocks that do not tile the matrix", () => {
    expect(() => encodeSparse(new Int8Array(12), 3, 4, [2, 2])).toThrow(EdgerunError);
    expect(() => encodeSparse(new Int8Array(12), 3, 4, [3, 1])).toThrow(/SPARSE_BAD_BLOCK/);
  });
});

// A sparse FC 64 -> 8 (1x1 blocks, 60% zeros) and where its blob and run bits sit in the file.
const layer = sparseLayerGraph({ kind: "fc", K: 64, N: 8, seed: 4 });
applyMask(layer.weights, magnitudeMask(layer.weights, 0.6));
const model = compileGraph(layer.g, { sparse: "always" }).model;
const good = writeErm(model);
const wT = model.ops[0].inputs[1];
const blobAt = sectionSpan(good, "WGTS").offset + new DataView(good.buffer).getUint32(tensorRecord(good, wT) + 28, true);
const runAt = sectionSpan(good, "PARM").offset + 4 + 4 * (model.ops[0].params.length - 1);
const hdr = sparseHeader(model.tensors[wT].data!);
const countsAt = blobAt + 16, stepsAt = countsAt + 2 * (hdr.rows / hdr.blockRows);
/** The same file with other run bits (same layout: only the last parameter word differs). */
const withRun = (bits: number) => patch(good, (dv) => dv.setInt32(runAt, bits, true));


// [name, file, TypeScript reader code, runtime code]: the TypeScript reader checks the blob on its
// own; the runtime also checks it against the op's shapes.
const damage: [string, (f: Uint8Array) => Uint8Array, string, string?][] = [
  ["rows not the op's output channels", (f: Uint8Array) => patch(f, (dv) => dv.setUint16(blobAt, 9, true)), "ERM_BAD_PARAMS", "ERM_SHAPE_MISMATCH"],
  ["block rows 3", (f: Uint8Array) => patch(f, (dv) => dv.setUint8(blobAt + 4, 3)), "ERM_BAD_TENSOR"],
  ["block cols 0", (f: Uint8Array) => patch(f, (dv) => dv.setUint8(blobAt + 5, 0)), "ERM_BAD_TENSOR"],
  ["reserved header bytes set", (f: Uint8Array) => patch(f, (dv) => dv.setUint16(blobAt + 6, 1, true)), "ERM_BAD_TENSOR"],
  ["block total above the matrix", (f: Uint8Array) => patch(f, (dv) => dv.setUint32(blobAt + 8, 10000, true)), "ERM_BAD_PARAMS"],
  ["block total not matching the length", (f: Uint8Array) => patch(f, (dv) => dv.setUint32(blobAt + 8, hdr.blocks - 1, true)), "ERM_BAD_TENSOR"],
  ["group count past the block total", (f: Uint8Array) => patch(f, (dv) => dv.setUint16(countsAt, 500, true)), "ERM_BAD_PARAMS"],
  ["group counts short of the total", (f: Uint8Array) => patch(f, (dv) => dv.setUint16(countsAt, dv.getUint16(countsAt, true) - 1, true)), "ERM_BAD_PARAMS"],
  ["column step past the input", (f: Uint8Array) => patch(f, (dv) => dv.setUint8(stepsAt + 1, 200)), "ERM_BAD_PARAMS"],
  ["column step 0 (columns must rise)", (f: Uint8Array) => patch(f, (dv) => dv.setUint8(stepsAt + 1, 0)), "ERM_BAD_PARAMS"],
  ["blob shorter than its header", (f: Uint8Array) => patch(f, (dv) => { dv.setUint32(tensorRecord(good, wT) + 4, 8, true); dv.setUint32(tensorRecord(good, wT) + 32, 8, true); }), "ERM_BAD_TENSOR"],
  ["run bits beyond the two builds", (f: Uint8Array) => patch(f, (dv) => dv.setInt32(runAt, 4, true)), "ERM_BAD_PARAMS"],
  ["run bits negative", (f: Uint8Array) => patch(f, (dv) => dv.setInt32(runAt, -1, true)), "ERM_BAD_PARAMS"],
];
const RUNS: [string, number][] = [["both sparse", SPARSE_RUN_ALL], ["both expanded", 0], ["simd sparse, mvp expanded", SPARSE_RUN_SIMD], ["mvp sparse, simd expanded", SPARSE_RUN_MVP]];
const damaged = RUNS.flatMap(([how, bits]) => damage.map(([name, fn, code, rt]) => [`${how}: ${name}`, fn(withRun(bits)), code, rt] as [string, Uint8Array, string, string?]));

// An FC 60 -> 8 (60 columns: 4 unused bits per bitmap row; 70% zeros) stored as the bitmap and
// coded, expanded in both builds.
const bmLayer = sparseLayerGraph({ kind: "fc", K: 60, N: 8, seed: 6 });
applyMask(bmLayer.weights, magnitudeMask(bmLayer.weights, 0.7));
const expDense = compileGraph(bmLayer.g).model;
/** The FC with its weights stored in an encoding expanded at load (run bits 0), or as `blob` verbatim. */
function expandedModel(enc: "bitmap" | "coded", blob?: Uint8Array): ErmModel {
  const tensors = expDense.tensors.map((t) => ({ ...t }));
  const op = toSparseOp(expDense.ops[0], tensors, enc, 0);
  if (blob) Object.assign(tensors[op.inputs[1]], { data: blob, shape: [blob.length] });
  return { ...expDense, tensors, ops: [op] };
}
const bmModel = expandedModel("bitmap");
const bmGood = writeErm(bmModel);
const bmT = bmModel.ops[0].inputs[1];
const bmAt = sectionSpan(bmGood, "WGTS").offset + new DataView(bmGood.buffer).getUint32(tensorRecord(bmGood, bmT) + 28, true);
const bmRunAt = sectionSpan(bmGood, "PARM").offset + 4 + 4 * (bmModel.ops[0].params.length - 1);
const bmValues = sparseHeader(bmModel.tensors[bmT].data!).blocks;
/** The bitmap's first byte (row 0, columns 0..7); row 0's last byte is bmAt + 16 + 7 (bits 4..7 unused). */
const bmFirstByte = bmAt + 16;

const cdModel = expandedModel("coded");
const cdGood = writeErm(cdModel);
const cdT = cdModel.ops[0].inputs[1];
const cdBlob = cdModel.tensors[cdT].data!;
const cdAt = sectionSpan(cdGood, "WGTS").offset + new DataView(cdGood.buffer).getUint32(tensorRecord(cdGood, cdT) + 28, true);
const cdRunAt = sectionSpan(cdGood, "PARM").offset + 4 + 4 * (cdModel.ops[0].params.length - 1);
const cdValues = sparseHeader(cdBlob).blocks;
const cdStream = cdBlob.subarray(16);
/** A coded blob for the FC's 8 x 60 matrix: header fields over a given stream. */
function codedBlob(stream: Uint8Array, values: number, model = 0, streamBytes = stream.length): Uint8Array {
  const b = new Uint8Array(16 + stream.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 8, true);
  dv.setUint16(2, 60, true);
  b.set([1, 1, 2, model], 4);
  dv.setUint32(8, values, true);
  dv.setUint32(12, streamBytes, true);
  b.set(stream, 16);
  return b;
}
const withCoded = (blob: Uint8Array) => writeErm(expandedModel("coded", blob));
const expWeights = Int8Array.from(expDense.tensors[expDense.ops[0].inputs[1]].data!, (b) => (b << 24) >> 24);
/** The matrix with one +128 among its values (not int8: the coder can carry it, the readers refuse it). */
const plus128 = Array.from(expWeights);
const at128 = plus128.findIndex((v) => v !== 0);
plus128[at128] = 128;

// A 3x3 conv (pad 1) 8 -> 8 on 6x6, stored sparse with its filter size (expanded in both builds).
const kLayer = sparseLayerGraph({ kind: "conv", K: 8, N: 8, h: 6, w: 6, k: 3, pad: 1, seed: 12 });
applyMask(kLayer.weights, magnitudeMask(kLayer.weights, 0.7));
const kModel = compileGraph(kLayer.g, { sparse: "auto" }).model;
const kGood = writeErm(kModel);
const kParm = sectionSpan(kGood, "PARM").offset + 4 + 4 * 0; // op 0's words start the PARM section
const kWords = kModel.ops[0].params.length;

const bmDamage: [string, Uint8Array, string, string?][] = [
  ["bitmap: good file", bmGood, "OK"],
  ["bitmap: R = 2", patch(bmGood, (dv) => dv.setUint8(bmAt + 4, 2)), "ERM_BAD_TENSOR"],
  ["bitmap: reserved byte 7 set", patch(bmGood, (dv) => dv.setUint8(bmAt + 7, 1)), "ERM_BAD_TENSOR"],
  ["bitmap: reserved word 12 set", patch(bmGood, (dv) => dv.setUint32(bmAt + 12, 1, true)), "ERM_BAD_TENSOR"],
  ["bitmap: unknown encoding 3", patch(bmGood, (dv) => dv.setUint8(bmAt + 6, 3)), "ERM_BAD_TENSOR"],
  ["bitmap read as coded (encoding 2)", patch(bmGood, (dv) => dv.setUint8(bmAt + 6, 2)), "ERM_BAD_TENSOR"],
  ["bitmap: stored values above the matrix", patch(bmGood, (dv) => dv.setUint32(bmAt + 8, 481, true)), "ERM_BAD_PARAMS"],
  ["bitmap: stored values not matching the length", patch(bmGood, (dv) => dv.setUint32(bmAt + 8, bmValues - 1, true)), "ERM_BAD_TENSOR"],
  ["bitmap: stored values 2^32 - 1", patch(bmGood, (dv) => dv.setUint32(bmAt + 8, 0xffffffff, true)), "ERM_BAD_PARAMS"],
  ["bitmap: a bit past the input columns", patch(bmGood, (dv) => dv.setUint8(bmAt + 16 + 7, dv.getUint8(bmAt + 16 + 7) | 0x80)), "ERM_BAD_PARAMS"],
  ["bitmap: one bit flipped (set bits no longer the stored values)", patch(bmGood, (dv) => dv.setUint8(bmFirstByte, dv.getUint8(bmFirstByte) ^ 1)), "ERM_BAD_PARAMS"],
  ["bitmap: rows not the op's output channels", patch(bmGood, (dv) => dv.setUint16(bmAt, 7, true)), "ERM_BAD_TENSOR", "ERM_SHAPE_MISMATCH"],
  ["bitmap: run bits set (no kernel reads a bitmap)", patch(bmGood, (dv) => dv.setInt32(bmRunAt, SPARSE_RUN_SIMD, true)), "ERM_BAD_PARAMS"],
  ["bitmap: run bits set for the MVP build", patch(bmGood, (dv) => dv.setInt32(bmRunAt, SPARSE_RUN_MVP, true)), "ERM_BAD_PARAMS"],
  ["coded: good file", cdGood, "OK"],
  ["coded: R = 2", patch(cdGood, (dv) => dv.setUint8(cdAt + 4, 2)), "ERM_BAD_TENSOR"],
  ["coded: flag model 2", patch(cdGood, (dv) => dv.setUint8(cdAt + 7, 2)), "ERM_BAD_TENSOR"],
  ["coded: stored values above the matrix", patch(cdGood, (dv) => dv.setUint32(cdAt + 8, 481, true)), "ERM_BAD_PARAMS"],
  ["coded: stored values 2^32 - 1", patch(cdGood, (dv) => dv.setUint32(cdAt + 8, 0xffffffff, true)), "ERM_BAD_PARAMS"],
  ["coded: one stored value fewer than the stream holds", patch(cdGood, (dv) => dv.setUint32(cdAt + 8, cdValues - 1, true)), "ERM_BAD_PARAMS"],
  ["coded: one stored value more than the stream holds", patch(cdGood, (dv) => dv.setUint32(cdAt + 8, cdValues + 1, true)), "ERM_BAD_PARAMS"],
  ["coded: stream length one short of the blob", patch(cdGood, (dv) => dv.setUint32(cdAt + 12, cdStream.length - 1, true)), "ERM_BAD_TENSOR"],
  ["coded: stream length 2^32 - 1", patch(cdGood, (dv) => dv.setUint32(cdAt + 12, 0xffffffff, true)), "ERM_BAD_TENSOR"],
  ["coded: first stream byte not 0", patch(cdGood, (dv) => dv.setUint8(cdAt + 16, 1)), "ERM_BAD_PARAMS"],
  ["coded: rows not the op's output channels", patch(cdGood, (dv) => dv.setUint16(cdAt, 7, true)), "ERM_BAD_PARAMS", "ERM_SHAPE_MISMATCH"],
  ["coded: run bits set (no kernel reads it)", patch(cdGood, (dv) => dv.setInt32(cdRunAt, SPARSE_RUN_SIMD, true)), "ERM_BAD_PARAMS"],
  ["coded: run bits set for the MVP build", patch(cdGood, (dv) => dv.setInt32(cdRunAt, SPARSE_RUN_MVP, true)), "ERM_BAD_PARAMS"],
  ["coded: the pattern flag model's stream read with the density model", withCoded(codedBlob(encodeCodedStream(expWeights, 8, 60, 1), cdValues, 0)), "ERM_BAD_PARAMS"],
  ["coded: the stream cut by its last byte (lengths agree)", withCoded(codedBlob(cdStream.subarray(0, cdStream.length - 1), cdValues)), "ERM_BAD_PARAMS"],
  ["coded: one byte past the stream's end (lengths agree)", withCoded(codedBlob(Uint8Array.from([...cdStream, 0]), cdValues)), "ERM_BAD_PARAMS"],
  ["coded: a stream of 4 bytes (the coder starts with 5)", withCoded(codedBlob(cdStream.subarray(0, 4), cdValues)), "ERM_BAD_PARAMS"],
  ["coded: a 2-byte stream for 480 weights (more than it can hold)", withCoded(codedBlob(cdStream.subarray(0, 2), cdValues)), "ERM_BAD_PARAMS"],
  ["coded: an empty stream", withCoded(codedBlob(new Uint8Array(0), cdValues)), "ERM_BAD_PARAMS"],
  ["coded: a stored +128", withCoded(codedBlob(encodeCodedStream(plus128, 8, 60, 0), cdValues)), "ERM_BAD_PARAMS"],
  ["kxk conv: good file", kGood, "OK"],
  ["kxk conv: run bits set (no k x k sparse kernel)", patch(kGood, (dv) => dv.setInt32(kParm + 4 * (kWords - 1), SPARSE_RUN_ALL, true)), "ERM_BAD_PARAMS"],
  ["kxk conv: filter height 2 (blob columns do not match)", patch(kGood, (dv) => dv.setInt32(kParm + 4 * (kWords - 3), 2, true)), "OK", "ERM_BAD_TENSOR"],
  ["kxk conv: filter width 0", patch(kGood, (dv) => dv.setInt32(kParm + 4 * (kWords - 2), 0, true)), "OK", "ERM_BAD_PARAMS"],
  ["kxk conv: filter height -5", patch(kGood, (dv) => dv.setInt32(kParm + 4 * (kWords - 3), -5, true)), "OK", "ERM_BAD_PARAMS"],
  ["kxk conv: filter 4096 x 4096 (columns overflow)", patch(kGood, (dv) => { dv.setInt32(kParm + 4 * (kWords - 3), 4096, true); dv.setInt32(kParm + 4 * (kWords - 2), 4096, true); dv.setInt32(kParm + 16, 2048, true); dv.setInt32(kParm + 20, 2048, true); }), "OK", "ERM_BAD_TENSOR"],
  ["kxk conv: padding past the filter", patch(kGood, (dv) => dv.setInt32(kParm + 16, 3, true)), "OK", "ERM_BAD_PARAMS"],
];

describe("hostile sparse weights", () => {
  it("the bitmap, coded and k x k files are what they claim", () => {
    expect(sparseHeader(bmModel.tensors[bmT].data!).kind).toBe(1);
    expect(bmModel.ops[0].params.at(-1)).toBe(0);
    expect(sparseHeader(cdBlob).kind).toBe(2);
    expect(cdModel.ops[0].params.at(-1)).toBe(0);
    expect(plus128.filter((v) => v !== 0).length).toBe(cdValues);
    expect(kModel.ops[0].opcode).toBe(Opcode.CONV_2D_SPARSE);
    expect(kModel.ops[0].params.slice(-3)).toEqual([3, 3, 0]);
    expect(new DataView(kGood.buffer).getInt32(kParm + 4 * (kWords - 3), true)).toBe(3);
  });

  it.each(bmDamage)("%s", (_name, bytes, code, rtCode = code) => {
    const rt = { simd: new RawRuntime("simd"), mvp: new RawRuntime("mvp") };
    expect(tsCode(bytes)).toBe(code);
    expect(rt.simd.load(bytes)).toBe(rtCode);
    expect(rt.mvp.load(bytes)).toBe(rtCode);
  });

  it("20,000 mutations of a bitmap blob, a coded blob (header, stream) and a k x k conv's blob and words: typed errors or a clean run, never a trap", () => {
    const runtimes = [new RawRuntime("simd"), new RawRuntime("mvp")];
    const r = rng(78);
    const spans: [Uint8Array, number, number][] = [
      [bmGood, bmAt, bmModel.tensors[bmT].data!.length],
      [cdGood, cdAt, 24],
      [cdGood, cdAt + 16, cdStream.length],
      [kGood, sectionSpan(kGood, "WGTS").offset + new DataView(kGood.buffer).getUint32(tensorRecord(kGood, kModel.ops[0].inputs[1]) + 28, true), kModel.tensors[kModel.ops[0].inputs[1]].data!.length],
      [kGood, kParm + 4 * (kWords - 3), 12],
    ];
    for (let i = 0; i < 20000; i++) {
      const [good, at, len] = spans[i % spans.length];
      const f = good.slice();
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) f[at + Math.floor(r() * (good === cdGood ? len : Math.min(len, 96)))] = Math.floor(r() * 256);
      fixCrc(f);
      const ts = tsCode(f);
      const rt = runtimes[Math.floor(i / spans.length) & 1].load(f);
      expect(rt.startsWith("INVOKE_")).toBe(false);
      expect(ts === "OK" || ts.startsWith("ERM_")).toBe(true);
      expect(rt === "OK" || rt.startsWith("ERM_")).toBe(true);
    }
  });
});

describe("hostile sparse weights (block encoding)", () => {
  const runtimes = { simd: new RawRuntime("simd"), mvp: new RawRuntime("mvp") };
  it.each(RUNS)("the good file loads in both builds (%s)", (_how, bits) => {
    expect(tsCode(withRun(bits))).toBe("OK");
    expect(runtimes.simd.load(withRun(bits))).toBe("OK");
    expect(runtimes.mvp.load(withRun(bits))).toBe("OK");
  });

  it.each(damaged)("%s", (_name, bytes, code, rtCode = code) => {
    expect(tsCode(bytes)).toBe(code);
    expect(runtimes.simd.load(bytes)).toBe(rtCode);
    expect(runtimes.mvp.load(bytes)).toBe(rtCode);
  });

  it("20,000 mutations of the blob: typed errors or a clean run, never a trap", () => {
    const r = rng(77);
    const len = model.tensors[wT].data!.length;
    const files = RUNS.map(([, bits]) => withRun(bits));
    for (let i = 0; i < 20000; i++) {
      const f = files[(i >> 1) % files.length].slice();
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
