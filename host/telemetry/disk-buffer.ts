// A bounded on-disk queue of telemetry messages: each message is one file (temp, fsync, rename)
// named by a sequence number, sent in order and deleted after the broker's PUBACK. When full,
// the oldest file is dropped and counted, so an outage shorter than the buffer loses nothing
// and a longer one loses the oldest data, never the newest.

import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";

export class DiskBuffer {
  private seqs: number[];
  private next: number;
  dropped = 0;

  constructor(readonly dir: string, private readonly maxMessages: number) {
    mkdirSync(dir, { recursive: true });
    this.seqs = readdirSync(dir).filter((f) => /^\d{12}\.msg$/.test(f)).map((f) => Number(f.slice(0, 12))).sort((a, b) => a - b);
    this.next = this.seqs.length ? this.seqs[this.seqs.length - 1] + 1 : 1;
  }

  private file(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, "0")}.msg`);
  }

  get size(): number {
    return this.seqs.length;
  }

  /** Queues one message; `make` gets its sequence number (gaps in it show drops downstream). */
  push(make: (seq: number) => string): number {
    while (this.seqs.length >= this.maxMessages) {
      rmSync(this.file(this.seqs.shift()!), { force: true });
      this.dropped++;
    }
    const seq = this.next;
    writeFileAtomic(this.file(seq), make(seq));
    this.next++;
    this.seqs.push(seq);
    return seq;
  }

  peek(): { seq: number; payload: string } | null {
    while (this.seqs.length) {
      const seq = this.seqs[0];
      try {
        return { seq, payload: readFileSync(this.file(seq), "utf8") };
      } catch {
        this.seqs.shift(); // removed behind our back: skip it
      }
    }
    return null;
  }

  remove(seq: number): void {
    const i = this.seqs.indexOf(seq);
    if (i >= 0) this.seqs.splice(i, 1);
    rmSync(this.file(seq), { force: true });
  }
}
