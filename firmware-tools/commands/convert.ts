import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../../host/fs/atomic.js";
import { EdgerunError } from "../../host/format/errors.js";
import { convertGraph, importModelFile } from "../lib/model/convert.js";
import { computeGolden, defaultGoldenInputs } from "../lib/model/golden.js";
import { writeErm } from "../../host/format/erm-writer.js";
import { parseBytes } from "./options.js";

export function registerConvert(program: Command): void {
  program
    .command("convert")
    .description("convert an already-quantized model (int8 .tflite, or QDQ / QOperator .onnx) to an .erm file, with its static memory plan")
    .argument("<model>", "source model (.tflite or pre-quantized .onnx)")
    .requiredOption("-o, --output <file>", "the .erm file to write")
    .option("--max-ram <bytes>", "fail when the arena needs more than this (e.g. 18000, 40k)", parseBytes)
    .option("--no-fuse", "keep ADD ops separate from the convolutions that feed them")
    .option("--name <name>", "model name stored in the metadata")
    .option("--model-version <semver>", "model version stored in the metadata", "1.0.0")
    .option("--labels <file>", "text file with one class label per line")
    .option("--golden-input <file...>", "raw input files to store as self-test vectors (default: one seeded random input)")
    .action((model: string, o: { output: string; maxRam?: number; fuse: boolean; name?: string; modelVersion: string; labels?: string; goldenInput?: string[] }) => {
      const graph = importModelFile(model);
      const labels = o.labels ? readText(o.labels).split(/\r?\n/).map((s) => s.trim()).filter(Boolean) : undefined;
      const meta = { name: o.name ?? graph.name, version: o.modelVersion, ...(labels ? { labels } : {}) };
      const result = convertGraph(graph, { fuse: o.fuse, maxRamBytes: o.maxRam, meta });
      const inputs = o.goldenInput ? o.goldenInput.map(readBin) : defaultGoldenInputs(result.model);
      result.model.golden = computeGolden(result.model, inputs);
      const bytes = writeErm(result.model);
      writeFileAtomic(o.output, bytes);
      console.log(`wrote ${o.output}: ${bytes.length} bytes, ${result.model.ops.length} ops (${result.fusedAdds} ADD fused), arena ${result.plan.arenaBytes} bytes${o.maxRam ? ` (limit ${o.maxRam})` : ""}`);
    });
}

export function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new EdgerunError("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
}

export function readBin(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EdgerunError("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
}
