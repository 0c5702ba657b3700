// Opening a serial port with serialport, with errors that say which of the usual things went wrong.

import { existsSync } from "node:fs";
import { SerialPort } from "serialport";
import { EdgerunError } from "../../../host/format/errors.js";

export const DEFAULT_BAUD = 921600;
const OPEN_TIMEOUT_MS = 5000;

export async function openPort(path: string, baudRate = DEFAULT_BAUD): Promise<SerialPort> {
  if (!existsSync(path)) throw new EdgerunError("SERIAL_PORT_NOT_FOUND", `no serial port at ${path} (see edgerun devices)`, { path });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new EdgerunError("SERIAL_TIMEOUT", `opening ${path} did not finish`, { path, timeoutMs: OPEN_TIMEOUT_MS })), OPEN_TIMEOUT_MS);
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => {
      clearTimeout(timer);
      if (err) reject(new EdgerunError("SERIAL_PORT_OPEN_FAILED", `cannot open ${path}: ${err.message}`, { path, baudRate }));
      else resolve(port);
    });
  });
}

export async function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    port.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
