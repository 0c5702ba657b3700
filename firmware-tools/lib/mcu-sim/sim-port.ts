// The virtual microcontroller attached to one end of a pty pair: its UART output is paced to the
// configured baud rate (lib/serial/pacer.ts), its input is whatever arrives on the pty.

import type { SerialPort } from "serialport";
import { LinePacer } from "../serial/pacer.js";
import { openPort, closePort } from "../serial/port.js";
import { VirtualMcu, VirtualMcuOptions } from "./device.js";

export interface SimPortOptions extends VirtualMcuOptions {
  /** The device end of the pty pair. */
  pty: string;
  baud?: number;
  /** Emulate the baud rate (default true: a pty has no rate of its own). */
  paced?: boolean;
}

export class SimulatedDevice {
  private constructor(readonly mcu: VirtualMcu, private readonly port: SerialPort, private readonly pacer: LinePacer) {}

  static async start(opts: SimPortOptions): Promise<SimulatedDevice> {
    const baud = opts.baud ?? 921600;
    const port = await openPort(opts.pty, baud);
    const pacer = new LinePacer((b) => port.write(Buffer.from(b)), opts.paced === false ? undefined : baud);
    let mcu: VirtualMcu;
    try {
      mcu = new VirtualMcu(opts, (b) => pacer.send(b));
    } catch (e) {
      pacer.close();
      await closePort(port);
      throw e;
    }
    const dev = new SimulatedDevice(mcu, port, pacer);
    port.on("data", (d: Buffer) => {
      mcu.receive(d);
      if (mcu.dead) void dev.stop();
    });
    return dev;
  }

  get dead(): boolean {
    return this.mcu.dead;
  }

  /** Power off: the device stops, its pty end closes; the flash file keeps what was written. */
  async stop(): Promise<void> {
    this.pacer.close();
    this.mcu.close();
    this.port.removeAllListeners("data");
    await closePort(this.port);
  }
}
