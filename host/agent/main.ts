#!/usr/bin/env node
// Device entry point: node dist/host/agent/main.js --config <file>. Prints one JSON line per
// event on stdout (boot, phase changes, outcomes, warnings); stops cleanly on SIGTERM/SIGINT.
// The operator CLI's `edgerun agent` runs the same Agent.

import { EdgerunError } from "../format/errors.js";
import { Agent } from "./agent.js";
import { loadAgentConfig } from "./config.js";

export async function runAgentProcess(configPath: string, print: (line: string) => void = (l) => process.stdout.write(l + "\n")): Promise<Agent> {
  const config = loadAgentConfig(configPath);
  const agent = await Agent.start(config, (e) => print(JSON.stringify({ t: Date.now(), device: config.deviceId, ...e })));
  const stop = () => {
    const hardExit = setTimeout(() => process.exit(1), 5000);
    agent.stop().then(() => { clearTimeout(hardExit); process.exit(0); });
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  return agent;
}

const invoked = process.argv[1]?.endsWith("agent/main.js");
if (invoked) {
  const i = process.argv.indexOf("--config");
  if (i < 0 || !process.argv[i + 1]) {
    process.stderr.write("usage: main.js --config <agent.json>\n");
    process.exit(2);
  }
  runAgentProcess(process.argv[i + 1]).catch((e) => {
    process.stderr.write(`error: ${e instanceof EdgerunError ? e.message : (e as Error).stack}\n`);
    process.exit(1);
  });
}
