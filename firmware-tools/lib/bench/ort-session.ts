// onnxruntime as a benchmark peer: onnxruntime-node (native CPU provider) and onnxruntime-web
// (its WebAssembly build, run in Node), both on one thread, behind one small interface. Also
// reports which kernels ORT actually ran for a model, from a profiled run, so a benchmark can say
// whether a QDQ graph was fused into integer kernels or silently ran in float.

import fs, { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";

export type OrtBackend = "node" | "web";

export interface OrtModel {
  backend: OrtBackend;
  /**
   * One inference on a float input in ONNX order: the tensor is created per call and the output
   * read back, as a user of the API pays it.
   */
  run(x: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The part of onnxruntime-common's API used here (both packages export it). */
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  endProfiling(): unknown;
  release(): Promise<void>;
}
interface OrtApi {
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
}

async function api(backend: OrtBackend): Promise<OrtApi> {
  try {
    if (backend === "node") return (await import("onnxruntime-node")) as unknown as OrtApi;
    const web = await import("onnxruntime-web");
    // One thread: no worker pool, and the same budget as edgerun and onnxruntime-node get here.
    web.env.wasm.numThreads = 1;
    web.env.logLevel = "error";
    return web as unknown as OrtApi;
  } catch (e) {
    throw new EdgerunError("BENCH_PEER_MISSING", `onnxruntime-${backend} cannot be loaded: ${(e as Error).message}`, { peer: `onnxruntime-${backend}` });
  }
}

function sessionOptions(backend: OrtBackend, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const common = { graphOptimizationLevel: "all", logSeverityLevel: 3, ...extra };
  return backend === "node"
    ? { ...common, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", executionProviders: ["cpu"] }
    : { ...common, executionProviders: ["wasm"] };
}

export async function loadOrt(backend: OrtBackend, model: Uint8Array, shape: number[]): Promise<OrtModel> {
  const ort = await api(backend);
  const session = await ort.InferenceSession.create(model, sessionOptions(backend));
  const [input] = session.inputNames, [output] = session.outputNames;
  return {
    backend,
    run: async (x) => (await session.run({ [input]: new ort.Tensor("float32", x, shape) }))[output].data as Float32Array,
    release: () => session.release(),
  };
}

/**
 * Op types of the kernels ORT ran for one inference (after its graph optimizations), from its
 * profiler; undefined when the profile cannot be read. onnxruntime-node writes the profile to a
 * file; onnxruntime-web's WebAssembly module prints it with fs.writeSync(1, ...), so those writes
 * are captured for the duration of that one call.
 */
export async function executedKernels(backend: OrtBackend, model: Uint8Array, x: Float32Array, shape: number[]): Promise<string[] | undefined> {
  const ort = await api(backend);
  const dir = mkdtempSync(join(tmpdir(), "edgerun-ort-profile-"));
  try {
    const session = await ort.InferenceSession.create(model, sessionOptions(backend, { enableProfiling: true, profileFilePrefix: join(dir, "profile") }));
    await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", x, shape) });
    let text = "";
    if (backend === "web") text = captureStdout(() => session.endProfiling());
    else {
      session.endProfiling();
      const file = readdirSync(dir).find((f) => f.endsWith(".json"));
      text = file ? readFileSync(join(dir, file), "utf8") : "";
    }
    await session.release();
    return kernelsOf(text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function captureStdout(fn: () => unknown): string {
  const chunks: string[] = [];
  const writeSync = fs.writeSync;
  const patched = (fd: number, data: unknown, ...rest: unknown[]): number => {
    if (fd === 1 && typeof data === "string") {
      chunks.push(data);
      return Buffer.byteLength(data);
    }
    return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  };
  fs.writeSync = patched as typeof fs.writeSync;
  try {
    fn();
  } finally {
    fs.writeSync = writeSync;
  }
  return chunks.join("");
}

/** Chrome-trace JSON from ORT's profiler -> op_name of every node event, in order. */
function kernelsOf(text: string): string[] | undefined {
  const start = text.indexOf("["), end = text.lastIndexOf("]");
  if (start < 0 || end < start) return undefined;
  try {
    const events = JSON.parse(text.slice(start, end + 1)) as { cat?: string; args?: { op_name?: string } }[];
    return events.filter((e) => e.cat === "Node" && e.args?.op_name).map((e) => e.args!.op_name!);
  } catch {
    return undefined;
  }
}

/**
 * A QDQ graph is fused when no DequantizeLinear runs except at the outputs and no QuantizeLinear
 * except at the inputs: everything between ran on integer kernels.
 */
export function qdqFused(kernels: string[], inputs: number, outputs: number): boolean {
  const count = (op: string) => kernels.filter((k) => k === op).length;
  return count("DequantizeLinear") <= outputs && count("QuantizeLinear") <= inputs;
}

/** "QLinearConv x9, QGemm, ..." in first-run order (layout Transposes and Reshapes left out). */
export function describeKernels(kernels: string[]): string {
  const counts = new Map<string, number>();
  for (const k of kernels) if (k !== "Transpose" && k !== "Reshape") counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${k} x${n}` : k)).join(", ");
}
