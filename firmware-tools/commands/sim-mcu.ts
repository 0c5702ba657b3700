import type { Command } from "commander";
import { startSim } from "../lib/mcu-sim/run.js";
import { InvalidArgumentError } from "commander";
import { parseBytes, parsePositiveInt } from "./options.js";

function parseDeviceId(value: string): bigint {
  if (!/^(0x)?[0-9a-f]{1,16}$/i.test(value)) throw new InvalidArgumentError(`expected up to 16 hex digits, got "${value}"`);
  return BigInt(`0x${value.replace(/^0x/i, "")}`);
}

interface SimFlags { pty: string; makePty?: string; flash: string; flashBytes: number; sectorBytes: number; residentMax: number; baud: number; deviceId: bigint }

export function registerSimMcu(program: Command): void {
  program
    .command("sim-mcu")
    .description("run a virtual microcontroller (runtime-mvp.wasm, 320 KiB of memory, flash in a file) on a pty")
    .requiredOption("--pty <path>", "the device's end of a pty pair")
    .option("--make-pty <path>", "create the pair with socat first; the operator's end appears at this path")
    .option("--flash <file>", "file emulating the flash (kept between runs)", "edgerun-mcu-flash.bin")
    .option("--flash-bytes <bytes>", "flash size", parseBytes, 1 << 20)
    .option("--sector-bytes <bytes>", "flash erase sector", parseBytes, 4096)
    .option("--resident-max <bytes>", "images above this stream their weights from flash", parseBytes, 128 * 1024)
    .option("--baud <rate>", "emulated line rate", parsePositiveInt, 921600)
    .option("--device-id <hex>", "64-bit device id", parseDeviceId, 0x5eed0001n)
    .action(async (o: SimFlags) => {
      const sim = await startSim({
        pty: o.pty, makePty: o.makePty, flashPath: o.flash, flashBytes: o.flashBytes, sectorBytes: o.sectorBytes,
        residentMaxBytes: o.residentMax, baud: o.baud, deviceId: o.deviceId,
      });
      console.log(`virtual MCU on ${o.pty}${sim.operatorEnd ? ` (operator end: ${sim.operatorEnd})` : ""}, flash ${o.flash}, ${o.baud} baud`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await sim.stop();
      console.log("virtual MCU stopped");
    });
}
