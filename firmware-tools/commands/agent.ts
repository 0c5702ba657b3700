import type { Command } from "commander";
import { runAgentProcess } from "../../host/agent/main.js";

export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("run the device agent: install releases, serve inference, report status and telemetry")
    .requiredOption("--config <file>", "agent config (JSON): deviceId, broker, publicKeys, groups, dataDir, api, ...")
    .action(async (o: { config: string }) => {
      await runAgentProcess(o.config);
      await new Promise(() => undefined); // runs until SIGINT/SIGTERM (handled by runAgentProcess)
    });
}
