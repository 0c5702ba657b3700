// convert: a source model file -> .erm, with the memory plan checked against a RAM budget.

import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import type { ErmMeta, GoldenVector } from "../../../host/format/erm-types.js";
import { importTflite } from "../import/tflite.js";
import { importOnnxQuantized } from "../import/onnx/convert.js";
import { compileGraph, Compiled } from "../compile/compile.js";
import type { Graph } from "../compile/graph.js";

export interface ConvertOptions {
  fuse?: boolean;
  maxRamBytes?: number;
  meta?: Partial<ErmMeta>;
  golden?: GoldenVector[];
}

export interface ConvertResult extends Compiled { bytes: Uint8Array }

/** Metadata an importer derived from the source model (ONNX: I/O layouts), merged by convertGraph. */
const importedMeta = new WeakMap<Graph, Partial<ErmMeta>>();

export function importModelFile(path: string): Graph {
  let data: Uint8Array;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw new EdgerunError("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path });
  }
  const name = basename(path, extname(path));
  switch (extname(path).toLowerCase()) {
    case ".tflite":
      return importTflite(data, name);
    case ".onnx": {
      const { graph, meta } = importOnnxQuantized(data, name);
      importedMeta.set(graph, meta);
      return graph;
    }
    default:
      throw new EdgerunError("CONVERT_UNKNOWN_FORMAT", `cannot tell the model format of ${path} (expected .tflite or .onnx)`, { path });
  }
}

export function convertGraph(graph: Graph, opts: ConvertOptions = {}): ConvertResult {
  const meta = { source: graph.name, ...importedMeta.get(graph), ...opts.meta };
  const compiled = compileGraph(graph, { fuse: opts.fuse, maxRamBytes: opts.maxRamBytes, meta, golden: opts.golden });
  return { ...compiled, bytes: writeErm(compiled.model) };
}

export function convertFile(path: string, opts: ConvertOptions = {}): ConvertResult {
  return convertGraph(importModelFile(path), opts);
}
