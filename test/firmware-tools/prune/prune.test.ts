// Pruning library: masks, in-place graph pruning, structured channel removal (the smaller dense
// model gives the same bytes when the removed channels were zero), the sensitivity scan, and
// the compiler's per-layer encoding choice.

import { describe, expect, it } from "vitest";
import { DType, Opcode } from "../../../host/format/opcodes.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import { quantizeMultiplier, requantBytes } from "../../../host/format/quant-params.js";
import { bitmapBytes } from "../../../host/format/sparse-weights.js";
import { Interpreter } from "../../../host/runtime/runtime.js";
import { Graph } from "../../../firmware-tools/lib/compile/graph.js";
import { compileGraph } from "../../../firmware-tools/lib/compile/compile.js";
import { selectEncodings } from "../../../firmware-tools/lib/compile/sparse-select.js";
import { rng, randomInputs, sparseLayerGraph } from "../../../firmware-tools/lib/bench/sparse-layer.js";
import { applyMask, chooseSparsities, globalMasks, magnitudeMask, nmMask, pruneChannels, pruneGraph } from "../../../firmware-tools/lib/prune/index.js";

const w8 = (n: number, seed: number) => Int8Array.from({ length: n }, (_, i) => ((i * 73 + seed * 31) % 255) - 127);

