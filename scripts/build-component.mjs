#!/usr/bin/env node
// Builds build/runtime.component.wasm, the runtime as a WebAssembly component
// (wit/edgerun-runtime.wit), for wasmtime and any other component host:
//   1. asc: assembly/build-component.ts with the SIMD build's options -> a core module
//   2. binaryen: rename the component_* exports to the canonical-ABI names of the WIT interface
//   3. jco componentEmbed: attach the WIT world (the module's component-type custom section)
//   4. jco componentNew: wrap the core module into a component
// jco's API is used rather than its CLI: the CLI runs wasm-tools under a WASI shim without
// filesystem preopens, so it cannot read a --wit path.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import binaryen from "binaryen";
import { componentEmbed, componentNew, componentWit } from "@bytecodealliance/jco";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const INTERFACE = "edgerun:runtime/inference@0.1.0";
const EXPORTS = { component_load: "load", component_run: "run", component_describe: "describe", component_unload: "unload" };
const core = join(root, "build", "runtime-component-core.wasm");
const out = join(root, "build", "runtime.component.wasm");

execFileSync(process.execPath, [join(root, "node_modules/assemblyscript/bin/asc.js"), "assembly/build-component.ts", "--target", "simd",
  "--outFile", core, "--textFile", join(root, "build", "runtime-component-core.wat")], { cwd: root, stdio: "inherit" });

const mod = binaryen.readBinary(readFileSync(core));
mod.setFeatures(binaryen.Features.All);
for (const [from, name] of Object.entries(EXPORTS)) {
  const info = binaryen.getExportInfo(mod.getExport(from));
  mod.removeExport(from);
  mod.addFunctionExport(info.value, `${INTERFACE}#${name}`);
}
const renamed = mod.emitBinary();
mod.dispose();

const embedded = await componentEmbed({ binary: renamed, witSource: readFileSync(join(root, "wit", "edgerun-runtime.wit"), "utf8"), world: "runtime" });
const component = await componentNew(embedded);
writeFileSync(out, component);
const wit = await componentWit(component);
if (!wit.includes("export edgerun:runtime/inference@0.1.0")) throw new Error(`unexpected component world:\n${wit}`);
console.log(`wrote build/runtime.component.wasm (${component.length} bytes)`);
