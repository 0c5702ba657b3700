// Synthetic .erm models of a chosen size for delivery tests and benchmarks: one int8
// FULLY_CONNECTED layer whose weights are seeded noise, with golden vectors from the reference
// kernels. `seed` changes all weights; `patch` changes only a few bytes (a "fine-tuned" model
// whose release shares most chunks with the original).

import { writeErm } from "../../../host/format/erm-writer.js";
import type { ErmModel, ErmTensor } from "../../../host/format/erm-types.js";
import { DType, Opcode, TensorKind } from "../../../host/format/opcodes.js";
import { computeGolden, seededBytes } from "../model/golden.js";

export interface SyntheticOptions { inFeatures?: number; outFeatures?: number; seed?: number; version?: string; name?: string; patchBytes?: number; calibration?: boolean }

function t(name: string, dtype: DType, shape: number[], extra: Partial<ErmTensor> = {}): ErmTensor {
  return { name, dtype, shape, kind: TensorKind.ARENA, flags: 0, zeroPoint: 0, scale: 1, arenaOffset: 0, ...extra };
}

const i32 = (v: number[]) => new Uint8Array(Int32Array.from(v).buffer);

export function syntheticModel(o: SyntheticOptions = {}): ErmModel {
  const inF = o.inFeatures ?? 64, outF = o.outFeatures ?? 16;
  const w = seededBytes(inF * outF, o.seed ?? 1);
  for (let i = 0; i < (o.patchBytes ?? 0); i++) w[(i * 7919) % w.length] ^= 0x5a; // a few changed weights
  const model: ErmModel = {
    tensors: [
      t("input", DType.INT8, [1, inF], { arenaOffset: 0, scale: 0.05, zeroPoint: 0 }),
      t("weights", DType.INT8, [outF, inF], { kind: TensorKind.CONSTANT, data: w, channelScales: new Float32Array(outF).fill(0.01), quantAxis: 0 }),
      t("bias", DType.INT32, [outF], { kind: TensorKind.CONSTANT, data: i32(Array.from({ length: outF }, (_, i) => i * 10)) }),
      t("mult", DType.INT32, [outF], { kind: TensorKind.CONSTANT, data: i32(new Array(outF).fill(1 << 30)) }),
      t("shift", DType.INT8, [outF], { kind: TensorKind.CONSTANT, data: new Uint8Array(outF).fill(0xf8) }), // -8
      t("output", DType.INT8, [1, outF], { arenaOffset: Math.ceil(inF / 16) * 16, scale: 0.1, zeroPoint: 0 }),
    ],
    ops: [{ opcode: Opcode.FULLY_CONNECTED, inputs: [0, 1, 2, 3, 4], outputs: [5], params: [0, 0, -128, 127], scratch: -1 }],
    inputs: [0],
    outputs: [5],
    plan: { arenaBytes: Math.ceil(inF / 16) * 16 + Math.ceil(outF / 16) * 16 },
    meta: {
      name: o.name ?? "synthetic-fc", version: o.version ?? "1.0.0", labels: Array.from({ length: outF }, (_, i) => `class${i}`),
      ...(o.calibration ? { calibration: { inputs: [{ min: -128, max: 127, counts: uniformCounts(16) }] } } : {}),
    },
    golden: [],
  };
  model.golden = computeGolden(model, [seededBytes(inF, 0x5eed), seededBytes(inF, 0x5eee)]);
  return model;
}

function uniformCounts(bins: number): number[] {
  return new Array(bins).fill(1000);
}

export function syntheticErm(o: SyntheticOptions = {}): Uint8Array {
  return writeErm(syntheticModel(o));
}

/** A model of about `bytes` bytes (weights dominate): 1 MiB -> 1024 x 1024 int8 weights. */
export function syntheticErmOfSize(bytes: number, o: SyntheticOptions = {}): Uint8Array {
  const inF = 1024;
  return syntheticErm({ ...o, inFeatures: inF, outFeatures: Math.max(1, Math.round(bytes / inF)) });
}
