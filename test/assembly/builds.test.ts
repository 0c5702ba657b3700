// The two shipped builds: the MVP build is what a small C host running WASM3 can load.

import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { runtimeModule, wasmPath } from "../../host/runtime/runtime.js";
import { DEVICE_IMPORTS, DEVICE_IMPORT_MODULE } from "../../host/runtime/device-abi.js";
import { SIM_MEMORY_CAP_BYTES } from "../../firmware-tools/lib/mcu-sim/device.js";

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

  it("imports exactly the device ABI of docs/mcu-abi.md and owns a bounded memory", () => {
    const m = runtimeModule("mvp");
    const imports = WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}:${i.kind}`).sort();
    expect(imports).toEqual(DEVICE_IMPORTS.map((i) => `${DEVICE_IMPORT_MODULE}.${i.name}:function`).sort());
    const doc = readFileSync(new URL("../../docs/mcu-abi.md", import.meta.url), "utf8");
    for (const i of DEVICE_IMPORTS) expect(doc, `docs/mcu-abi.md documents ${i.name}`).toContain(`\`${i.name}(`);
    for (const e of ["device_init", "device_rx_buffer", "device_rx_capacity", "device_rx"]) {
      expect(WebAssembly.Module.exports(m).find((x) => x.name === e)?.kind, e).toBe("function");
    }
    expect(SIM_MEMORY_CAP_BYTES, "the device code's MEMORY_CAP_BYTES matches the build's maximum").toBe(5 * 65536);
    expect(WebAssembly.Module.exports(m).find((e) => e.name === "memory")?.kind).toBe("memory");
    // Memory section: the limits flag 1 (has maximum) with a maximum of 5 pages (320 KiB).
    const bytes = readFileSync(wasmPath("mvp"));
    const text = spawnSync("wasm-objdump", ["-x", wasmPath("mvp")], { encoding: "utf8" });
    if (text.status === 0) expect(text.stdout).toMatch(/memory\[0\] pages: initial=\d+ max=5/);
    expect(bytes.length).toBeLessThan(64 * 1024);
    if (text.status === 0) expect(text.stdout, "no passive data segments (WASM3's last release rejects them)").not.toMatch(/passive/);
  });

  it("the SIMD build also imports nothing", () => {
    expect(WebAssembly.Module.imports(runtimeModule("simd"))).toEqual([]);
  });
});
