// The sparse kernel family (FULLY_CONNECTED_SPARSE, CONV_2D_SPARSE) against the dense reference
// kernel on the same pruned weights, byte for byte, in both builds and both tiers: tile edges
// (N not a multiple of 4, K not a multiple of 8, odd pixel counts), sparsities 0..99%, empty
// output channels and channel groups, column gaps over 255 (zero bridge blocks), strides, fused
// residual ADDs, and requantization rounding ties.
// Each sparse op runs both ways its run bits allow: the sparse kernel, and (bits clear) the
// weights expanded at load and run by the dense kernels. The bitmap and coded encodings and k x k
// convs (CONV_2D_SPARSE with a filter size) are only ever expanded: bits clear, same bytes as dense.

import { describe, expect, it } from "vitest";
import { DType, Opcode } from "../../host/format/opcodes.js";
import { writeErm } from "../../host/format/erm-writer.js";
import { readErm } from "../../host/format/erm-reader.js";
import type { ErmModel } from "../../host/format/erm-types.js";
import { Interpreter, BuildName } from "../../host/runtime/runtime.js";
import { SPARSE_RUN_ALL, blockFits } from "../../host/format/sparse-weights.js";
import { compileGraph } from "../../firmware-tools/lib/compile/compile.js";
import { SparseEncoding, expandOnlyEncoding, toSparseOp } from "../../firmware-tools/lib/compile/sparse-encode.js";
import { SparseLayerSpec, randomInputs, sparseLayerGraph } from "../../firmware-tools/lib/bench/sparse-layer.js";
import { applyMask, magnitudeMask } from "../../firmware-tools/lib/prune/mask.js";

interface Case {
  name: string;
  spec: SparseLayerSpec;
  block?: [number, number];
  /** Channel 0 without weights; emptyGroup: channels 4..7 (a whole group of 4) without weights. */
  emptyRows?: boolean;
  emptyGroup?: boolean;
  /** Per-channel shifts and multipliers (cycled over the channels); weights cut to -3..3. */
  shifts?: number[];
  mults?: number[];
  smallWeights?: boolean;
}

