// A noisy serial line for tests: sits between two pty pairs (operator <-> [a1 a2] <-> proxy <->
// [b1 b2] <-> device) and, in both directions, flips random bits and drops random bytes with
// the given probabilities. Seeded, so a failing run can be replayed.

import type { SerialPort } from "serialport";
import { openPort, closePort } from "../serial/port.js";
import { makePtyPair, PtyPair } from "../serial/pty-pair.js";

export interface NoiseOptions {
  /** Probability that a byte gets one random bit flipped. */
  flipPerByte: number;
  /** Probability that a byte is dropped. */
  dropPerByte: number;
  seed?: number;
  /** Leave the first n bytes of each direction clean (let HELLO through). Default 0. */
  cleanBytes?: number;
}

export interface NoiseStats { bytes: number; flipped: number; dropped: number }

/** xorshift32: small, fast, seeded. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export class NoisyLine {
  readonly stats: NoiseStats = { bytes: 0, flipped: 0, dropped: 0 };
  private constructor(readonly operatorEnd: string, readonly deviceEnd: string, private pairs: PtyPair[], private ports: SerialPort[]) {}

  /** Creates both pty pairs under dir; the operator opens operatorEnd, the device deviceEnd. */
  static async start(dir: string, noise: NoiseOptions): Promise<NoisyLine> {
    const a = await makePtyPair(`${dir}/line-operator`, `${dir}/line-a2`);
    const b = await makePtyPair(`${dir}/line-b1`, `${dir}/line-device`);
    const pa = await openPort(a.b);
    const pb = await openPort(b.a);
    const line = new NoisyLine(a.a, b.b, [a, b], [pa, pb]);
    const random = rng(noise.seed ?? 1);
    const clean = noise.cleanBytes ?? 0;
    let passed = [0, 0];
    const pipe = (from: SerialPort, to: SerialPort, dirIndex: number) =>
      from.on("data", (d: Buffer) => {
        const out: number[] = [];
        for (const byte of d) {
          line.stats.bytes++;
          if (passed[dirIndex]++ < clean) {
            out.push(byte);
            continue;
          }
          if (random() < noise.dropPerByte) {
            line.stats.dropped++;
            continue;
          }
          if (random() < noise.flipPerByte) {
            line.stats.flipped++;
            out.push(byte ^ (1 << Math.floor(random() * 8)));
          } else out.push(byte);
        }
        if (out.length) to.write(Buffer.from(out));
      });
    pipe(pa, pb, 0);
    pipe(pb, pa, 1);
    passed = [0, 0];
    return line;
  }

  async stop(): Promise<void> {
    for (const p of this.ports) await closePort(p);
    for (const p of this.pairs) await p.close();
  }
}
