// Small hand-built models for format and runtime tests (no importer involved).

import { DType, Opcode, TensorKind } from "../../host/format/opcodes.js";
import type { ErmModel, ErmTensor } from "../../host/format/erm-types.js";
import { softmaxParams } from "../../host/format/quant-params.js";

function i32bytes(v: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(v).buffer);
}

function t(name: string, dtype: DType, shape: number[], extra: Partial<ErmTensor> = {}): ErmTensor {
  return { name, dtype, shape, kind: TensorKind.ARENA, flags: 0, zeroPoint: 0, scale: 1, arenaOffset: 0, ...extra };
}

/** input int8[1,8] -> FULLY_CONNECTED(4) -> SOFTMAX -> output int8[1,4]. */
export function tinyModel(): ErmModel {
  const w = new Int8Array(32).map((_, i) => ((i * 37) % 255) - 127);
  const tensors: ErmTensor[] = [
    t("input", DType.INT8, [1, 8], { arenaOffset: 0, scale: 0.5, zeroPoint: 3 }),
    t("weights", DType.INT8, [4, 8], { kind: TensorKind.CONSTANT, data: new Uint8Array(w.buffer), channelScales: Float32Array.of(0.01, 0.02, 0.03, 0.04), quantAxis: 0 }),
    t("bias", DType.INT32, [4], { kind: TensorKind.CONSTANT, data: i32bytes([100, -200, 300, -400]) }),
    t("mult", DType.INT32, [4], { kind: TensorKind.CONSTANT, data: i32bytes([1 << 30, 1 << 30, 1 << 30, 1 << 30]) }),
    t("shift", DType.INT8, [4], { kind: TensorKind.CONSTANT, data: new Uint8Array(Int8Array.of(-4, -5, -6, -7).buffer) }),
    t("logits", DType.INT8, [1, 4], { arenaOffset: 8, scale: 0.1, zeroPoint: 0 }),
    t("probs", DType.INT8, [1, 4], { arenaOffset: 0, scale: 1 / 256, zeroPoint: -128 }),
  ];
  return {
    tensors,
    ops: [
      { opcode: Opcode.FULLY_CONNECTED, inputs: [0, 1, 2, 3, 4], outputs: [5], params: [-3, 0, -128, 127], scratch: -1 },
      { opcode: Opcode.SOFTMAX, inputs: [5], outputs: [6], params: softmaxWords(), scratch: -1 },
    ],
    inputs: [0],
    outputs: [6],
    plan: { arenaBytes: 16 },
    meta: { name: "tiny", version: "1.2.3", labels: ["a", "b", "c", "d"] },
    golden: [{ input: new Uint8Array(8).fill(5), output: new Uint8Array(4).fill(1) }],
  };
}

function softmaxWords(): number[] {
  const p = softmaxParams(1, 0.1);
  return [p.inputMult, p.inputLeftShift, p.diffMin];
}
