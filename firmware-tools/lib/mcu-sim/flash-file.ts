// NOR flash emulated in a file: erase sets a sector to 0xFF, programming can only clear bits
// (the new bytes are ANDed into the old), as on the SPI flash of an ESP32. A power switch cuts
// power in the middle of the Nth program or erase operation: half of that operation reaches the
// file, then PowerLoss is thrown through the WebAssembly module, which dies like a real chip.

import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { EdgerunError } from "../../../host/format/errors.js";

export class PowerLoss extends Error {
  constructor(readonly flashOp: number) {
    super(`power lost during flash operation ${flashOp}`);
    this.name = "PowerLoss";
  }
}

export interface PowerSwitch {
  /** Cut power during this program/erase operation (1 = the first after boot). */
  cutAtFlashOp?: number;
}

export const FLASH_OK = 0;
export const FLASH_OUT_OF_RANGE = -2;
export const FLASH_MISALIGNED = -3;

export class FileFlash {
  private fd: number;
  /** Program and erase operations since this object was made. */
  mutations = 0;

  constructor(readonly path: string, readonly flashBytes: number, readonly sectorBytes: number, readonly power: PowerSwitch = {}) {
    const fresh = !existsSync(path);
    try {
      this.fd = openSync(path, fresh ? "w+" : "r+");
    } catch (e) {
      throw new EdgerunError("SIM_FLASH_OPEN_FAILED", `cannot open flash file ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
    }
    const size = fstatSync(this.fd).size;
    if (fresh || size === 0) {
      ftruncateSync(this.fd, flashBytes);
      this.fill(0, flashBytes, 0xff);
    } else if (size !== flashBytes) {
      closeSync(this.fd);
      throw new EdgerunError("SIM_FLASH_SIZE_MISMATCH", `flash file ${path} holds ${size} bytes, the device is configured for ${flashBytes}`, { path, expected: flashBytes, actual: size });
    }
  }

  private inRange(offset: number, len: number): boolean {
    return offset >= 0 && len >= 0 && offset + len <= this.flashBytes;
  }

  private fill(offset: number, len: number, value: number): void {
    const chunk = Buffer.alloc(Math.min(len, 65536), value);
    for (let done = 0; done < len; ) done += writeSync(this.fd, chunk, 0, Math.min(chunk.length, len - done), offset + done);
  }

  read(offset: number, into: Uint8Array): number {
    if (!this.inRange(offset, into.length)) return FLASH_OUT_OF_RANGE;
    for (let done = 0; done < into.length; ) {
      const n = readSync(this.fd, into, done, into.length - done, offset + done);
      if (n <= 0) return FLASH_OUT_OF_RANGE;
      done += n;
    }
    return FLASH_OK;
  }

  program(offset: number, data: Uint8Array): number {
    if (!this.inRange(offset, data.length)) return FLASH_OUT_OF_RANGE;
    const cut = this.tick();
    const n = cut ? data.length >> 1 : data.length;
    const old = new Uint8Array(n);
    this.read(offset, old);
    for (let i = 0; i < n; i++) old[i] &= data[i];
    writeSync(this.fd, old, 0, n, offset);
    if (cut) throw new PowerLoss(this.mutations);
    return FLASH_OK;
  }

  erase(offset: number, len: number): number {
    if (!this.inRange(offset, len)) return FLASH_OUT_OF_RANGE;
    if (offset % this.sectorBytes || len % this.sectorBytes) return FLASH_MISALIGNED;
    const cut = this.tick();
    this.fill(offset, cut ? len >> 1 : len, 0xff);
    if (cut) throw new PowerLoss(this.mutations);
    return FLASH_OK;
  }

  private tick(): boolean {
    this.mutations++;
    return this.power.cutAtFlashOp === this.mutations;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
