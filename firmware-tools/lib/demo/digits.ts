// The demo's model: the digits CNN (examples/digits) compressed twice from its float ONNX file,
// as release 1.0.0 (int8) and 1.1.0 (int8 with half the weights pruned), with the size and the
// held-out accuracy before and after. Also turns the held-out rows into the device's input bytes
// (scale 1/16, then the model's own input quantization), so the load uses real digits.

import { join } from "node:path";
import { writeFileAtomic } from "../../../host/fs/atomic.js";
import { readErm } from "../../../host/format/erm-reader.js";
import { packageRoot } from "../../../host/runtime/paths.js";
import { compressOnnx } from "../compress/compress.js";
import type { CompressReport, ModelFigures } from "../compress/report.js";
import { loadLabelled } from "../compress/evaluate.js";
import { encodeInput } from "../quantize/sqnr.js";
import type { IoLayout } from "../quantize/lower.js";

export const DIGITS_SCALE = 0.0625;

export interface DigitsModels { v1Path: string; v2Path: string; samples: { input: Uint8Array; label: number }[] }

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const pct = (v?: number) => (v === undefined ? "-" : `${(v * 100).toFixed(2)}%`);

function line(name: string, m: ModelFigures): string {
  const lat = m.latencyUs ? `, ${m.latencyUs.simd.toFixed(1)} us SIMD / ${m.latencyUs.mvp.toFixed(1)} us MVP` : "";
  return `${name.padEnd(24)} ${kib(m.fileBytes).padStart(10)}   accuracy ${pct(m.accuracy)}${lat}`;
}

export async function compressDigits(work: string, log: (l: string) => void): Promise<DigitsModels> {
  const dir = join(packageRoot(), "examples", "digits");
  const onnx = join(dir, "digits-cnn.onnx");
  const common = {
    calibPath: join(dir, "calib.csv"), evalPath: join(dir, "eval.csv"), preprocessing: { scale: DIGITS_SCALE },
    name: "digits", labels: Array.from({ length: 10 }, (_, i) => String(i)), latencyRuns: 50,
  };
  const v1 = await compressOnnx(onnx, { ...common, version: "1.0.0", sparse: "never" });
  const v2 = await compressOnnx(onnx, { ...common, version: "1.1.0", prune: 0.5 });
  const r: CompressReport = v2.report;
  log(`   held-out digits: ${r.evalSamples} rows (examples/digits/eval.csv), calibration ${r.calibration.samples} rows, inputs scaled by 1/16`);
  log(`   ${line("float ONNX (before)", r.float)}`);
  log(`   ${line("int8 -> release 1.0.0", v1.report.int8)}`);
  log(`   ${line(`pruned ${Math.round((r.pruning?.totalSparsity ?? 0) * 100)}% + int8 -> 1.1.0`, r.pruned!)}`);
  const v1Path = join(work, "digits-1.0.0.erm"), v2Path = join(work, "digits-1.1.0.erm");
  writeFileAtomic(v1Path, v1.bytes);
  writeFileAtomic(v2Path, v2.bytes);
  const model = readErm(v1.bytes);
  const layout = (model.meta.layouts as IoLayout[])[0];
  const data = loadLabelled(join(dir, "eval.csv"), 64);
  const samples = data.x.map((x, i) => ({ input: encodeInput(Array.from(x, (v) => v * DIGITS_SCALE), layout), label: data.y[i] }));
  return { v1Path, v2Path, samples };
}
