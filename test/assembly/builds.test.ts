// The two shipped builds: the MVP build is what a small C host running WASM3 can load.

import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { runtimeModule, wasmPath } from "../../host/runtime/runtime.js";

function hasTool(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

describe("runtime-mvp.wasm", () => {
  it("validates with SIMD disabled (wabt's wasm-validate)", (ctx) => {
    if (!hasTool("wasm-validate")) {
      if (process.env.CI === "true") throw new Error("wasm-validate (Debian package wabt) is required under CI");
      ctx.skip("wasm-validate missing: install Debian package wabt");
    }
    const r = spawnSync("wasm-validate", ["--disable-simd", wasmPath("mvp")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const simd = spawnSync("wasm-validate", ["--disable-simd", wasmPath("simd")], { encoding: "utf8" });
    expect(simd.status, "the SIMD build must actually use SIMD").not.toBe(0);
  });

  it("imports nothing and owns a bounded memory", () => {
    const m = runtimeModule("mvp");
    expect(WebAssembly.Module.imports(m)).toEqual([]);
    expect(WebAssembly.Module.exports(m).find((e) => e.name === "memory")?.kind).toBe("memory");
    // Memory section: the limits flag 1 (has maximum) with a maximum of 5 pages (320 KiB).
    const bytes = readFileSync(wasmPath("mvp"));
    const text = spawnSync("wasm-objdump", ["-x", wasmPath("mvp")], { encoding: "utf8" });
    if (text.status === 0) expect(text.stdout).toMatch(/memory\[0\] pages: initial=\d+ max=5/);
    expect(bytes.length).toBeLessThan(64 * 1024);
  });

  it("the SIMD build also imports nothing", () => {
    expect(WebAssembly.Module.imports(runtimeModule("simd"))).toEqual([]);
  });
});
