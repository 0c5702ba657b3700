// Drives the device side of the MVP build directly (no serial line): frames in, frames out.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { FrameDecoder, Frame, encodeFrame, COMMAND } from "../../../host/format/serial-frame.js";
import { encodeBegin, encodeWrite } from "../../../host/format/device-protocol.js";
import { VirtualMcu, VirtualMcuOptions } from "../../../firmware-tools/lib/mcu-sim/device.js";

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class DirectDevice {
  readonly mcu: VirtualMcu;
  readonly decoder = new FrameDecoder();
  replies: Frame[] = [];
  seq = 100;

  constructor(opts: VirtualMcuOptions) {
    this.mcu = new VirtualMcu(opts, (b) => this.decoder.push(b, (f) => this.replies.push(f)));
  }

  /** Sends raw bytes; returns the replies they caused. */
  raw(bytes: Uint8Array): Frame[] {
    this.replies = [];
    this.mcu.receive(bytes);
    return this.replies;
  }

  send(command: number, payload: Uint8Array = new Uint8Array(0), seq = this.seq++): Frame[] {
    return this.raw(encodeFrame({ seq, command, status: 0, response: false, payload }));
  }

  /** One request, exactly one reply expected. */
  req(command: number, payload?: Uint8Array): Frame {
    const r = this.send(command, payload);
    if (r.length !== 1) throw new Error(`expected one reply to command ${command}, got ${r.length}`);
    return r[0];
  }

  /** BEGIN + WRITEs + COMMIT without a line in between; returns the COMMIT reply. */
  flash(image: Uint8Array, name = "m", version = "1", chunk = 1024, hash?: Uint8Array): Frame {
    const sha = hash ?? createHash("sha256").update(image).digest();
    const b = this.req(COMMAND.BEGIN, encodeBegin(image.length, sha, name, version));
    if (b.status !== 0) return b;
    for (let at = 0; at < image.length && !this.mcu.dead; at += chunk) {
      const w = this.send(COMMAND.WRITE, encodeWrite(at, image.subarray(at, Math.min(at + chunk, image.length))));
      if (this.mcu.dead) break;
      if (w.length !== 1 || w[0].status !== 0) return w[0];
    }
    if (this.mcu.dead) return { seq: 0, command: 0, status: 255, response: true, payload: new Uint8Array(0) };
    return this.send(COMMAND.COMMIT)[0] ?? { seq: 0, command: 0, status: 255, response: true, payload: new Uint8Array(0) };
  }
}
