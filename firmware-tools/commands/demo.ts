import type { Command } from "commander";
import { runDemo } from "../lib/demo/demo.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run the whole path on this machine with embedded defaults")
    .action(async () => {
      await runDemo((line) => console.log(line));
    });
}
