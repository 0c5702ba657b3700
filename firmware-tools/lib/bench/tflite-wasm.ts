/**
 * Peer benchmark: TensorFlow Lite's own WebAssembly runtime (with XNNPACK), as shipped in
 * the npm package `@tensorflow/tfjs-tflite`, run in plain Node (single thread) so that it can
 * be timed side by side with edgerun in one process.
 *
 * The package's loader is written for a browser or a web worker. In Node it takes the
 * web-worker path (`typeof window === "undefined"`) once these globals exist, which we install
 * only while a model is being loaded and restore afterwards:
 *   - `self` (= globalThis) and `self.location` (a file:// URL of the package's wasm folder,
 *     from which the loader derives the URL of the Emscripten glue script);
 *   - `importScripts(url)`: evaluates the glue script with `vm.runInThisContext`;
 *   - `fetch`: serves file:// URLs (the .wasm file) from disk as `application/wasm`
 *     Responses, so that `WebAssembly.instantiateStreaming` works; other URLs go to the real
 *     fetch;
 *   - `MessageChannel`: a constructor that throws, so that the feature probe reports no
 *     multithreading and the loader picks the non-threaded SIMD build (the threaded one would
 *     need browser Workers).
 * The package itself is imported only inside loadTfliteWasm, under the shims: importing it
 * starts loading its wasm module at once, and without the shims that preload fails as an
 * unhandled rejection ("self is not defined") that ends a Node process.
 * After the first load, the compiled Emscripten module is cached by the package and no shim is
 * used at inference time.
 *
 * Per inference, run() does what a user of the package has to do: wrap the input in a tfjs
 * tensor (tfjs has no int8 dtype, so the int8 input is copied to int32), predict() (which copies
 * it back to int8 into the interpreter's input tensor, invokes, and copies the int8 output
 * into a new int32 tensor), read the output, dispose both tensors. predict() also
 * console.warn()s "converting 'int32' to 'int8'" on every call; run() drops exactly that
 * message (console.warn is swapped for the duration of the call and restored), since stderr
 * output is not part of the runtime's cost and would flood a benchmark's output.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

import type * as TfCore from '@tensorflow/tfjs-core';
import type { TFLiteModel } from '@tensorflow/tfjs-tflite';

export interface TfliteWasmModel {
  run(input: Int8Array): Int8Array;
  close(): void;
}

/** Name under which the loader looks up the Emscripten module factory on `self`. */
const FACTORY_GLOBAL = 'tflite_web_api_ModuleFactory';

/** Message predict() logs on every call for int8 inputs (tfjs tensors cannot be int8). */
const INT8_CONVERSION_WARNING = "WARNING: converting 'int32' to 'int8'";

/** Minimal view of the runner that TFLiteModel wraps (private in its typings). */
interface ModelRunner {
  getInputs(): { shape: string; dataType: string }[];
  getOutputs(): { shape: string; dataType: string }[];
  cleanUp(): void;
}

function wasmDir(): string {
  const require = createRequire(import.meta.url);
  // The package has no "exports" map, so its package.json is resolvable.
  return join(dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm');
}

type Globals = Record<string, unknown>;

/**
 * Installs the web-worker shims on globalThis and returns a function that restores the
 * previous state (previous property descriptors, or absence) of every global touched.
 */
function installWorkerShims(wasmDirectory: string): () => void {
  const g = globalThis as unknown as Globals;
  const saved = new Map<string, PropertyDescriptor | undefined>();
  const define = (name: string, value: unknown): void => {
    if (!saved.has(name)) saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  };

  const realFetch = globalThis.fetch;
  const location = {
    href: pathToFileURL(wasmDirectory + '/').href,
    origin: 'file://',
    protocol: 'file:',
  };

  define('self', globalThis);
  define('location', location);
  define('importScripts', (...urls: string[]): void => {
    for (const url of urls) {
      const file = fileURLToPath(url);
      const code = readFileSync(file, 'utf8');
      // Evaluate as a function body so that the script's top-level `var` stays local (a
      // top-level var would become a non-deletable global); its CommonJS epilogue hands us the
      // factory through `module.exports`.
      const wrapped = `(function (exports, module) {\n${code}\n})`;
      const fn = vm.runInThisContext(wrapped, { filename: file }) as (e: object, m: { exports: unknown }) => void;
      const exportsObject = {};
      const mod: { exports: unknown } = { exports: exportsObject };
      fn(exportsObject, mod);
      if (typeof mod.exports !== 'function') throw new Error(`tflite-wasm: ${file} did not export a module factory`);
      define(FACTORY_GLOBAL, mod.exports);
    }
  });
  define('fetch', async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('file:')) return realFetch(input, init);
    const bytes = await readFile(fileURLToPath(url));
    const type = url.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    return new Response(bytes, { status: 200, headers: { 'Content-Type': type } });
  });
  define(
    'MessageChannel',
    class {
      constructor() {
        throw new Error('tflite-wasm: MessageChannel disabled while loading (single-threaded build)');
      }
    },
  );

  return () => {
    for (const [name, desc] of saved) {
      if (desc) Object.defineProperty(globalThis, name, desc);
      else delete g[name];
    }
  };
}

