// A connected device: HELLO on open, then RUN, LOGS, RESET. Flashing is in flash.ts.

import { EdgerunError } from "../../../host/format/errors.js";
import { COMMAND, Frame } from "../../../host/format/serial-frame.js";
import { DEVICE_STATUS, DeviceInfo, LatencyLog, decodeHello, decodeLogs, deviceStatusName, u32At, PROTOCOL_VERSION } from "../../../host/format/device-protocol.js";
import { DeviceLink, LinkOptions, deviceError } from "./link.js";

export interface ClientOptions extends LinkOptions {
  /** Per-try reply timeout for RUN (an interpreter on a microcontroller is slow). Default 10 s. */
  runTimeoutMs?: number;
  /** Per-try reply timeout for COMMIT (hashing and loading the image). Default 20 s. */
  commitTimeoutMs?: number;
}

export interface RunResult {
  output: Uint8Array;
  latencyUs: number;
}

export class DeviceClient {
  info!: DeviceInfo;

  private constructor(public link: DeviceLink, readonly path: string, readonly opts: ClientOptions) {}

  /** Opens the port and says HELLO (SERIAL_TIMEOUT when nothing answers). */
  static async connect(path: string, opts: ClientOptions = {}): Promise<DeviceClient> {
    const link = await DeviceLink.open(path, opts);
    const c = new DeviceClient(link, path, opts);
    try {
      await c.hello();
    } catch (e) {
      await link.close();
      throw e;
    }
    return c;
  }

  /** Reopens the line after it broke and says HELLO again. */
  async reconnect(): Promise<void> {
    if (this.link.isOpen) await this.link.close();
    this.link = await DeviceLink.open(this.path, this.opts);
    await this.hello();
  }

  async hello(): Promise<DeviceInfo> {
    const f = await this.link.request(COMMAND.HELLO);
    expectOk(f, "HELLO");
    this.info = decodeHello(f.payload);
    if (this.info.protocolVersion !== PROTOCOL_VERSION) {
      throw new EdgerunError("SERIAL_PROTOCOL_MISMATCH", "the device speaks another protocol version", { expected: PROTOCOL_VERSION, actual: this.info.protocolVersion });
    }
    return this.info;
  }

  async run(input: Uint8Array): Promise<RunResult> {
    if (input.length > this.info.maxPayloadBytes) {
      throw new EdgerunError("INFER_BAD_INPUT", "the input is larger than one frame; this device cannot take it over serial", { expected: this.info.maxPayloadBytes, actual: input.length });
    }
    const f = await this.link.request(COMMAND.RUN, input, this.opts.runTimeoutMs ?? 10_000);
    if (f.status === DEVICE_STATUS.DEV_NO_MODEL) throw new EdgerunError("DEVICE_NO_MODEL", "the device has no model: flash one first", { path: this.path });
    if (f.status === DEVICE_STATUS.DEV_BAD_INPUT) throw new EdgerunError("INFER_BAD_INPUT", "the input size differs from the model's", { expected: u32At(f.payload), actual: input.length });
    expectOk(f, "RUN");
    return { latencyUs: u32At(f.payload), output: f.payload.slice(4) };
  }

  async logs(): Promise<LatencyLog> {
    const f = await this.link.request(COMMAND.LOGS);
    expectOk(f, "LOGS");
    return decodeLogs(f.payload);
  }

  /** Soft reset: the transfer in progress and the latency log are dropped, the active model reloaded. */
  async reset(): Promise<void> {
    expectOk(await this.link.request(COMMAND.RESET), "RESET");
  }

  async close(): Promise<void> {
    await this.link.close();
  }
}

export function expectOk(f: Frame, what: string): void {
  if (f.status !== DEVICE_STATUS.DEV_OK) throw deviceError(f, what);
}

export { deviceStatusName };
