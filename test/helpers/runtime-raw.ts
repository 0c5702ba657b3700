// Direct use of the runtime's exports (one instance, unload between models): for fuzzing
// thousands of files without instantiating a module each time.

import { runtimeModule, BuildName } from "../../host/runtime/runtime.js";
import { statusName } from "../../host/format/status.js";
import { inertDeviceImports } from "../../host/runtime/device-abi.js";

export class RawRuntime {
  private ex: any;
  constructor(readonly build: BuildName) {
    this.ex = new WebAssembly.Instance(runtimeModule(build), inertDeviceImports()).exports;
  }
  /** Loads bytes; returns the status name ("OK" or an ERM_* / RUNTIME_* code). Runs the model once when it loads. */
  load(bytes: Uint8Array, checkCrc = true): string {
    this.ex.unload();
    const p = this.ex.alloc(bytes.length);
    if (!p) return "RUNTIME_OUT_OF_MEMORY";
    new Uint8Array(this.ex.memory.buffer, p, bytes.length).set(bytes);
    const st = checkCrc ? this.ex.load(p, bytes.length) : this.ex.loadUnchecked(p, bytes.length);
    if (st === 0) {
      const r = this.ex.invoke();
      if (r !== 0) return `INVOKE_${statusName(r)}`;
    }
    return statusName(st);
  }
}
