// The WebAssembly component (build/runtime.component.wasm, wit/edgerun-runtime.wit), transpiled
// to JavaScript with jco and run in Node: the same outputs as the core SIMD module on every
// MLPerf Tiny golden, typed errors through the WIT `result`, and one model per instance.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { transpile } from "@bytecodealliance/jco";
import { convertFile } from "../../firmware-tools/lib/model/convert.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import { packageRoot } from "../../host/runtime/paths.js";
import { MLPERF, MlperfName, goldenCases, mlperfModelPath } from "../helpers/mlperf.js";

interface Inference {
  load(model: Uint8Array): void;
  run(input: Uint8Array): Uint8Array;
  describe(): { abiVersion: number; simd: boolean; opCount: number; arenaBytes: number; workingRamBytes: number; inputBytes: ArrayLike<number>; outputBytes: ArrayLike<number> };
  unload(): void;
}

const componentPath = join(packageRoot(), "build", "runtime.component.wasm");
const out = mkdtempSync(join(tmpdir(), "edgerun-component-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Transpiles once; each instance = a fresh import of the generated module (a new query string). */
async function instance(n: number): Promise<Inference> {
  const mod = await import(`${join(out, "edgerun.js")}?instance=${n}`);
  return mod.inference as Inference;
}

function errorPayload(fn: () => unknown): { code: string; expected?: bigint; actual?: bigint } {
  try {
    fn();
  } catch (e) {
    return (e as { payload?: { code: string } }).payload ?? { code: String(e) };
  }
  return { code: "no error" };
}
const errorCode = (fn: () => unknown) => errorPayload(fn).code;

describe("runtime.component.wasm", () => {
  beforeAll(async () => {
    if (!existsSync(componentPath)) throw new Error(`${componentPath} is missing: run npm run build:component`);
    const { files } = await transpile(readFileSync(componentPath), { name: "edgerun", outDir: out });
    for (const [path, bytes] of Object.entries(files)) {
      const target = path.startsWith("/") ? path : join(out, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
  });

  it.each(Object.keys(MLPERF) as MlperfName[])("%s: component outputs = core module outputs = golden outputs", async (name) => {
    const { bytes } = convertFile(mlperfModelPath(name));
    const rt = await instance(Object.keys(MLPERF).indexOf(name));
    rt.load(bytes);
    const core = Interpreter.load(bytes, { build: "simd" });
    const info = rt.describe();
    expect(info).toMatchObject({ abiVersion: 1, simd: true, opCount: core.opCount, arenaBytes: core.memory.arenaBytes });
    expect(Array.from(info.inputBytes)).toEqual(core.inputs.map((v) => v.length));
    for (const g of goldenCases(name)) {
      const got = rt.run(g.input);
      expect(Buffer.compare(Buffer.from(got), Buffer.from(core.run(g.input)[0])), `${name} ${g.name} vs core`).toBe(0);
      expect(Buffer.compare(Buffer.from(got), g.output), `${name} ${g.name} vs golden`).toBe(0);
    }
  });

  it("typed errors: a damaged model, a wrong input size, no model, a second load", async () => {
    const rt = await instance(10);
    expect(errorCode(() => rt.run(new Uint8Array(4)))).toBe("runtime-not-loaded");
    const { bytes } = convertFile(mlperfModelPath("kws"));
    const bad = bytes.slice();
    bad[100] ^= 0xff;
    expect(errorCode(() => rt.load(bad))).toBe("erm-checksum");
    expect(errorCode(() => rt.load(bytes.subarray(0, 20)))).toBe("erm-truncated");
    rt.load(bytes);
    expect(errorCode(() => rt.load(bytes))).toBe("runtime-bad-argument");
    expect(errorPayload(() => rt.run(new Uint8Array(7)))).toMatchObject({ code: "runtime-bad-argument", expected: 490n, actual: 7n });
    rt.unload();
    expect(errorCode(() => rt.describe())).toBe("runtime-not-loaded");
    rt.load(bytes);
    const g = goldenCases("kws")[0];
    expect(Buffer.compare(Buffer.from(rt.run(g.input)), g.output)).toBe(0);
  });
});
