import type { Command } from "commander";
import { readErm } from "../../host/format/erm-reader.js";
import { Interpreter } from "../../host/runtime/runtime.js";
import { benchInterpreter } from "../lib/model/bench.js";
import { readBin } from "./convert.js";
import { parseBuild, parsePositiveInt } from "./options.js";

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("median latency over many runs after warm-up, and per-layer times")
    .argument("<model>", ".erm file")
    .option("--build <build>", "runtime build: simd, mvp or auto", parseBuild, "auto")
    .option("--runs <n>", "timed runs", parsePositiveInt, 300)
    .option("--warmup <n>", "untimed runs first", parsePositiveInt, 50)
    .option("--json", "print one JSON object (includes medianUs)")
    .action((path: string, o: { build: "simd" | "mvp" | "auto"; runs: number; warmup: number; json?: boolean }) => {
      const bytes = readBin(path);
      const model = readErm(bytes);
      const it = Interpreter.load(bytes, { build: o.build, trusted: true });
      const r = benchInterpreter(it, model, o.runs, o.warmup);
      const mem = it.memory;
      if (o.json) {
        console.log(JSON.stringify({ model: model.meta.name, ...r, arenaBytes: mem.arenaBytes, workingRamBytes: mem.workingRamBytes }, null, 2));
        return;
      }
      console.log(`${model.meta.name} on the ${r.build} build: median ${r.medianUs.toFixed(1)} us, p90 ${r.p90Us.toFixed(1)} us, min ${r.minUs.toFixed(1)} us over ${r.runs} runs`);
      console.log(`working RAM ${mem.workingRamBytes} bytes (arena ${mem.arenaBytes})`);
      console.log("\n  #  op                      median us");
      for (const l of r.layers) console.log(`${String(l.index).padStart(3)}  ${l.op.padEnd(22)} ${l.medianUs.toFixed(2).padStart(10)}`);
    });
}