describe("masks", () => {
  it("magnitude: prunes exactly round(s * n), the smallest first", () => {
    const w = Float32Array.from([0.5, -3, 0.1, 2, -0.2, 7, 0, 1]);
    const m = magnitudeMask(w, 0.5);
    expect(Array.from(m)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it("block: whole blocks by L1 norm", () => {
    const w = Float32Array.from({ length: 4 * 8 }, (_, i) => (i % 8 < 4 ? 0.1 : 5)); // left 4 columns weak
    const m = magnitudeMask(w, 0.5, { rows: 4, cols: 8, block: [2, 4] });
    for (let r = 0; r < 4; r++) expect(Array.from(m.subarray(r * 8, r * 8 + 8))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it("2:4 keeps the two largest of every four inputs", () => {
    const w = Float32Array.from([1, -4, 3, 0.5, 9, 8, -7, 6]);
    expect(Array.from(nmMask(w, 1, 8, 2, 4))).toEqual([0, 1, 1, 0, 1, 1, 0, 0]);
    expect(() => nmMask(w, 1, 8, 2, 3)).toThrow(/PRUNE_BAD_PATTERN/);
  });

  it("global: one threshold in real units across layers", () => {
    const [a, b] = globalMasks([{ weights: [1, 2, 3, 4], cols: 4, rowScale: [1] }, { weights: [1, 2, 3, 4], cols: 4, rowScale: [10] }], 0.5);
    expect(Array.from(a)).toEqual([0, 0, 0, 0]);
    expect(Array.from(b)).toEqual([1, 1, 1, 1]);
  });

  it.each([-0.1, 1, 1.5, Number.NaN])("sparsity %f is PRUNE_BAD_SPARSITY", (s) => {
    expect(() => magnitudeMask([1, 2], s)).toThrow(/PRUNE_BAD_SPARSITY/);
    const { g } = sparseLayerGraph({ kind: "fc", K: 8, N: 4 });
    expect(() => pruneGraph(g, { sparsity: s })).toThrow(/PRUNE_BAD_SPARSITY/);
  });
});

describe("pruneGraph", () => {
  it("per layer, global, block and 2:4 on an int8 graph", () => {
    for (const [opts, want] of [
      [{ sparsity: 0.7 }, 0.7],
      [{ sparsity: 0.6, scope: "global" as const }, 0.6],
      [{ sparsity: 0.5, pattern: { kind: "block" as const, rows: 4, cols: 8 } }, 0.5],
      [{ sparsity: 0, pattern: { kind: "n:m" as const, n: 2, m: 4 } }, 0.5],
    ] as const) {
      const { g } = sparseLayerGraph({ kind: "fc", K: 64, N: 16, seed: 3 });
      const [layer] = pruneGraph(g, opts);
      expect(layer.sparsityAfter).toBeCloseTo(want, 2);
      expect(layer.opName).toBe("FULLY_CONNECTED");
    }
  });
});

/** input 6x6x3 -> conv3x3 (8) -> maxpool 2x2 -> depthwise 3x3 -> conv1x1 (6) -> reshape -> FC (5). */
function chain(): { g: Graph; conv: number; pw: number; dw: number } {
  const g = new Graph("chain");
  const r = rng(9);
  const i32 = (v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
  const act = (name: string, shape: number[], zp: number) => {
    const t = g.addArena(name, DType.INT8, shape);
    Object.assign(g.tensors[t], { scale: 0.1, zeroPoint: zp });
    return t;
  };
  const rq = (n: number, real: number) => {
    const q = quantizeMultiplier(real);
    return [g.addConstant("m", DType.INT32, [n], i32(Array(n).fill(q.mult))), g.addConstant("s", DType.INT8, [n], requantBytes(Array(n).fill(q)).shift)];
  };
  const bias = (n: number) => g.addConstant("b", DType.INT32, [n], i32(Array.from({ length: n }, () => Math.floor(r() * 400) - 200)));
  const x = act("x", [1, 6, 6, 3], -5), a = act("a", [1, 6, 6, 8], -10), p = act("p", [1, 3, 3, 8], -10);
  const d = act("d", [1, 3, 3, 8], 3), e = act("e", [1, 3, 3, 6], -2), f = act("f", [1, 54], -2), y = act("y", [1, 5], 1);
  const conv = (inp: number, out: number, w: number, n: number, k: number, inZp: number, outZp: number, pad: number, dw = false) => {
    const [m, s] = rq(n, 0.004);
    g.ops.push({ opcode: dw ? Opcode.DEPTHWISE_CONV_2D : Opcode.CONV_2D, inputs: [inp, w, bias(n), m, s], outputs: [out], params: [1, 1, 1, 1, pad, pad, -inZp, outZp, outZp, 127, 1], scratch: -1, source: [g.ops.length] });
    void k;
  };
  conv(x, a, g.addConstant("w1", DType.INT8, [8, 3, 3, 3], new Uint8Array(w8(216, 1).buffer)), 8, 3, -5, -10, 1);
  g.ops.push({ opcode: Opcode.MAX_POOL_2D, inputs: [a], outputs: [p], params: [2, 2, 2, 2, 0, 0, -128, 127], scratch: -1, source: [1] });
  conv(p, d, g.addConstant("wd", DType.INT8, [1, 3, 3, 8], new Uint8Array(w8(72, 2).buffer)), 8, 3, -10, 3, 1, true);
  conv(d, e, g.addConstant("w2", DType.INT8, [6, 1, 1, 8], new Uint8Array(w8(48, 3).buffer)), 6, 1, 3, -2, 0);
  g.ops.push({ opcode: Opcode.RESHAPE, inputs: [e], outputs: [f], params: [], scratch: -1, source: [4] });
  const [m, s] = rq(5, 0.002);
  g.ops.push({ opcode: Opcode.FULLY_CONNECTED, inputs: [f, g.addConstant("wf", DType.INT8, [5, 54], new Uint8Array(w8(270, 4).buffer)), bias(5), m, s], outputs: [y], params: [2, 1, -128, 127], scratch: -1, source: [5] });
  g.inputs = [x];
  g.outputs = [y];
  return { g, conv: 0, dw: 2, pw: 3 };
}

function zeroChannels(g: Graph, op: number, chans: number[]): void {
  const o = g.ops[op];
  const w = new Int8Array(g.tensors[o.inputs[1]].data!.buffer);
  const per = w.length / g.tensors[o.inputs[1]].shape[0];
  const b = new Int32Array(g.tensors[o.inputs[2]].data!.buffer);
  for (const c of chans) { w.fill(0, c * per, c * per + per); b[c] = 0; }
}

function outputOf(g: Graph, input: Uint8Array): Uint8Array {
  return Interpreter.load(writeErm(compileGraph(g).model), { build: "mvp" }).run(input)[0].slice();
}

describe("pruneChannels", () => {
  it("removing zero channels keeps the output byte for byte and shrinks the model", () => {
    const { g, conv, dw, pw } = chain();
    zeroChannels(g, conv, [1, 5]);
    new Int32Array(g.tensors[g.ops[dw].inputs[2]].data!.buffer).set([0], 1); // the depthwise passes zero channels on as zero
    new Int32Array(g.tensors[g.ops[dw].inputs[2]].data!.buffer).set([0], 5);
    zeroChannels(g, pw, [0, 4]);
    const input = randomInputs([108], 3)[0];
    const before = outputOf(g, input);
    expect(outputOf(g, randomInputs([108], 4)[0])).not.toEqual(before); // the output depends on the input
    const sizeBefore = writeErm(compileGraph(g).model).length;
    const res = pruneChannels(g, { zeroOnly: true });
    expect(res.filter((r) => r.removed.length).map((r) => [r.op, r.removed])).toEqual([[conv, [1, 5]], [pw, [0, 4]]]);
    expect(g.tensors[g.ops[dw].inputs[1]].shape).toEqual([1, 3, 3, 6]);
    expect(g.tensors[g.ops[5].inputs[1]].shape).toEqual([5, 36]);
    expect(outputOf(g, input)).toEqual(before);
    expect(writeErm(compileGraph(g).model).length).toBeLessThan(sizeBefore);
  });

  it("by ratio: the weakest channels go, at least one stays; residuals are left alone", () => {
    const { g } = chain();
    const res = pruneChannels(g, { ratio: 0.5, ops: [0] });
    expect(res[0].kept).toBe(4);
    outputOf(g, new Uint8Array(108)); // still a valid model
    const add = chain();
    const t = add.g.ops[0].outputs[0];
    const sum = add.g.addArena("sum", DType.INT8, [1, 6, 6, 8]);
    add.g.ops.splice(1, 0, { opcode: Opcode.ADD, inputs: [t, t], outputs: [sum], params: [], scratch: -1, source: [] });
    expect(pruneChannels(add.g, { ratio: 0.5, ops: [0] })[0].skipped).toMatch(/ADD/);
  });
});

it("pruneChannels through a channel CONCATENATION", () => {
  const g = new Graph("concat");
  const i32 = (v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
  const x = g.addArena("x", DType.INT8, [1, 3, 3, 4]);
  const [a, b, c, y] = [[1, 3, 3, 4], [1, 3, 3, 4], [1, 3, 3, 8], [1, 3, 3, 3]].map((sh, k) => g.addArena(`t${k}`, DType.INT8, sh));
  const q = quantizeMultiplier(0.01);
  const conv = (inp: number, out: number, n: number, k: number, seed: number) => {
    const w = g.addConstant("w", DType.INT8, [n, 1, 1, k], new Uint8Array(w8(n * k, seed).buffer));
    const bias = g.addConstant("b", DType.INT32, [n], i32(Array.from({ length: n }, (_, i) => i * 10 - 20)));
    const m = g.addConstant("m", DType.INT32, [1], i32([q.mult])), s = g.addConstant("s", DType.INT8, [1], requantBytes([q]).shift);
    g.ops.push({ opcode: Opcode.CONV_2D, inputs: [inp, w, bias, m, s], outputs: [out], params: [1, 1, 1, 1, 0, 0, 0, 0, -128, 127, 1], scratch: -1, source: [] });
  };
  conv(x, a, 4, 4, 1);
  conv(x, b, 4, 4, 2);
  g.ops.push({ opcode: Opcode.CONCATENATION, inputs: [a, b], outputs: [c], params: [3, 0, 0, 0, 0, 0, 0], scratch: -1, source: [] });
  conv(c, y, 3, 8, 3);
  g.inputs = [x];
  g.outputs = [y];
  zeroChannels(g, 1, [2]);
  const input = randomInputs([36], 5)[0];
  const before = outputOf(g, input);
  const res = pruneChannels(g, { zeroOnly: true });
  expect(res[1].removed).toEqual([2]);
  expect(g.tensors[c].shape).toEqual([1, 3, 3, 7]);
  expect(g.tensors[g.ops[3].inputs[1]].shape).toEqual([3, 1, 1, 7]);
  expect(outputOf(g, input)).toEqual(before);
});

describe("chooseSparsities", () => {
  it("keeps the drop within maxDrop and prunes insensitive layers harder", async () => {
    const sens = [0.5, 5, 40]; // score loss per unit of sparsity^2, per layer
    const evalFn = (s: number[]) => 100 - s.reduce((a, v, i) => a + sens[i] * v * v, 0);
    const r = await chooseSparsities(evalFn, ["a", "b", "c"], 1.5);
    expect(r.baseline - r.score).toBeLessThanOrEqual(1.5);
    expect(r.sparsities[0]).toBeGreaterThan(r.sparsities[2]);
    expect(r.sparsities[0]).toBe(0.95);
    await expect(chooseSparsities(evalFn, ["a"], 1, [1.2])).rejects.toThrow(/PRUNE_BAD_SPARSITY/);
  });
});

describe("selectEncodings (the cost model)", () => {
  const pruned = (block?: [number, number], s = 0.9) => {
    const l = sparseLayerGraph({ kind: "fc", K: 256, N: 256, seed: 2 });
    applyMask(l.weights, magnitudeMask(l.weights, s, { rows: 256, cols: 256, block }));
    return l.g;
  };
  it("never / always / auto with an injected timer", () => {
    expect(selectEncodings(pruned(), { mode: "never" })).toEqual([]);
    const g = pruned([4, 8]);
    const [c] = selectEncodings(g, { mode: "always" });
    expect(c.block).toEqual([4, 8]);
    expect(g.ops[0].opcode).toBe(Opcode.FULLY_CONNECTED_SPARSE);
    expect(g.ops[0].params.at(-1)).toBe(3); // both builds run the sparse kernel
    // Sparse slower in every build: still stored sparse (smaller), run dense everywhere.
    const slow = pruned([4, 8]);
    const [d] = selectEncodings(slow, { mode: "auto", measure: (m) => (m.ops[0].opcode === Opcode.FULLY_CONNECTED ? 10 : 11) });
    expect(d).toMatchObject({ storage: "sparse", runSparse: { simd: false, mvp: false } });
    expect(slow.ops[0].opcode).toBe(Opcode.FULLY_CONNECTED_SPARSE);
    expect(slow.ops[0].params.at(-1)).toBe(0);
    // Faster in the MVP build only: only its bit is set.
    const mixed = pruned();
    const mvpFaster = (m: ErmModel, b: string) => (m.ops[0].opcode === Opcode.FULLY_CONNECTED) === (b === "mvp") ? 10 : 5;
    expect(selectEncodings(mixed, { mode: "auto", measure: mvpFaster })[0].runSparse).toEqual({ simd: false, mvp: true });
    expect(mixed.ops[0].params.at(-1)).toBe(2);
    // 30% zeros: the bitmap (1/8 byte per weight + the nonzeros) and its coded form (smaller still)
    // are smaller than dense, the blocks are not: stored coded, expanded at load everywhere, untimed.
    const light = pruned(undefined, 0.3);
    const [l] = selectEncodings(light, { mode: "auto", measure: () => { throw new Error("timed"); } });
    expect(l).toMatchObject({ storage: "sparse", encoding: "coded" });
    expect(l.sparseBytes).toBeLessThan(bitmapBytes(l.rows, l.cols, Math.round(l.rows * l.cols * 0.7)));
    expect(light.ops[0].opcode).toBe(Opcode.FULLY_CONNECTED_SPARSE);
    expect(light.ops[0].params.at(-1)).toBe(0);
    // Few zeros (10%): the coded form is a little smaller than dense, but not by the eighth that
    // pays for expanding the weights into RAM at load, so the layer stays dense and untimed.
    const lighter = pruned(undefined, 0.1);
    const [few] = selectEncodings(lighter, { mode: "auto", measure: () => { throw new Error("timed"); } });
    expect(few.storage).toBe("dense");
    expect(few.sparseBytes).toBeLessThan(few.denseBytes);
    expect(few.sparseBytes).toBeGreaterThan(few.denseBytes * 7 / 8);
    expect(lighter.ops[0].opcode).toBe(Opcode.FULLY_CONNECTED);
    // A lower minimum saving stores it coded.
    const opted = pruned(undefined, 0.1);
    expect(selectEncodings(opted, { mode: "auto", minSaving: 0, measure: () => { throw new Error("timed"); } })[0]).toMatchObject({ storage: "sparse", encoding: "coded" });
  });

  it("measured: 4x8-pruned layers go sparse, the compiled model is smaller and gives the same bytes", () => {
    const g = pruned([4, 8]);
    const dense = compileGraph(pruned([4, 8])).model;
    const { model, encodings } = compileGraph(g, { sparse: "auto" });
    expect(encodings![0]).toMatchObject({ storage: "sparse", runSparse: { simd: true } });
    expect(encodings![0].sparseUs.simd!).toBeLessThan(encodings![0].denseUs.simd!);
    expect(writeErm(model).length).toBeLessThan(writeErm(dense).length / 3);
    const input = randomInputs([256], 8)[0];
    for (const build of ["simd", "mvp"] as const) {
      expect(Interpreter.load(writeErm(model), { build }).run(input)[0]).toEqual(Interpreter.load(writeErm(dense), { build }).run(input)[0]);
    }
  });
});
