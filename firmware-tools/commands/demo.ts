import type { Command } from "commander";
import { runDemo } from "../lib/demo/demo.js";
import { parsePositiveInt } from "./options.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run the whole path on this machine with embedded defaults: compress, release, push, flash, infer, collect, report")
    .option("--no-mlperf", "skip the MLPerf Tiny kws step")
    .option("--db <file>", "keep the telemetry database here (default: removed with the demo's temp dir)")
    .option("--load-ms <ms>", "inference load per release", parsePositiveInt, 6000)
    .option("--serve", "keep the dashboard running after the demo until Ctrl-C")
    .action(async (o: { mlperf: boolean; db?: string; loadMs: number; serve?: boolean }) => {
      const r = await runDemo((line) => console.log(line), { mlperf: o.mlperf === false ? false : undefined, db: o.db, loadMs: o.loadMs, serve: o.serve });
      if (!o.serve) return;
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await r.close();
    });
}
