// The virtual microcontroller: runtime-mvp.wasm with the same six imports a C host running
// WASM3 provides (docs/mcu-abi.md), flash in a file, and nothing else. Memory is the module's
// own, capped by the build at 5 pages (320 KiB) for the runtime, the protocol buffers and the model.
// This file is the reference a C firmware author reads: each import is a few lines.

import { EdgerunError } from "../../../host/format/errors.js";
import { runtimeModule } from "../../../host/runtime/runtime.js";
import { DEVICE_IMPORT_MODULE, DeviceImports } from "../../../host/runtime/device-abi.js";
import { FileFlash, PowerLoss, PowerSwitch } from "./flash-file.js";

export const SIM_MEMORY_CAP_BYTES = 5 * 65536;

export interface VirtualMcuOptions {
  flashPath: string;
  /** Default 1 MiB: two slots of 520,192 bytes with 4 KiB sectors. */
  flashBytes?: number;
  sectorBytes?: number;
  /** Images up to this size are copied into RAM; bigger ones stream weights from flash. Default 128 KiB. */
  residentMaxBytes?: number;
  deviceId?: bigint;
  power?: PowerSwitch;
}

interface DeviceExports {
  memory: WebAssembly.Memory;
  device_init(flashBytes: number, sectorBytes: number, residentMaxBytes: number, deviceId: bigint): number;
  device_rx_buffer(): number;
  device_rx_capacity(): number;
  device_rx(n: number): number;
}

export interface McuEvent { event: number; a: number; b: number; atUs: bigint }

export class VirtualMcu {
  readonly flash: FileFlash;
  readonly events: McuEvent[] = [];
  /** Set when the power switch cut power: the device no longer reads or writes anything. */
  dead = false;
  private ex!: DeviceExports;
  private rxPtr = 0;
  private rxCapacity = 0;

  constructor(opts: VirtualMcuOptions, private readonly transmit: (bytes: Uint8Array) => void) {
    this.flash = new FileFlash(opts.flashPath, opts.flashBytes ?? 1 << 20, opts.sectorBytes ?? 4096, opts.power);
    const instance = new WebAssembly.Instance(runtimeModule("mvp"), { [DEVICE_IMPORT_MODULE]: { ...this.imports() } });
    this.ex = instance.exports as unknown as DeviceExports;
    this.guard(() => {
      const st = this.ex.device_init(this.flash.flashBytes, this.flash.sectorBytes, opts.residentMaxBytes ?? 128 * 1024, opts.deviceId ?? 0x5eed0001n);
      if (st !== 0) throw new EdgerunError("SIM_BAD_FLASH_GEOMETRY", "the device refused the flash geometry", { flashBytes: this.flash.flashBytes, sectorBytes: this.flash.sectorBytes });
    });
    this.rxPtr = this.ex.device_rx_buffer();
    this.rxCapacity = this.ex.device_rx_capacity();
  }

  private imports(): DeviceImports {
    const mem = () => new Uint8Array(this.ex.memory.buffer);
    return {
      serial_write: (ptr, len) => {
        this.transmit(mem().slice(ptr, ptr + len));
        return len;
      },
      flash_read: (offset, ptr, len) => this.flash.read(offset >>> 0, mem().subarray(ptr, ptr + len)),
      flash_write: (offset, ptr, len) => this.flash.program(offset >>> 0, mem().subarray(ptr, ptr + len)),
      flash_erase: (offset, len) => this.flash.erase(offset >>> 0, len >>> 0),
      clock_us: () => process.hrtime.bigint() / 1000n,
      log_event: (event, a, b) => {
        this.events.push({ event, a, b, atUs: process.hrtime.bigint() / 1000n });
        if (this.events.length > 1000) this.events.splice(0, 500);
      },
    };
  }

  /** Runs fn; a PowerLoss thrown from a flash import kills the device instead of propagating. */
  private guard(fn: () => void): void {
    if (this.dead) return;
    try {
      fn();
    } catch (e) {
      if (!(e instanceof PowerLoss)) throw e;
      this.dead = true;
      this.flash.close();
    }
  }

  /** Bytes arriving on the device's UART. */
  receive(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length && !this.dead; at += this.rxCapacity) {
      const n = Math.min(this.rxCapacity, bytes.length - at);
      this.guard(() => {
        new Uint8Array(this.ex.memory.buffer, this.rxPtr, n).set(bytes.subarray(at, at + n));
        this.ex.device_rx(n);
      });
    }
  }

  /** Linear memory in use (never above SIM_MEMORY_CAP_BYTES: the module's own maximum). */
  get memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  close(): void {
    if (!this.dead) this.flash.close();
    this.dead = true;
  }
}
