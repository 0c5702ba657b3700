import type { Command } from "commander";
import cliProgress from "cli-progress";
import { readErm } from "../../host/format/erm-reader.js";
import { writeFileAtomic } from "../../host/fs/atomic.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import { topClass } from "../lib/model/classify.js";
import { runBatch } from "../lib/model/batch.js";
import { readBin } from "./convert.js";
import { parseBuild } from "./options.js";

type Build = "simd" | "mvp" | "auto";

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run inference: raw input tensor bytes in and out, or a JSON Lines batch")
    .argument("<model>", ".erm file")
    .option("--input <file>", "raw input tensor bytes (one inference)")
    .option("--batch <inputs.jsonl>", 'run every line of a JSON Lines file ({"input": base64 | [numbers], "id": ...})')
    .option("-o, --output <file>", "raw output bytes (one inference) or the results JSON Lines (--batch)")
    .option("--build <build>", "runtime build: simd, mvp or auto", parseBuild, "auto")
    .action(async function (this: Command, path: string, o: { input?: string; batch?: string; output?: string; build: Build }) {
      if (o.batch) {
        if (!o.output) this.error("--batch needs -o <out.jsonl>");
        await batch(path, o.batch, o.output!, o.build);
        return;
      }
      if (!o.input) this.error("give --input <raw.bin> or --batch <inputs.jsonl>");
      single(path, o.input!, o.output, o.build);
    });
}

function single(path: string, inputPath: string, output: string | undefined, build: Build): void {
  const bytes = readBin(path);
  const model = readErm(bytes);
  const it = Interpreter.load(bytes, { build, trusted: true });
  const input = readBin(inputPath);
  const t0 = process.hrtime.bigint();
  const [out] = it.run(input);
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  if (output) writeFileAtomic(output, out.slice());
  const top = topClass(out, model.meta.outputs?.[0]?.dtype ?? "int8", model.meta.labels);
  console.log(`${it.build} build: ${us.toFixed(1)} us (first run, includes warm-up)`);
  if (top) console.log(`top class: ${top.label} (index ${top.index}, score ${top.score})`);
  if (output) console.log(`wrote ${output} (${out.length} bytes)`);
}

async function batch(path: string, inputs: string, output: string, build: Build): Promise<void> {
  const bar = new cliProgress.SingleBar({ format: "batch [{bar}] {value}/{total} lines", stream: process.stderr }, cliProgress.Presets.shades_classic);
  let started = false;
  try {
    const s = await runBatch(readBin(path), inputs, output, {
      build,
      onProgress: (done, total) => {
        if (!process.stderr.isTTY) return;
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.update(done);
      },
    });
    if (started) bar.stop();
    console.log(`wrote ${output}: ${s.ok} results, ${s.errors} line(s) with errors, median ${s.medianUs.toFixed(1)} us per inference`);
  } finally {
    if (started) bar.stop();
  }
}
