// MUL, LOGISTIC, TANH, HARD_SWISH and LEAKY_RELU in both builds: each op runs over all 256 int8
// inputs in a one-op model at tier 0 (reference) and tier 1 (load-time table), and must equal an
// independent JS model of TFLite Micro's formula (MUL, LEAKY_RELU) or stay within one output step
// of the real function (LOGISTIC, TANH, HARD_SWISH, whose fixed-point chains TFLM defines).

import { describe, expect, it } from "vitest";
import { DType, Opcode, TensorKind } from "../../host/format/opcodes.js";
import type { ErmModel, ErmTensor } from "../../host/format/erm-types.js";
import { writeErm } from "../../host/format/erm-writer.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import * as Q from "../../host/format/quant-params.js";
import { clamp, mbqm } from "./harness/elem-model.js";

function t(name: string, scale: number, zp: number, offset: number, n = 256): ErmTensor {
  return { name, dtype: DType.INT8, shape: [1, n], kind: TensorKind.ARENA, flags: 0, zeroPoint: zp, scale, arenaOffset: offset };
}

function runOne(opcode: Opcode, params: number[], inS: number, inZp: number, outS: number, outZp: number, build: "simd" | "mvp", tier: 0 | 1, x2?: Int8Array): Int8Array {
  const tensors = [t("x", inS, inZp, 0), t("y", outS, outZp, 256)];
  const inputs = [0];
  if (x2) tensors.push({ ...t("x2", 0.05, 3, 0), kind: TensorKind.CONSTANT, data: new Uint8Array(x2.buffer) });
  const model: ErmModel = {
    tensors, ops: [{ opcode, inputs: x2 ? [0, 2] : [0], outputs: [1], params, scratch: -1 }], inputs, outputs: [1],
    plan: { arenaBytes: 512 }, meta: { name: "op", version: "1.0.0" }, golden: [],
  };
  const it = Interpreter.load(writeErm(model), { build });
  it.setKernelTier(tier);
  return new Int8Array(it.run(new Uint8Array(Int8Array.from({ length: 256 }, (_, i) => i - 128).buffer))[0].slice().buffer);
}

const xs = Array.from({ length: 256 }, (_, i) => i - 128);

describe.each(["simd", "mvp"] as const)("activation ops, %s build", (build) => {
  for (const tier of [0, 1] as const) {
    it(`LEAKY_RELU (alpha 0.1, 0, 1 with clamp) equals TFLM's formula, tier ${tier}`, () => {
      for (const [alpha, lo, hi] of [[0.1, -128, 127], [0, -128, 127], [1, -20, 90], [-0.3, -128, 127]]) {
        const p = Q.leakyReluParams(0.07, -5, 0.05, 10, alpha, lo, hi);
        const want = xs.map((x) => { const v = x + 5; return clamp(clamp(10 + (v >= 0 ? mbqm(v, p[2], p[3]) : mbqm(v, p[4], p[5])), -128, 127), lo, hi); });
        expect(Array.from(runOne(Opcode.LEAKY_RELU, p, 0.07, -5, 0.05, 10, build, tier)), `alpha ${alpha}`).toEqual(want);
      }
    });

    it(`MUL with a broadcast-free constant operand equals TFLM's formula, tier ${tier}`, () => {
      const x2 = Int8Array.from({ length: 256 }, (_, i) => ((i * 37) % 256) - 128);
      const p = Q.mulParams(0.07, -5, 0.05, 3, 0.3, -7);
      const want = xs.map((x, i) => clamp(-7 + mbqm((x + 5) * (x2[i] - 3), p[3], p[4]), -128, 127));
      expect(Array.from(runOne(Opcode.MUL, p, 0.07, -5, 0.3, -7, build, tier, x2))).toEqual(want);
    });

    it(`LOGISTIC, TANH and HARD_SWISH stay within one output step of the real function, tier ${tier}`, () => {
      for (const [inS, inZp] of [[0.05, 0], [0.1, -20], [0.02, 30]]) {
        const lg = runOne(Opcode.LOGISTIC, Q.sigmoidTanhParams(inS, inZp), inS, inZp, 1 / 256, -128, build, tier);
        const th = runOne(Opcode.TANH, Q.sigmoidTanhParams(inS, inZp), inS, inZp, 1 / 128, 0, build, tier);
        const hsOut = 0.06;
        const hs = runOne(Opcode.HARD_SWISH, Q.hardSwishParams(inS, inZp, hsOut, -100), inS, inZp, hsOut, -100, build, tier);
        xs.forEach((x, i) => {
          const r = (x - inZp) * inS;
          expect(Math.abs((lg[i] + 128) / 256 - 1 / (1 + Math.exp(-r))), `logistic x=${x}`).toBeLessThanOrEqual(1 / 256 + 1e-9);
          expect(Math.abs(th[i] / 128 - Math.tanh(r)), `tanh x=${x}`).toBeLessThanOrEqual(1 / 128 + 1e-9);
          const h = clamp(Math.round((r * Math.min(6, Math.max(0, r + 3))) / 6 / hsOut) - 100, -128, 127);
          expect(Math.abs(hs[i] - h), `hard-swish x=${x}`).toBeLessThanOrEqual(1);
        });
      }
    });
  }

  it("tier 0 and tier 1 agree byte for byte on every op", () => {
    const cases: Array<[Opcode, number[], number, number]> = [
      [Opcode.LOGISTIC, Q.sigmoidTanhParams(0.03, 7), 1 / 256, -128], [Opcode.TANH, Q.sigmoidTanhParams(0.03, 7), 1 / 128, 0],
      [Opcode.HARD_SWISH, Q.hardSwishParams(0.03, 7, 0.02, -50), 0.02, -50], [Opcode.LEAKY_RELU, Q.leakyReluParams(0.03, 7, 0.02, -50, 0.2), 0.02, -50],
    ];
    for (const [op, p, s, zp] of cases) expect(runOne(op, p, 0.03, 7, s, zp, build, 1), `op ${op}`).toEqual(runOne(op, p, 0.03, 7, s, zp, build, 0));
  });
});
