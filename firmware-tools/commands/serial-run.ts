import type { Command } from "commander";
import { writeFileAtomic } from "../../host/fs/atomic.js";
import { DeviceClient } from "../lib/serial/client.js";
import { readBin } from "./convert.js";
import { serialOptions, clientOptions, SerialFlags } from "./serial-options.js";

export function registerSerialRun(program: Command): void {
  serialOptions(
    program
      .command("serial-run")
      .description("run one inference on a device: raw input tensor bytes in, raw output bytes and device time out")
      .argument("<input>", "raw input tensor bytes (the graph inputs concatenated)"),
  )
    .option("--output <file>", "where to write the raw output bytes")
    .action(async (inputPath: string, o: SerialFlags & { output?: string }) => {
      const input = readBin(inputPath);
      const client = await DeviceClient.connect(o.port, clientOptions(o));
      try {
        const r = await client.run(input);
        const model = client.info.model;
        let top = 0;
        for (let i = 1; i < r.output.length; i++) if ((r.output[i] << 24) >> 24 > (r.output[top] << 24) >> 24) top = i;
        console.log(`${model?.name ?? "model"} ${model?.version ?? ""} on device ${client.info.deviceId}: ${r.latencyUs} us on the device`);
        console.log(`output ${r.output.length} bytes, top index ${top} (int8 score ${(r.output[top] << 24) >> 24})`);
        if (o.output) {
          writeFileAtomic(o.output, r.output);
          console.log(`wrote ${o.output}`);
        }
      } finally {
        await client.close();
      }
    });
}
