// The MLPerf Tiny reference models and their TFLite Micro golden outputs (../shared/models/mlperf-tiny).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sharedDir } from "../../firmware-tools/lib/demo/shared.js";

export const MLPERF = {
  kws: { file: "kws_ref_model.tflite", tflmArenaBytes: 24000, budgetBytes: 18000 },
  ic: { file: "pretrainedResnet_quant.tflite", tflmArenaBytes: 55712, budgetBytes: 41784 },
  ad: { file: "ad01_int8.tflite", tflmArenaBytes: 3424, budgetBytes: 2568 },
} as const;
export type MlperfName = keyof typeof MLPERF;

export function mlperfDir(name: MlperfName): string {
  return join(sharedDir(), "models", "mlperf-tiny", name);
}

export function mlperfModelPath(name: MlperfName): string {
  return join(mlperfDir(name), MLPERF[name].file);
}

export interface GoldenCase { name: string; input: Uint8Array; output: Uint8Array; layer(op: number): Uint8Array | undefined }

export function goldenCases(name: MlperfName): GoldenCase[] {
  const dir = join(mlperfDir(name), "golden");
  return readdirSync(dir).sort().map((c) => ({
    name: c,
    input: readFileSync(join(dir, c, "input.bin")),
    output: readFileSync(join(dir, c, "output.bin")),
    layer(op: number) {
      const p = join(dir, c, "layers", `op${String(op).padStart(2, "0")}.bin`);
      return existsSync(p) ? readFileSync(p) : undefined;
    },
  }));
}
