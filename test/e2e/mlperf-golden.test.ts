// The three MLPerf Tiny int8 models, converted from TFLite, must match TFLite Micro's reference
// kernels bit for bit, layer by layer, in both builds and both kernel tiers.

import { describe, expect, it } from "vitest";
import { convertFile } from "../../firmware-tools/lib/model/convert.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import { MLPERF, MlperfName, goldenCases, mlperfModelPath } from "../helpers/mlperf.js";

const models = Object.keys(MLPERF) as MlperfName[];
const builds = ["simd", "mvp"] as const;

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `first difference at byte ${i}: ${(a[i] << 24) >> 24} vs golden ${(b[i] << 24) >> 24}`;
  return a.length === b.length ? "equal" : `length ${a.length} vs ${b.length}`;
}

describe.each(models)("%s", (name) => {
  // Unfused: every TFLite op has its own output tensor to compare.
  const unfused = convertFile(mlperfModelPath(name), { fuse: false });
  const fused = convertFile(mlperfModelPath(name));
  const cases = goldenCases(name);

  it.each(builds.flatMap((b) => [0, 1].map((tier) => [b, tier] as const)))("layer by layer, %s build, tier %i", (build, tier) => {
    const it = Interpreter.load(unfused.bytes, { build });
    it.setKernelTier(tier as 0 | 1);
    const { ops, tensors } = unfused.model;
    const sources = unfused.model.meta.sourceOps!;
    for (const c of cases) {
      it.inputs[0].set(c.input);
      for (let op = 0; op < ops.length; op++) {
        it.invokeOps(op, op + 1);
        const golden = c.layer(sources[op][sources[op].length - 1]);
        if (!golden) continue;
        const out = ops[op].outputs[0];
        const got = it.tensor(out, golden.length);
        expect(Buffer.compare(got, golden), `${c.name} op ${op} (${tensors[out].name}): ${firstDiff(got, golden)}`).toBe(0);
      }
      expect(Buffer.compare(it.outputs[0], c.output), `${c.name} output`).toBe(0);
    }
  });

  it.each(builds)("fused model matches the golden outputs, %s build", (build) => {
    const it = Interpreter.load(fused.bytes, { build });
    for (const c of cases) {
      const [out] = it.run(c.input);
      expect(Buffer.compare(out, c.output), `${c.name}: ${firstDiff(out, c.output)}`).toBe(0);
    }
  });

  it("working RAM is at most 0.75x of TFLite Micro's arena (MVP build)", () => {
    const it = Interpreter.load(fused.bytes, { build: "mvp" });
    const ram = it.memory.workingRamBytes;
    expect(ram, `${name}: ${ram} bytes working RAM, budget ${MLPERF[name].budgetBytes}`).toBeLessThanOrEqual(MLPERF[name].budgetBytes);
  });
});

describe("MVP build memory", () => {
  it.each(["kws", "ic"] as const)("%s runs with a linear memory of at most 2 pages (128 KiB)", (name) => {
    const fused = convertFile(mlperfModelPath(name));
    const it = Interpreter.load(fused.bytes, { build: "mvp" });
    it.run(goldenCases(name)[0].input);
    expect(it.memory.linearMemoryBytes).toBeLessThanOrEqual(2 * 65536);
  });
});
