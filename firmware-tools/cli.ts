#!/usr/bin/env node
// edgerun: the operator CLI. Commands only parse arguments and print; the work is in lib/.
// Errors are caught once here: EdgerunError -> "error: CODE: message", exit 1; usage errors exit 2.

import { Command, CommanderError } from "commander";
import { EdgerunError } from "../host/format/errors.js";
import { registerConvert } from "./commands/convert.js";
import { registerCompress } from "./commands/compress.js";
import { registerInspect } from "./commands/inspect.js";
import { registerRun } from "./commands/run.js";
import { registerBench } from "./commands/bench.js";
import { registerDemo } from "./commands/demo.js";
import { registerBroker } from "./commands/broker.js";
import { registerKeys } from "./commands/keys.js";
import { registerRelease } from "./commands/release.js";
import { registerPush } from "./commands/push.js";
import { registerRollback } from "./commands/rollback.js";
import { registerStatus } from "./commands/status.js";
import { registerAgent } from "./commands/agent.js";
import { registerDevices } from "./commands/devices.js";
import { registerFlash } from "./commands/flash.js";
import { registerSerialRun } from "./commands/serial-run.js";
import { registerLogs } from "./commands/logs.js";
import { registerSimMcu } from "./commands/sim-mcu.js";
import { registerCollect } from "./commands/collect.js";
import { registerReport } from "./commands/report.js";
import { registerDashboard } from "./commands/dashboard.js";

export function buildProgram(): Command {
  const program = new Command("edgerun")
    .description("Compress, run, ship and operate int8 neural networks on small devices.")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerConvert(program);
  registerCompress(program);
  registerInspect(program);
  registerRun(program);
  registerBench(program);
  registerDemo(program);
  registerBroker(program);
  registerKeys(program);
  registerRelease(program);
  registerPush(program);
  registerRollback(program);
  registerStatus(program);
  registerAgent(program);
  registerDevices(program);
  registerFlash(program);
  registerSerialRun(program);
  registerLogs(program);
  registerSimMcu(program);
  registerCollect(program);
  registerReport(program);
  registerDashboard(program);
  program.commands.forEach((c) => {
    c.exitOverride();
    c.commands.forEach((s) => s.exitOverride());
  });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help" ? 0 : 2;
    }
    if (e instanceof EdgerunError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] && /cli\.(js|ts)$/.test(process.argv[1]) || process.argv[1]?.endsWith("/edgerun");
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
