import type { Command } from "commander";
import cliProgress from "cli-progress";
import { DeviceClient } from "../lib/serial/client.js";
import { flashModel } from "../lib/serial/flash.js";
import { readBin } from "./convert.js";
import { serialOptions, clientOptions, SerialFlags } from "./serial-options.js";

interface FlashFlags extends SerialFlags { force?: boolean; name?: string; modelVersion?: string; progress: boolean }

export function registerFlash(program: Command): void {
  serialOptions(
    program
      .command("flash")
      .description("send a model to a device over serial: checks the fit, resumes, verifies the hash, activates")
      .argument("<model>", ".erm file"),
  )
    .option("--force", "send even when the device already runs this image")
    .option("--name <name>", "model name recorded on the device (default: the .erm metadata)")
    .option("--model-version <v>", "model version recorded on the device (default: the .erm metadata)")
    .option("--no-progress", "no progress bar")
    .action(async (path: string, o: FlashFlags) => {
      const erm = readBin(path);
      const client = await DeviceClient.connect(o.port, clientOptions(o));
      const bar = o.progress && process.stderr.isTTY ? new cliProgress.SingleBar({ format: "flash [{bar}] {percentage}% {value}/{total} bytes", stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      try {
        const info = client.info;
        console.log(`device ${info.deviceId}: flash slot ${info.slotBytes} bytes, model RAM ${info.modelRamBytes} bytes${info.model ? `, running ${info.model.name} ${info.model.version}` : ", no model"}`);
        let started = false;
        const r = await flashModel(client, erm, {
          force: o.force, name: o.name, version: o.modelVersion,
          onProgress: (done, total) => {
            if (bar && !started) bar.start(total, done);
            started = true;
            bar?.update(done);
          },
          onResume: (e, from) => console.log(`line interrupted (${e.code}); resuming at ${from} bytes`),
        });
        bar?.stop();
        if (r.alreadyActive) {
          console.log(`already active: ${r.sha256.slice(0, 16)} (generation ${r.generation}); use --force to send it again`);
          return;
        }
        if (r.startedAtBytes > 0) console.log(`resumed an earlier transfer at ${r.startedAtBytes} bytes`);
        console.log(`flashed ${r.imageBytes} bytes in ${(r.elapsedMs / 1000).toFixed(2)} s (${Math.round(r.bytesPerSec)} B/s, ${r.retransmits} frames resent)`);
        console.log(`verified sha256 ${r.sha256.slice(0, 16)}..., active as generation ${r.generation} (${r.mode}, about ${r.fit.ramBytes} bytes of RAM)`);
      } finally {
        bar?.stop();
        await client.close();
      }
    });
}
