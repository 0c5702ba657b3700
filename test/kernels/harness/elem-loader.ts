// Builds and loads test/kernels/harness/elem-harness.ts in both builds (SIMD128 and MVP),
// and wraps its exports with typed helpers for the elementwise-family tests.
import asc from "assemblyscript/asc";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../../..");
const entry = "test/kernels/harness/elem-harness.ts";
const outDir = join(repoRoot, "build/test");

export type BuildName = "simd" | "mvp";

/** The AddParams part of an add block, in the harness's field order. */
export function addParamFields(p: {
  in1Offset: number; in2Offset: number; leftShift: number; in1Mult: number; in1Shift: number; in2Mult: number;
  in2Shift: number; outMult: number; outShift: number; outOffset: number; actMin: number; actMax: number;
}): number[] {
  return [p.in1Offset, p.in2Offset, p.leftShift, p.in1Mult, p.in1Shift, p.in2Mult, p.in2Shift, p.outMult, p.outShift, p.outOffset, p.actMin, p.actMax];
}

/** Compiles the harness for one build; throws with the compiler's output on failure. */
export async function compileHarness(build: BuildName): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `elem-${build}.wasm`);
  const args = [entry, "-o", outFile, "--runtime", "stub", "-O3", "--noAssert", "--baseDir", repoRoot];
  if (build === "simd") args.push("--enable", "simd");
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main(args, { stdout, stderr });
  if (error) throw new Error(`asc (${build}) failed: ${error.message}\n${stderr.toString()}`);
  return outFile;
}

interface HarnessExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  hasSimd(): number;
  variantName(family: number, id: number): number;
  probeFixedPoint(kind: number, a: number, b: number, out: number, n: number): number;
  runPool(op: number, variant: number, block: number): number;
  dispatchPool(op: number, tier: number, block: number): void;
  runAdd(variant: number, block: number): number;
  dispatchAdd(tier: number, block: number): void;
  dispatchSoftmax(tier: number, block: number): void;
  dispatchQuantize(tier: number, block: number): void;
  dispatchMean(tier: number, block: number): void;
  concatInputLayout(k: number): number;
  dispatchConcat(tier: number, block: number): void;
  dispatchPad(tier: number, block: number): void;
}

/** One instantiated harness with a bump allocator over its memory. */
export class ElemHarness {
  readonly x: HarnessExports;
  constructor(readonly build: BuildName, instance: WebAssembly.Instance) {
    this.x = instance.exports as unknown as HarnessExports;
  }

  static async load(build: BuildName, file: string): Promise<ElemHarness> {
    const bytes = readFileSync(file);
    const { instance } = await WebAssembly.instantiate(bytes, {
      env: {
        abort(msg: number, fileName: number, line: number, col: number) {
          throw new Error(`abort at ${line}:${col}`);
        },
      },
    });
    return new ElemHarness(build, instance);
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.x.memory.buffer);
  }

  alloc(bytes: number): number {
    return this.x.alloc(Math.max(bytes, 1));
  }

  putI8(values: ArrayLike<number>): number {
    const ptr = this.alloc(values.length + 16); // slack: SIMD kernels never read past, but keep tests robust
    new Int8Array(this.x.memory.buffer, ptr, values.length).set(values);
    return ptr;
  }

  putU8(values: ArrayLike<number>): number {
    const ptr = this.alloc(values.length);
    new Uint8Array(this.x.memory.buffer, ptr, values.length).set(values);
    return ptr;
  }

  putF32(values: ArrayLike<number>): number {
    const ptr = this.alloc(values.length * 4);
    const view = new DataView(this.x.memory.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(ptr + 4 * i, values[i], true);
    return ptr;
  }

  /** An i32 argument block; numbers are written as i32, {f32: v} as float32 bits. */
  block(fields: Array<number | { f32: number }>): number {
    const ptr = this.alloc(fields.length * 4);
    const view = new DataView(this.x.memory.buffer);
    fields.forEach((f, i) => {
      if (typeof f === "number") view.setInt32(ptr + 4 * i, f, true);
      else view.setFloat32(ptr + 4 * i, f.f32, true);
    });
    return ptr;
  }

  readI8(ptr: number, n: number): Int8Array {
    return new Int8Array(this.x.memory.buffer.slice(ptr, ptr + n));
  }

  readU8(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer.slice(ptr, ptr + n));
  }

  readF32(ptr: number, n: number): Float32Array {
    const view = new DataView(this.x.memory.buffer);
    return Float32Array.from({ length: n }, (_, i) => view.getFloat32(ptr + 4 * i, true));
  }

  /** Names of a family's variants (0 avgpool, 1 maxpool, 2 add) as listed in its variants.ts. */
  variantNames(family: number): string[] {
    const names: string[] = [];
    for (let id = 0; ; id++) {
      const ptr = this.x.variantName(family, id);
      if (ptr === 0) return names;
      const view = new DataView(this.x.memory.buffer);
      const byteLength = view.getUint32(ptr - 4, true); // rtSize of the string object
      names.push(String.fromCharCode(...new Uint16Array(this.x.memory.buffer.slice(ptr, ptr + byteLength))));
    }
  }
}
