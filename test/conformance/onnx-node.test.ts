// ONNX's own backend node tests (Debian libonnx-testdata) through import + quantization + the
// runtime, in both builds (and both kernel tiers in the SIMD build). The allow-list names every
// case edgerun claims; the cases of the supported ops it does not claim are listed there with the
// reason. Tolerances: docs/conformance.md.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NODE_DIR } from "../helpers/onnx-case.js";
import { runNodeCase } from "../helpers/onnx-run.js";

const listFile = join(__dirname, "onnx-node-allowlist.txt");
const lines = readFileSync(listFile, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
const claimed = lines.filter((l) => !l.startsWith("!")).map((l) => l.split(/\s+/)[0]);
const excluded = new Map(lines.filter((l) => l.startsWith("!")).map((l) => {
  const [name, ...why] = l.slice(1).split(/\s+/);
  return [name, why.join(" ")] as const;
}));

/** Ops that only move or select values: the output is within one output step. */
const MOVEMENT = new Set(["Reshape", "Flatten", "Transpose", "Concat", "Pad", "MaxPool", "Identity", "Dropout", "QuantizeLinear", "DequantizeLinear"]);
const SUPPORTED = /^test_(conv|basic_conv|gemm|matmul|relu|clip|leakyrelu|sigmoid|tanh|hardswish|maxpool|averagepool|globalaveragepool|add|mul|concat|flatten|reshape|transpose|constant_pad|softmax|batchnorm|identity|dropout|qlinear|quantizelinear|dequantizelinear|matmulinteger|convinteger|basic_convinteger)/;

const present = existsSync(NODE_DIR);
if (!present && process.env.CI === "true") {
  it("libonnx-testdata is installed (CI requires it)", () => {
    expect.fail(`${NODE_DIR} is missing: install the Debian package libonnx-testdata`);
  });
}

describe.skipIf(!present)("ONNX backend node tests", () => {
  it("the allow-list covers every case of the supported ops (claimed or excluded with a reason)", () => {
    const cases = readdirSync(NODE_DIR).filter((n) => SUPPORTED.test(n) && !n.endsWith("_expanded"));
    const missing = cases.filter((n) => !claimed.includes(n) && !excluded.has(n));
    expect(missing).toEqual([]);
    for (const [name, why] of excluded) expect(why.length, `${name} needs a reason`).toBeGreaterThan(10);
    expect(claimed.every((n) => cases.includes(n))).toBe(true);
  });

  // Batches of cases keep the vitest overhead small; each case still reports its own name.
  const batches: string[][] = [];
  for (let i = 0; i < claimed.length; i += 20) batches.push(claimed.slice(i, i + 20));
  batches.forEach((batch, b) => {
    it(`claimed cases ${b * 20 + 1}-${b * 20 + batch.length}: both builds, both tiers`, () => {
      for (const name of batch) {
        const r = runNodeCase(name, [{ build: "simd", tier: 1 }, { build: "simd", tier: 0 }, { build: "mvp", tier: 1 }]);
        const tol = r.quantized ? 1 : r.opTypes.every((t) => MOVEMENT.has(t)) ? 1 : 2;
        expect(r.worstLsb, `${name}: worst deviation in output LSBs (tolerance ${tol})`).toBeLessThanOrEqual(tol);
      }
    });
  });
});
