// The operator's end of the serial protocol (docs/mcu-abi.md, "Sequence numbers and
// acknowledgements"): requests with 16-bit sequence numbers, replies matched by number,
// retransmission after a timeout (bounded), and a go-back-N window for WRITE frames.
// Corrupted frames are dropped by the decoder; the timers recover them.

import type { SerialPort } from "serialport";
import { randomInt } from "node:crypto";
import { EdgerunError } from "../../../host/format/errors.js";
import { FrameDecoder, Frame, encodeFrame, seqDistance, COMMAND, MAX_ENCODED_FRAME_BYTES } from "../../../host/format/serial-frame.js";
import { DEVICE_STATUS, deviceStatusName } from "../../../host/format/device-protocol.js";
import { LinePacer } from "./pacer.js";
import { openPort, closePort, DEFAULT_BAUD } from "./port.js";
import { isPty } from "./pty-pair.js";

export interface LinkOptions {
  /** Default 921600. */
  baud?: number;
  /** Emulate the baud rate (lib/serial/pacer.ts). Default: true on a pty, false on a real port. */
  paced?: boolean;
  /** Wait for a reply before resending, per try. Default 300 ms plus the wire time of a full window. */
  replyTimeoutMs?: number;
  /** Resends of one frame before giving up with SERIAL_TIMEOUT. Default 6. */
  retries?: number;
}

export interface LinkStats { sent: number; retransmits: number }

export class DeviceLink {
  readonly decoder = new FrameDecoder();
  readonly stats: LinkStats = { sent: 0, retransmits: 0 };
  readonly replyTimeoutMs: number;
  readonly retries: number;
  private inbox: Frame[] = [];
  private wake: (() => void) | undefined;
  private closed: EdgerunError | undefined;
  private seq = randomInt(0, 0x10000);

  private constructor(readonly path: string, private readonly port: SerialPort, private readonly pacer: LinePacer, opts: LinkOptions) {
    this.replyTimeoutMs = opts.replyTimeoutMs ?? 300 + 16 * pacer.wireMs(MAX_ENCODED_FRAME_BYTES);
    this.retries = opts.retries ?? 6;
    port.on("data", (d: Buffer) => this.decoder.push(d, (f) => this.deliver(f)));
    port.on("close", () => this.fail(new EdgerunError("SERIAL_PORT_CLOSED", `the serial line ${path} was closed`, { path })));
    port.on("error", (e: Error) => this.fail(new EdgerunError("SERIAL_PORT_ERROR", `serial line ${path}: ${e.message}`, { path })));
  }

