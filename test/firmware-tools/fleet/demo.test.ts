// The fleet demo runs on the MLPerf kws model: three agents install and serve it, and the demo
// cleans up after itself.

import { afterAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runFleetDemo } from "../../../firmware-tools/lib/demo/fleet.js";
import { convertFile } from "../../../firmware-tools/lib/model/convert.js";
import { computeGolden, defaultGoldenInputs } from "../../../firmware-tools/lib/model/golden.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { mlperfModelPath } from "../../helpers/mlperf.js";
import { tempDir } from "../../helpers/fleet.js";

const tmp = tempDir("edgerun-demo-test-");
afterAll(() => tmp.cleanup());

describe("fleet demo", () => {
  it("releases, pushes, installs and serves the model on three agents", async () => {
    const { model } = convertFile(mlperfModelPath("kws"));
    model.golden = computeGolden(model, defaultGoldenInputs(model, 2)); // as `edgerun convert` stores them
    const erm = join(tmp.dir, "kws.erm");
    writeFileSync(erm, writeErm(model));
    const lines: string[] = [];
    const t0 = Date.now();
    await runFleetDemo((l) => lines.push(l), erm);
    const text = lines.join("\n");
    expect(text.match(/online\s+1\.0\.0\s+idle/g)?.length).toBe(3);
    expect(text.match(/POST http:\/\/127\.0\.0\.1:\d+\/v1\/infer ->/g)?.length).toBe(3);
    expect(text).toContain("MQTT edgerun/v1/devices/pi-kitchen/infer");
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
