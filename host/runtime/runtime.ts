// Host binding of the WebAssembly runtime: picks the build (SIMD when the engine validates a
// SIMD probe, else MVP), loads a model, runs it. Statuses become EdgerunError with the model
// position that failed. Input and output views are made once at load: a run allocates nothing.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EdgerunError } from "../format/errors.js";
import { STATUS, statusName } from "../format/status.js";
import { packageRoot } from "./paths.js";
import { deviceImage } from "../format/erm-device.js";
import { inertDeviceImports } from "./device-abi.js";

export type BuildName = "simd" | "mvp";

interface Exports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  hasSimd(): number;
  alloc(bytes: number): number;
  load(ptr: number, bytes: number): number;
  loadUnchecked(ptr: number, bytes: number): number;
  invoke(): number;
  invokeOps(from: number, to: number): number;
  setKernelTier(t: number): void;
  opCount(): number;
  inputCount(): number;
  outputCount(): number;
  inputPtr(i: number): number;
  inputBytes(i: number): number;
  outputPtr(i: number): number;
  outputBytes(i: number): number;
  tensorPtr(t: number): number;
  arenaBytes(): number;
  workingRamBytes(): number;
  heapEnd(): number;
  errorWhere(): number;
  errorOp(): number;
  errorTensor(): number;
  errorExpected(): bigint;
  errorActual(): bigint;
}

// (module (func (result v128) v128.const i32x4 0 0 0 0))
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);

export function engineHasSimd(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

const modules = new Map<BuildName, WebAssembly.Module>();

export function wasmPath(build: BuildName): string {
  return join(packageRoot(), "build", `runtime-${build}.wasm`);
}

export function runtimeModule(build: BuildName): WebAssembly.Module {
  let m = modules.get(build);
  if (!m) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(wasmPath(build));
    } catch {
      throw new EdgerunError("RUNTIME_NOT_BUILT", `${wasmPath(build)} is missing: run npm run build`, { path: wasmPath(build) });
    }
    m = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    modules.set(build, m);
  }
  return m;
}

export function chooseBuild(requested: BuildName | "auto" = "auto"): BuildName {
  if (requested === "simd" && !engineHasSimd()) throw new EdgerunError("RUNTIME_NO_SIMD", "this engine does not support WebAssembly SIMD; use --build mvp");
  if (requested === "auto") return engineHasSimd() ? "simd" : "mvp";
  return requested;
}

export interface LoadOptions {
  build?: BuildName | "auto";
  /** Skip the CRC check inside the runtime (the caller verified the bytes already). */
  trusted?: boolean;
}

export class Interpreter {
  readonly build: BuildName;
  readonly inputs: Uint8Array[] = [];
  readonly outputs: Uint8Array[] = [];
  private readonly ex: Exports;

  private constructor(build: BuildName, ex: Exports) {
    this.build = build;
    this.ex = ex;
  }

  /** Loads the model's device image (metadata and golden vectors stay outside the runtime's memory). */
  static load(file: Uint8Array, opts: LoadOptions = {}): Interpreter {
    const build = chooseBuild(opts.build);
    const model = deviceImage(file);
    const instance = new WebAssembly.Instance(runtimeModule(build), inertDeviceImports());
    const ex = instance.exports as unknown as Exports;
    const it = new Interpreter(build, ex);
    const ptr = ex.alloc(model.length);
    if (ptr === 0) throw new EdgerunError("RUNTIME_OUT_OF_MEMORY", "the model does not fit the runtime's memory", { build, actual: model.length });
    new Uint8Array(ex.memory.buffer, ptr, model.length).set(model);
    const st = opts.trusted ? ex.loadUnchecked(ptr, model.length) : ex.load(ptr, model.length);
    if (st !== STATUS.OK) throw it.statusError(st, "the runtime rejected the model");
    const buf = ex.memory.buffer;
    for (let i = 0; i < ex.inputCount(); i++) it.inputs.push(new Uint8Array(buf, ex.inputPtr(i), ex.inputBytes(i)));
    for (let i = 0; i < ex.outputCount(); i++) it.outputs.push(new Uint8Array(buf, ex.outputPtr(i), ex.outputBytes(i)));
    return it;
  }

  statusError(st: number, message: string): EdgerunError {
    const ex = this.ex;
    const where = ex.errorWhere(), op = ex.errorOp(), tensor = ex.errorTensor();
    return new EdgerunError(statusName(st), message, {
      build: this.build,
      offset: where >= 0 ? where : undefined,
      op: op >= 0 ? op : undefined,
      tensor: tensor >= 0 ? tensor : undefined,
      expected: Number(ex.errorExpected()),
      actual: Number(ex.errorActual()),
    });
  }

  /** Copies the input (checked size), runs all ops, returns the output views (valid until the next run). */
  run(...inputs: Uint8Array[]): Uint8Array[] {
    if (inputs.length !== this.inputs.length) {
      throw new EdgerunError("INFER_BAD_INPUT", "wrong number of inputs", { expected: this.inputs.length, actual: inputs.length });
    }
    inputs.forEach((x, i) => {
      if (x.length !== this.inputs[i].length) throw new EdgerunError("INFER_BAD_INPUT", `input ${i} has the wrong size`, { expected: this.inputs[i].length, actual: x.length });
      this.inputs[i].set(x);
    });
    this.invoke();
    return this.outputs;
  }

  /** Runs the graph on the bytes already in the input views. */
  invoke(): void {
    const st = this.ex.invoke();
    if (st !== STATUS.OK) throw this.statusError(st, "invoke failed");
  }

  invokeOps(from: number, to: number): void {
    const st = this.ex.invokeOps(from, to);
    if (st !== STATUS.OK) throw this.statusError(st, "invoke failed");
  }

  /** 0 = reference kernels, 1 = fast kernels (default). */
  setKernelTier(tier: 0 | 1): void {
    this.ex.setKernelTier(tier);
  }

  get opCount(): number {
    return this.ex.opCount();
  }

  /** A view of any tensor's current bytes (for layer-by-layer checks). */
  tensor(t: number, bytes: number): Uint8Array {
    const p = this.ex.tensorPtr(t);
    if (!p) throw new EdgerunError("RUNTIME_BAD_ARGUMENT", "no such tensor", { tensor: t });
    return new Uint8Array(this.ex.memory.buffer, p, bytes);
  }

  get memory(): { arenaBytes: number; workingRamBytes: number; linearMemoryBytes: number; heapEnd: number } {
    return {
      arenaBytes: this.ex.arenaBytes(),
      workingRamBytes: this.ex.workingRamBytes(),
      linearMemoryBytes: this.ex.memory.buffer.byteLength,
      heapEnd: this.ex.heapEnd(),
    };
  }
}
