// Options shared by the serial commands (flash, serial-run, logs).

import type { Command } from "commander";
import { parsePositiveInt } from "./options.js";
import type { ClientOptions } from "../lib/serial/client.js";

export interface SerialFlags { port: string; baud: number; timeoutMs?: number; retries?: number }

export function serialOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--port <path>", "serial port of the device (see edgerun devices)")
    .option("--baud <rate>", "baud rate (on a pty: the emulated rate)", parsePositiveInt, 921600)
    .option("--timeout-ms <ms>", "reply timeout per try", parsePositiveInt)
    .option("--retries <n>", "resends of one frame before giving up", parsePositiveInt);
}

export function clientOptions(o: SerialFlags): ClientOptions {
  return { baud: o.baud, replyTimeoutMs: o.timeoutMs, retries: o.retries };
}