  static async open(path: string, opts: LinkOptions = {}): Promise<DeviceLink> {
    const baud = opts.baud ?? DEFAULT_BAUD;
    const port = await openPort(path, baud);
    const paced = opts.paced ?? isPty(path);
    const pacer = new LinePacer((b) => port.write(Buffer.from(b)), paced ? baud : undefined);
    return new DeviceLink(path, port, pacer, opts);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private deliver(f: Frame): void {
    if (!f.response) return; // our own frames echoed by a loopback: not for us
    this.inbox.push(f);
    if (this.inbox.length > 256) this.inbox.shift();
    this.wake?.();
  }

  private fail(e: EdgerunError): void {
    if (!this.closed) this.closed = e;
    this.wake?.();
  }

  /** Reserves n consecutive sequence numbers; returns the first. */
  takeSeqs(n: number): number {
    const s = this.seq;
    this.seq = (this.seq + n) & 0xffff;
    return s;
  }

  sendFrame(seq: number, command: number, payload: Uint8Array): void {
    if (this.closed) throw this.closed;
    this.stats.sent++;
    this.pacer.send(encodeFrame({ seq, command, status: 0, response: false, payload }));
  }

  /** The next reply, or undefined once deadlineMs (performance.now) passes. */
  async nextFrame(deadlineMs: number): Promise<Frame | undefined> {
    for (;;) {
      if (this.inbox.length) return this.inbox.shift();
      if (this.closed) throw this.closed;
      const left = deadlineMs - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
  }

  /** One request, one reply (window 1). Resends on timeout; follows the device's sequence number on a gap. */
  async request(command: number, payload: Uint8Array = new Uint8Array(0), timeoutMs = this.replyTimeoutMs): Promise<Frame> {
    let seq = this.takeSeqs(1);
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) this.stats.retransmits++;
      this.sendFrame(seq, command, payload);
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const f = await this.nextFrame(deadline);
        if (!f) break;
        if (f.seq !== seq || f.command !== command) continue; // a late reply to an earlier frame
        if (f.status === DEVICE_STATUS.DEV_SEQ_GAP || f.status === DEVICE_STATUS.DEV_DUPLICATE) {
          seq = expectedSeq(f); // the device lost track of an earlier exchange: use its number
          this.seq = (seq + 1) & 0xffff;
          break;
        }
        return f;
      }
    }
    throw this.timeoutError(command, this.retries + 1);
  }

  timeoutError(command: number, tries: number): EdgerunError {
    const name = Object.entries(COMMAND).find(([, v]) => v === command)?.[0] ?? String(command);
    const s = this.decoder.stats;
    if (s.frames === 0 && s.badFrames + s.tooLong > 0) {
      return new EdgerunError("SERIAL_BAD_FRAMES", `the line carries data but no valid frame came back (wrong baud rate, or not an edgerun device?)`, { path: this.path, command: name, badFrames: s.badFrames, tooLong: s.tooLong });
    }
    return new EdgerunError("SERIAL_TIMEOUT", `the device did not answer ${name}`, { path: this.path, command: name, tries, timeoutMs: Math.round(this.replyTimeoutMs) });
  }

  /**
   * Sends count WRITE payloads with up to `window` unacknowledged (go-back-N). onAck gets each
   * reply's payload (the device's received-bytes counter). A status other than OK is thrown.
   */
  async writeWindow(count: number, payload: (i: number) => Uint8Array, window: number, onAck: (reply: Frame) => void): Promise<void> {
    const s0 = this.takeSeqs(count);
    let acked = 0, next = 0, tries = 0, lastRewind = -1;
    let deadline = 0;
    while (acked < count) {
      while (next < count && next - acked < window) {
        this.sendFrame((s0 + next) & 0xffff, COMMAND.WRITE, payload(next));
        if (next === acked) deadline = performance.now() + this.replyTimeoutMs;
        next++;
      }
      const f = await this.nextFrame(deadline);
      if (!f) {
        if (++tries > this.retries) throw this.timeoutError(COMMAND.WRITE, tries);
        this.stats.retransmits += next - acked;
        next = acked;
        continue;
      }
      const idx = seqDistance(f.seq, s0);
      if (f.command !== COMMAND.WRITE || idx < 0 || idx >= count) continue;
      let progressTo = acked;
      if (f.status === DEVICE_STATUS.DEV_OK) progressTo = idx + 1;
      else if (f.status === DEVICE_STATUS.DEV_DUPLICATE || f.status === DEVICE_STATUS.DEV_SEQ_GAP) {
        const e = Math.min(Math.max(seqDistance(expectedSeq(f), s0), 0), next);
        progressTo = e;
        if (f.status === DEVICE_STATUS.DEV_SEQ_GAP && e !== lastRewind) {
          lastRewind = e;
          this.stats.retransmits += next - e;
          next = e;
        }
      } else throw deviceError(f, "WRITE");
      if (progressTo > acked) {
        acked = progressTo;
        tries = 0;
        deadline = performance.now() + this.replyTimeoutMs;
        if (f.status === DEVICE_STATUS.DEV_OK) onAck(f);
      }
    }
  }

  async close(): Promise<void> {
    this.pacer.close();
    this.port.removeAllListeners("data");
    await closePort(this.port);
    this.fail(new EdgerunError("SERIAL_PORT_CLOSED", `the serial line ${this.path} was closed`, { path: this.path }));
  }

  /** Closes the line abruptly (tests: a cable pulled mid-transfer). */
  cut(): void {
    void this.close();
  }
}

function expectedSeq(f: Frame): number {
  return f.payload.length >= 2 ? f.payload[0] | (f.payload[1] << 8) : f.seq;
}

/** A reply whose status is not OK, as an error with the device's status name. */
export function deviceError(f: Frame, what: string): EdgerunError {
  return new EdgerunError("DEVICE_ERROR", `${what} failed on the device: ${deviceStatusName(f.status)}`, { status: deviceStatusName(f.status) });
}