const cases: Case[] = [
  { name: "fc 8->4", spec: { kind: "fc", K: 8, N: 4 } },
  { name: "fc 7->5 (K, N off the tile)", spec: { kind: "fc", K: 7, N: 5 }, emptyRows: true },
  { name: "fc 24->12 x2 batches", spec: { kind: "fc", K: 24, N: 12, batches: 2 }, block: [4, 8] },
  { name: "fc 64->64 x3 batches, 4x8 blocks", spec: { kind: "fc", K: 64, N: 64, batches: 3 }, block: [4, 8], emptyRows: true },
  { name: "fc 600->8 (gaps over 255)", spec: { kind: "fc", K: 600, N: 8 }, emptyRows: true },
  { name: "fc 256->16, 8x8 blocks", spec: { kind: "fc", K: 256, N: 16 }, block: [8, 8] },
  { name: "fc 40->6, 2x4 blocks", spec: { kind: "fc", K: 40, N: 6 }, block: [2, 4] },
  { name: "conv1x1 25x5 64->64, 4x8 blocks", spec: { kind: "conv1x1", K: 64, N: 64, h: 25, w: 5 }, block: [4, 8] },
  { name: "conv1x1 3x3 s2 8->4", spec: { kind: "conv1x1", K: 8, N: 4, h: 3, w: 3, stride: 2 }, emptyRows: true },
  { name: "conv1x1 5x1 16->8 +residual", spec: { kind: "conv1x1", K: 16, N: 8, h: 5, w: 1, residual: true }, block: [4, 8] },
  { name: "conv1x1 2x3 24->12 +residual", spec: { kind: "conv1x1", K: 24, N: 12, h: 2, w: 3, residual: true } },
  { name: "conv1x1 4x4 s2 32->20, 4x4 blocks", spec: { kind: "conv1x1", K: 32, N: 20, h: 4, w: 4, stride: 2 }, block: [4, 4] },
  // qs8_spmm_8x4__simd (>= 8 output pixels, N % 4 == 0): pixel counts off 4/8/16, K off 16 and odd.
  { name: "spmm conv1x1 13x1 20->8 (13 pixels, K = 16 + 4)", spec: { kind: "conv1x1", K: 20, N: 8, h: 13, w: 1 }, emptyRows: true, emptyGroup: true },
  { name: "spmm conv1x1 5x5 7->4 (K odd)", spec: { kind: "conv1x1", K: 7, N: 4, h: 5, w: 5 } },
  { name: "spmm conv1x1 6x6 s2 32->12 (9 pixels), 4x8 blocks", spec: { kind: "conv1x1", K: 32, N: 12, h: 6, w: 6, stride: 2 }, block: [4, 8] },
  { name: "spmm fc 40->16 x9 batches", spec: { kind: "fc", K: 40, N: 16, batches: 9 }, emptyRows: true },
  { name: "spmm conv1x1 4x5 16->16 +residual, 4x8 blocks", spec: { kind: "conv1x1", K: 16, N: 16, h: 4, w: 5, residual: true }, block: [4, 8], emptyGroup: true },
  { name: "spmm conv1x1 7x5 33->12 +residual (35 pixels)", spec: { kind: "conv1x1", K: 33, N: 12, h: 7, w: 5, residual: true }, emptyGroup: true },
  // Multipliers 2^30 and 3 * 2^29 with small accumulators: SRDHM and the rounding shift hit exact
  // halves often, positive and negative (TFLite rounds the first half up, the second away from 0).
  { name: "spmm conv1x1 6x4 16->8, rounding ties", spec: { kind: "conv1x1", K: 16, N: 8, h: 6, w: 4 }, shifts: [-3, -1, 0, -5, 1], mults: [1 << 30, 3 << 29], smallWeights: true },
  { name: "spmm conv1x1 8x3 48->8, shifts -1..2 (left shifts, e = 0)", spec: { kind: "conv1x1", K: 48, N: 8, h: 8, w: 3 }, shifts: [-1, 0, 1, 2] },
  { name: "spmm conv1x1 8x3 48->8, a left shift of 7 (the SIMD build keeps the other kernels)", spec: { kind: "conv1x1", K: 48, N: 8, h: 8, w: 3 }, shifts: [7, -3] },
  // k x k convs: stored sparse, expanded at load (run bits 0), the dense conv kernels run them.
  { name: "conv 3x3 8x8 pad 1 8->16 (Winograd-shaped)", spec: { kind: "conv", K: 8, N: 16, h: 8, w: 8, k: 3, pad: 1 }, emptyRows: true },
  { name: "conv 3x3 7x6 s2 pad 1 3->5", spec: { kind: "conv", K: 3, N: 5, h: 7, w: 6, k: 3, pad: 1, stride: 2 } },
  { name: "conv 5x5 9x9 dil 2 4->8, 4x4 blocks", spec: { kind: "conv", K: 4, N: 8, h: 9, w: 9, k: 5, dil: 2, pad: 2 }, block: [4, 4] },
  { name: "conv 3x3 5x4 16->8 +residual", spec: { kind: "conv", K: 16, N: 8, h: 5, w: 4, k: 3, pad: 1, residual: true } },
  { name: "conv 2x2 6x6 s2 12->4 (no padding)", spec: { kind: "conv", K: 12, N: 4, h: 6, w: 6, k: 2, stride: 2 } },
];
const SPARSITIES = [0, 0.5, 0.7, 0.9, 0.99];

function run(bytes: Uint8Array, build: BuildName, tier: 0 | 1, inputs: Uint8Array[]): Uint8Array {
  const it = Interpreter.load(bytes, { build });
  it.setKernelTier(tier);
  return it.run(...inputs)[0].slice();
}

