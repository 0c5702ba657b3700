import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { extname } from "node:path";
import cliProgress from "cli-progress";
import { writeFileAtomic } from "../../host/fs/atomic.js";
import { EdgerunError } from "../../host/format/errors.js";
import { compressOnnx, CompressOptions } from "../lib/compress/compress.js";
import { formatReport, reportHtml } from "../lib/compress/report.js";
import { readText } from "./convert.js";
import { CALIB_METHODS } from "../lib/quantize/calibrate.js";

function parseFraction(v: string): number {
  const n = Number(v.endsWith("%") ? Number(v.slice(0, -1)) / 100 : v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a fraction such as 0.7 or 70%, got "${v}"`);
  return n;
}

function parseNm(v: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`expected N:M such as 2:4, got "${v}"`);
  return [Number(m[1]), Number(m[2])];
}

function parseBlock(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError(`expected RxC such as 4x8, got "${v}"`);
  return [Number(m[1]), Number(m[2])];
}

function parseList(v: string): number[] {
  const xs = v.split(",").map(Number);
  if (xs.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`expected comma-separated numbers, got "${v}"`);
  return xs;
}

function parseNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
}

interface Opts {
  calib: string; output: string; calibMethod: string; calibLimit?: number; eval?: string; prune?: number; pruneScope: string; nm?: [number, number];
  pruneChannels?: number; maxDrop?: number; pruneBlock?: [number, number]; sparse: string; scale?: number; mean?: number[]; std?: number[]; labels?: string; name?: string;
  modelVersion: string; report?: string[]; progress: boolean;
}

export function registerCompress(program: Command): void {
  program
    .command("compress")
    .description("quantize a float ONNX model to int8 (calibrated, per-channel), optionally prune it, and report size, accuracy and latency")
    .argument("<model>", "float ONNX model")
    .requiredOption("--calib <data>", "calibration inputs: .npy, .csv, .jsonl or raw float32")
    .requiredOption("-o, --output <file>", "the .erm to write")
    .option("--calib-method <method>", "minmax, percentile, mse, entropy (KL divergence) or auto (best SQNR per layer)", "minmax")
    .option("--calib-limit <n>", "use at most n calibration samples", parseNumber)
    .option("--eval <data>", "labelled data for accuracy: CSV with the label last, or JSON Lines {input, label}")
    .option("--prune <sparsity>", "magnitude-prune this fraction of weights (0.7 or 70%)", parseFraction)
    .option("--prune-scope <scope>", "layer (each layer loses the fraction) or global (one threshold)", "layer")
    .option("--nm <N:M>", "N:M structured sparsity, e.g. 2:4", parseNm)
    .option("--prune-block <RxC>", "prune whole blocks of R output channels x C inputs (4x8 suits the SIMD sparse kernels)", parseBlock)
    .option("--prune-channels <fraction>", "remove this fraction of output channels of each conv/FC", parseFraction)
    .option("--max-drop <points>", "with --eval: per-layer sparsities from a sensitivity scan, losing at most this many accuracy points", parseNumber)
    .option("--sparse <mode>", "sparse weight encodings: auto (stored sparse where smaller, run sparse where measured faster), size (auto, but always the smallest encoding), always, never", "auto")
    .option("--scale <s>", "input preprocessing: multiply raw inputs by s", parseNumber)
    .option("--mean <list>", "input preprocessing: subtract per-channel means (after scale)", parseList)
    .option("--std <list>", "input preprocessing: divide by per-channel std", parseList)
    .option("--labels <file>", "class labels, one per line")
    .option("--name <name>", "model name in the metadata")
    .option("--model-version <semver>", "model version in the metadata", "1.0.0")
    .option("--report <file...>", "also write the report as .json and/or .html")
    .option("--no-progress", "no progress bar")
    .action(async (model: string, o: Opts) => {
      if (!([...CALIB_METHODS, "auto"] as string[]).includes(o.calibMethod)) throw new EdgerunError("CLI_BAD_OPTION", `--calib-method must be ${CALIB_METHODS.join(", ")} or auto, not ${o.calibMethod}`);
      if (!["auto", "size", "always", "never"].includes(o.sparse)) throw new EdgerunError("CLI_BAD_OPTION", `--sparse must be auto, size, always or never, not ${o.sparse}`);
      if (!["layer", "global"].includes(o.pruneScope)) throw new EdgerunError("CLI_BAD_OPTION", `--prune-scope must be layer or global, not ${o.pruneScope}`);
      for (const r of o.report ?? []) if (![".json", ".html"].includes(extname(r))) throw new EdgerunError("CLI_BAD_OPTION", `--report files end in .json or .html: ${r}`);
      const bar = o.progress && process.stderr.isTTY ? new cliProgress.SingleBar({ format: "{step} [{bar}] {value}/{total}", stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
      let step = "";
      const onProgress: CompressOptions["onProgress"] = (s, done, total) => {
        if (!bar) return;
        if (s !== step) {
          if (step) bar.stop();
          step = s;
          bar.start(total, done, { step: s.padEnd(28) });
        } else bar.update(done);
      };
      const pre = o.scale !== undefined || o.mean || o.std ? { scale: o.scale, mean: o.mean, std: o.std } : undefined;
      const labels = o.labels ? readText(o.labels).split(/\r?\n/).map((s) => s.trim()).filter(Boolean) : undefined;
      try {
        const r = await compressOnnx(model, {
          calibPath: o.calib, calibMethod: o.calibMethod as CompressOptions["calibMethod"], calibLimit: o.calibLimit, preprocessing: pre, evalPath: o.eval,
          prune: o.prune, pruneScope: o.pruneScope as "layer" | "global", nm: o.nm, block: o.pruneBlock, pruneChannels: o.pruneChannels, maxDrop: o.maxDrop,
          sparse: o.sparse as CompressOptions["sparse"], name: o.name, version: o.modelVersion, labels, onProgress,
        });
        bar?.stop();
        writeFileAtomic(o.output, r.bytes);
        for (const p of o.report ?? []) writeFileAtomic(p, extname(p) === ".json" ? JSON.stringify(r.report, null, 2) : reportHtml(r.report));
        for (const line of formatReport(r.report)) console.log(line);
        console.log(`\nwrote ${o.output} (${r.bytes.length} bytes)${o.report ? `, ${o.report.join(", ")}` : ""}`);
      } finally {
        bar?.stop();
      }
    });
}
