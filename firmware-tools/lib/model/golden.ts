// Golden vectors: input/output pairs stored in the model so a device can self-test after install.
// Outputs come from the reference kernels, the specification every build must match.

import { writeErm } from "../../../host/format/erm-writer.js";
import type { ErmModel, GoldenVector } from "../../../host/format/erm-types.js";
import { Interpreter } from "../../../host/runtime/runtime.js";

/** Deterministic pseudo-random bytes (xorshift32), so the same model always gets the same vector. */
export function seededBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Computes golden outputs for the given inputs (graph inputs concatenated) with the reference kernels. */
export function computeGolden(model: ErmModel, inputs: Uint8Array[]): GoldenVector[] {
  const it = Interpreter.load(writeErm({ ...model, golden: [] }));
  it.setKernelTier(0);
  return inputs.map((input) => {
    let o = 0;
    const parts = it.inputs.map((view) => {
      const p = input.subarray(o, o + view.length);
      o += view.length;
      return p;
    });
    return { input: input.slice(), output: concat(it.run(...parts).map((v) => v.slice())) };
  });
}

export function defaultGoldenInputs(model: ErmModel, count = 1): Uint8Array[] {
  const it = Interpreter.load(writeErm({ ...model, golden: [] }));
  const bytes = it.inputs.reduce((a, v) => a + v.length, 0);
  return Array.from({ length: count }, (_, i) => seededBytes(bytes, 0x5eed + i));
}