function sparseModel(model: ErmModel, enc: SparseEncoding, run = SPARSE_RUN_ALL): ErmModel {
  const tensors = model.tensors.map((t) => ({ ...t }));
  const op = toSparseOp(model.ops[0], tensors, enc, run);
  // The sparse op keeps the dense op's planned scratch (k x k convs run the dense kernels on it).
  return { ...model, tensors, ops: [op] };
}

const RUNS: [string, number][] = [["sparse kernel", SPARSE_RUN_ALL], ["expanded to dense", 0]];

describe.each(cases)("$name", ({ spec, block, emptyRows, emptyGroup, shifts, mults, smallWeights }) => {
  it.each(SPARSITIES)("sparsity %f: sparse == dense reference, both builds, both tiers, sparse and expanded", (s) => {
    const { g, weights } = sparseLayerGraph({ ...spec, seed: Math.round(s * 1000) + spec.K });
    const kk = spec.kind === "conv" ? (spec.k ?? 3) ** 2 : 1;
    const opts = { rows: spec.N, cols: spec.K * kk, block: block && s > 0 ? block : undefined };
    applyMask(weights, magnitudeMask(weights, s, opts));
    if (smallWeights) weights.forEach((w, i) => (weights[i] = w % 4));
    if (emptyRows) weights.fill(0, 0, spec.K * kk); // an empty first channel
    if (emptyGroup) weights.fill(0, 4 * spec.K * kk, 8 * spec.K * kk);
    const setWords = (name: string, v: number[], Words: Int8ArrayConstructor | Int32ArrayConstructor) => {
      const t = g.tensors.find((x) => x.name === name)!;
      new Words(t.data!.buffer, t.data!.byteOffset, spec.N).forEach((_, i, a) => (a[i] = v[i % v.length]));
    };
    if (shifts) setWords("shift", shifts, Int8Array); // the .erm's dtypes: int8 shifts, int32 multipliers
    if (mults) setWords("mult", mults, Int32Array);
    const { model } = compileGraph(g);
    const dense = writeErm(model);
    const sizes = model.inputs.map((t) => model.tensors[t].shape.reduce((a, b) => a * b, 1));
    const inputs = randomInputs(sizes, 99);
    const expected = run(dense, "mvp", 0, inputs);
    const encs: SparseEncoding[] = [[1, 1], "bitmap", "coded"];
    if (block && blockFits(spec.N, spec.K * kk, block)) encs.push(block);
    for (const e of encs) {
      for (const [how, bits] of RUNS) {
        if (bits !== 0 && (expandOnlyEncoding(e) || spec.kind === "conv")) continue; // expanded only
        const bytes = writeErm(sparseModel(model, e, bits));
        readErm(bytes); // the TypeScript reader accepts it
        for (const build of ["simd", "mvp"] as const) {
          for (const tier of [0, 1] as const) {
            expect(run(bytes, build, tier, inputs), `${e} ${how} ${build} tier ${tier}`).toEqual(expected);
          }
        }
      }
    }
  });
});

it("CONV_2D_SPARSE with a fused ADD writes in place over its residual", () => {
  const { g, weights } = sparseLayerGraph({ kind: "conv1x1", K: 16, N: 16, h: 5, w: 3, residual: true, seed: 5 });
  applyMask(weights, magnitudeMask(weights, 0.7, { rows: 16, cols: 16, block: [4, 8] }));
  const [x, , bias, mult, shift, res] = g.ops[0].inputs;
  // The residual is made inside the graph (so it dies at the fused op and may be overwritten).
  g.inputs = [x];
  g.ops.unshift({ opcode: Opcode.CONV_2D, inputs: [x, g.addConstant("w0", DType.INT8, [16, 1, 1, 16], new Uint8Array(256).map((_, i) => (i * 53) % 256)), bias, mult, shift], outputs: [res], params: [1, 1, 1, 1, 0, 0, 3, -5, -128, 127, 1], scratch: -1, source: [] });
  const z = g.addArena("flat", DType.INT8, [1, 240]); // so the fused op's output is not pinned as a graph output
  g.ops.push({ opcode: Opcode.RESHAPE, inputs: [g.outputs[0]], outputs: [z], params: [], scratch: -1, source: [] });
  g.outputs = [z];
  const input = randomInputs([5 * 3 * 16], 1)[0];
  const expected = run(writeErm(compileGraph(g).model), "mvp", 0, [input]);
  const { model } = compileGraph(g, { sparse: "always" });
  const op = model.ops[1];
  expect(op.opcode).toBe(Opcode.CONV_2D_SPARSE);
  expect(model.tensors[op.outputs[0]].arenaOffset).toBe(model.tensors[op.inputs[5]].arenaOffset);
  for (const build of ["simd", "mvp"] as const) {
    for (const tier of [0, 1] as const) expect(run(writeErm(model), build, tier, [input]), `${build} tier ${tier}`).toEqual(expected);
  }
});

