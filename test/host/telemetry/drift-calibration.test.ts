// Drift scores for models made by `edgerun compress`: their calibration histogram is stored as
// int8-space bins {lo, bins, binWidth, proportions}; the agent reads it as the same histogram.

import { describe, expect, it } from "vitest";
import { calibrationOf, DriftMeter } from "../../../host/telemetry/drift.js";
import type { ErmMeta } from "../../../host/format/erm-types.js";

describe("calibrationOf", () => {
  const proportions = Array.from({ length: 32 }, (_, i) => (i < 16 ? 1 / 16 : 0));
  const meta = { calibration: { inputs: [{ name: "x", space: "int8", bins: 32, binWidth: 8, lo: -128, proportions, min: 0, max: 1, mean: 0.3, std: 0.2 }] } } as unknown as ErmMeta;

  it("reads compress's int8 bins as [-128, 127] in 32 bins", () => {
    expect(calibrationOf(meta)).toEqual({ min: -128, max: 127, counts: proportions });
  });

  it("scores inputs from the calibration range as stable and shifted inputs as drifted", () => {
    const m = new DriftMeter(calibrationOf(meta)!, true);
    m.observe(new Uint8Array(Int8Array.from({ length: 7 * 1000 }, (_, i) => -128 + (i % 128)).buffer));
    expect(m.take()!.psi).toBeLessThan(0.1);
    m.observe(new Uint8Array(Int8Array.from({ length: 7 * 1000 }, (_, i) => i % 128).buffer));
    expect(m.take()!.psi).toBeGreaterThan(0.25);
  });
});
