// Batch inference: results in order, same bytes as single runs, bad lines reported and skipped.

import { afterAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { runBatch } from "../../../firmware-tools/lib/model/batch.js";
import { syntheticErm } from "../../../firmware-tools/lib/fleet/synthetic-model.js";
import { Interpreter } from "../../../host/runtime/runtime.js";
import { tempDir } from "../../helpers/fleet.js";

const tmp = tempDir("edgerun-batch-");
afterAll(() => tmp.cleanup());

describe("batch inference", () => {
  it("writes one result per line, equal to single runs, with errors for bad lines", async () => {
    const erm = syntheticErm({ inFeatures: 16, outFeatures: 4 });
    const inputs = [Buffer.alloc(16, 1), Buffer.alloc(16, 200)];
    const lines = [
      JSON.stringify({ id: "a", input: inputs[0].toString("base64") }),
      "not json",
      JSON.stringify({ id: "b", input: Array.from(inputs[1], (v) => (v << 24) >> 24) }),
      "",
      JSON.stringify({ id: "c", input: [1, 2] }),
    ];
    writeFileSync(join(tmp.dir, "in.jsonl"), lines.join("\n") + "\n");
    const progress: number[] = [];
    const s = await runBatch(erm, join(tmp.dir, "in.jsonl"), join(tmp.dir, "out.jsonl"), { onProgress: (d) => progress.push(d) });
    expect(s).toMatchObject({ lines: 4, ok: 2, errors: 2 });
    const out = readFileSync(join(tmp.dir, "out.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(out.map((o) => o.line)).toEqual([1, 2, 3, 5]);
    const it1 = Interpreter.load(erm);
    expect(out[0]).toMatchObject({ id: "a", outputs: [Buffer.from(it1.run(inputs[0])[0]).toString("base64")] });
    expect(out[2].outputs[0]).toBe(Buffer.from(it1.run(inputs[1])[0]).toString("base64"));
    expect(out[1].error.code).toBe("INFER_BAD_INPUT");
    expect(out[3]).toMatchObject({ id: "c", error: { code: "INFER_BAD_INPUT" } });
    expect(progress.at(-1)).toBe(5);
  });

  it("fails with a typed error on a missing input file and leaves no output behind", async () => {
    await expect(runBatch(syntheticErm(), join(tmp.dir, "missing.jsonl"), join(tmp.dir, "o.jsonl"))).rejects.toMatchObject({ code: "CLI_FILE_NOT_FOUND" });
    expect(existsSync(join(tmp.dir, "o.jsonl"))).toBe(false);
  });
});