it("a build whose run bit is clear expands the weights at load (rows x cols more working memory) and runs the dense kernels", () => {
  const { g, weights } = sparseLayerGraph({ kind: "conv1x1", K: 64, N: 64, h: 25, w: 5, seed: 3 });
  applyMask(weights, magnitudeMask(weights, 0.9));
  const { model } = compileGraph(g);
  const inputs = randomInputs([25 * 5 * 64], 4);
  const expected = run(writeErm(model), "mvp", 0, inputs);
  const sparse = writeErm(sparseModel(model, [1, 1], SPARSE_RUN_ALL));
  // The compiler's way: stored sparse (smaller), dense measured faster in both builds.
  const timedDense = (m: ErmModel) => (m.ops[0].opcode === Opcode.CONV_2D ? 1 : 2);
  const compiled = compileGraph(g, { sparse: "auto", sparseSelect: { measure: timedDense } });
  expect(compiled.encodings![0]).toMatchObject({ storage: "sparse", runSparse: { simd: false, mvp: false } });
  expect(compiled.model.ops[0].params.at(-1)).toBe(0);
  const expanded = writeErm(compiled.model);
  expect(expanded.length).toBeLessThan(writeErm(model).length - 64 * 64 / 2);
  const ram = (bytes: Uint8Array) => Interpreter.load(bytes, { build: "mvp" }).memory.workingRamBytes;
  expect(ram(expanded) - ram(sparse)).toBeGreaterThanOrEqual(64 * 64);
  for (const build of ["simd", "mvp"] as const) expect(run(expanded, build, 1, inputs), build).toEqual(expected);
});

it("a k x k conv compiled sparse (auto) keeps the dense op's scratch plan and runs the dense kernels, same bytes", () => {
  const { g, weights } = sparseLayerGraph({ kind: "conv", K: 16, N: 16, h: 10, w: 10, k: 3, pad: 1, seed: 8 });
  applyMask(weights, magnitudeMask(weights, 0.7));
  const dense = compileGraph(g).model;
  const inputs = randomInputs([10 * 10 * 16], 2);
  const expected = run(writeErm(dense), "mvp", 0, inputs);
  const compiled = compileGraph(g, { sparse: "auto" });
  expect(compiled.encodings![0]).toMatchObject({ storage: "sparse", encoding: "coded", kernel: [3, 3], runSparse: { simd: false, mvp: false } });
  const op = compiled.model.ops[0];
  expect(op.opcode).toBe(Opcode.CONV_2D_SPARSE);
  expect(op.params.slice(-3)).toEqual([3, 3, 0]);
  expect(compiled.model.tensors[op.scratch].shape).toEqual(dense.tensors[dense.ops[0].scratch].shape);
  const bytes = writeErm(compiled.model);
  expect(bytes.length).toBeLessThan(writeErm(dense).length - 16 * 9 * 16 * 0.5);
  for (const build of ["simd", "mvp"] as const) {
    for (const tier of [0, 1] as const) expect(run(bytes, build, tier, inputs), `${build} tier ${tier}`).toEqual(expected);
  }
});
