// The demo's MLPerf Tiny step: convert the keyword-spotting model (int8 TFLite) and run the
// benchmark's sample in both runtime builds, checking the output against TFLite Micro's.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readErm } from "../../../host/format/erm-reader.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { Interpreter } from "../../../host/runtime/runtime.js";
import { packageRoot } from "../../../host/runtime/paths.js";
import { writeFileAtomic } from "../../../host/fs/atomic.js";
import { convertFile } from "../model/convert.js";
import { computeGolden } from "../model/golden.js";
import { benchInterpreter } from "../model/bench.js";
import { topClass } from "../model/classify.js";
import { sharedDir } from "./shared.js";

/** Writes kws.erm into `work` and returns its path. */
export function runKwsDemo(log: (line: string) => void, work: string): string {
  const kwsDir = join(sharedDir(), "models", "mlperf-tiny", "kws");
  const labels = readFileSync(join(packageRoot(), "examples", "kws", "labels.txt"), "utf8").split("\n").filter(Boolean);
  log("1. convert: MLPerf Tiny keyword spotting (DS-CNN, int8 TFLite) -> .erm");
  const result = convertFile(join(kwsDir, "kws_ref_model.tflite"), { meta: { name: "kws", labels } });
  const sample = readFileSync(join(kwsDir, "golden", "sample", "input.bin"));
  result.model.golden = computeGolden(result.model, [sample]);
  const bytes = writeErm(result.model);
  const ermPath = join(work, "kws.erm");
  writeFileAtomic(ermPath, bytes);
  log(`   ${bytes.length} bytes, ${result.model.ops.length} ops, arena ${result.plan.arenaBytes} bytes (TFLite Micro: 24,000)`);
  const model = readErm(readFileSync(ermPath));
  const expected = new Int8Array(readFileSync(join(kwsDir, "golden", "sample", "output.bin")));
  log("   the benchmark's sample utterance in both runtime builds:");
  for (const build of ["simd", "mvp"] as const) {
    const it = Interpreter.load(bytes, { build });
    const [out] = it.run(sample);
    const top = topClass(out, "int8", labels)!;
    const exact = Buffer.compare(Buffer.from(out), Buffer.from(expected.buffer)) === 0;
    const bench = benchInterpreter(it, model, 200, 30, false);
    log(`   ${build.padEnd(4)}: "${top.label}" (score ${((top.score + 128) / 256).toFixed(3)}), median ${bench.medianUs.toFixed(1)} us, working RAM ${it.memory.workingRamBytes} bytes, ${exact ? "bit-exact with TFLite Micro" : "DIFFERS from TFLite Micro"}`);
  }
  return ermPath;
}
