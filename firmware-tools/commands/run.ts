import type { Command } from "commander";
import { readErm } from "../../host/format/erm-reader.js";
import { writeFileAtomic } from "../../host/fs/atomic.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import { topClass } from "../lib/model/classify.js";
import { readBin } from "./convert.js";
import { parseBuild } from "./options.js";

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run one inference: raw input tensor bytes in, raw output tensor bytes out")
    .argument("<model>", ".erm file")
    .requiredOption("--input <file>", "raw input tensor bytes")
    .option("--output <file>", "where to write the raw output tensor bytes")
    .option("--build <build>", "runtime build: simd, mvp or auto", parseBuild, "auto")
    .action((path: string, o: { input: string; output?: string; build: "simd" | "mvp" | "auto" }) => {
      const bytes = readBin(path);
      const model = readErm(bytes);
      const it = Interpreter.load(bytes, { build: o.build, trusted: true });
      const input = readBin(o.input);
      const t0 = process.hrtime.bigint();
      const [out] = it.run(input);
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      if (o.output) writeFileAtomic(o.output, out.slice());
      const spec = model.meta.outputs?.[0];
      const top = topClass(out, spec?.dtype ?? "int8", model.meta.labels);
      console.log(`${it.build} build: ${us.toFixed(1)} us (first run, includes warm-up)`);
      if (top) console.log(`top class: ${top.label} (index ${top.index}, score ${top.score})`);
      if (o.output) console.log(`wrote ${o.output} (${out.length} bytes)`);
    });
}
