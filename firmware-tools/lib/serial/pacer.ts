// Emulated line rate. A pty moves bytes as fast as the kernel copies them, so to see what a
// 115200 or 921600 baud UART does, each side holds every frame back until the previous one would
// have left the wire: a frame of n bytes occupies n x 10 bits / baud seconds (8N1 framing).
// Frames leave in one write each, so throughput and per-frame latency match the real line;
// the byte timing inside a frame does not. Real serial ports are not paced (the UART is the pace).

export class LinePacer {
  private queue: Uint8Array[] = [];
  private nextFreeMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  private closed = false;

  /** baud undefined: no pacing, bytes go straight to the sink. */
  constructor(private readonly sink: (bytes: Uint8Array) => void, readonly baud?: number) {}

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    if (!this.baud) {
      this.sink(bytes);
      return;
    }
    this.queue.push(bytes);
    if (!this.timer) this.pump();
  }

  /** Milliseconds the line needs for n bytes (0 when unpaced). */
  wireMs(n: number): number {
    return this.baud ? (n * 10 * 1000) / this.baud : 0;
  }

  private pump(): void {
    this.timer = undefined;
    while (this.queue.length && !this.closed) {
      const now = performance.now();
      if (now < this.nextFreeMs - 0.5) {
        this.timer = setTimeout(() => this.pump(), Math.max(1, this.nextFreeMs - now));
        return;
      }
      const b = this.queue.shift()!;
      this.sink(b);
      this.nextFreeMs = Math.max(this.nextFreeMs, now) + this.wireMs(b.length);
    }
    this.idle.splice(0).forEach((f) => f());
  }

  /** Resolves when everything queued has been handed to the sink. */
  drained(): Promise<void> {
    if (!this.queue.length) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.idle.splice(0).forEach((f) => f());
  }
}