type TfCoreModule = typeof TfCore;
type TfliteModule = typeof import('@tensorflow/tfjs-tflite');

/** tfjs-core with the CPU backend registered (tfjs-tflite creates its output tensors there). */
let tfCore: Promise<TfCoreModule> | undefined;
function importTfCore(): Promise<TfCoreModule> {
  tfCore ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.ready();
    return tf;
  })();
  return tfCore;
}

/** Loads are serialized: each one installs and restores process-wide globals. */
let loadQueue: Promise<unknown> = Promise.resolve();

async function loadModel(tflitePath: string): Promise<{ tf: TfCoreModule; model: TFLiteModel }> {
  const file = await readFile(tflitePath);
  const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
  const tf = await importTfCore();
  const restore = installWorkerShims(wasmDir());
  try {
    // Importing the package starts loading its wasm module at once (an eager preload that
    // needs the shims, and whose failure would be an unhandled rejection), so the import
    // happens here, not at the top of this file.
    const tflite: TfliteModule = await import('@tensorflow/tfjs-tflite');
    // '' = relative to self.location (the package's wasm folder): the path the preload used,
    // so loadTFLiteModel reuses the preloaded module.
    tflite.setWasmPath('');
    const model = await tflite.loadTFLiteModel(buffer, { numThreads: 1 });
    return { tf, model };
  } finally {
    restore();
  }
}

export async function loadTfliteWasm(tflitePath: string): Promise<TfliteWasmModel> {
  const loading = loadQueue.then(() => loadModel(tflitePath));
  loadQueue = loading.catch(() => undefined);
  const { tf, model } = await loading;

  const runner = (model as unknown as { modelRunner: ModelRunner }).modelRunner;
  const inputs = runner.getInputs();
  const outputs = runner.getOutputs();
  if (inputs.length !== 1 || outputs.length !== 1) {
    runner.cleanUp();
    throw new Error(`tflite-wasm: expected 1 input and 1 output, got ${inputs.length} and ${outputs.length}`);
  }
  const [input, output] = [inputs[0], outputs[0]];
  if (input.dataType !== 'int8' || output.dataType !== 'int8') {
    runner.cleanUp();
    throw new Error(`tflite-wasm: expected int8 input and output, got ${input.dataType} and ${output.dataType}`);
  }
  const inputShape = input.shape.split(',').map(Number);
  const inputSize = inputShape.reduce((a, b) => a * b, 1);
  let closed = false;

  return {
    run(data: Int8Array): Int8Array {
      if (closed) throw new Error('tflite-wasm: model is closed');
      if (data.length !== inputSize) {
        throw new Error(`tflite-wasm: input has ${data.length} values, model expects ${inputSize}`);
      }
      // predict() console.warn()s the int8 conversion on every call; drop exactly that
      // message (stderr I/O is not part of the runtime's cost), forward anything else.
      const warn = console.warn;
      console.warn = (...args: unknown[]): void => {
        if (!(args.length === 1 && args[0] === INT8_CONVERSION_WARNING)) warn.apply(console, args);
      };
      let x: TfCore.Tensor | undefined;
      let y: TfCore.Tensor | undefined;
      try {
        x = tf.tensor(Int32Array.from(data), inputShape, 'int32');
        y = model.predict(x) as TfCore.Tensor;
        return Int8Array.from(y.dataSync() as Int32Array);
      } finally {
        console.warn = warn;
        x?.dispose();
        y?.dispose();
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      runner.cleanUp();
    },
  };
}
