// Latency measurement of one model in one runtime build: medians over many runs after warm-up,
// and per-layer medians (each op run on its own, in order).

import { opcodeName } from "../../../host/format/opcodes.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import { Interpreter } from "../../../host/runtime/runtime.js";

export interface BenchResult {
  build: string;
  runs: number;
  medianUs: number;
  p90Us: number;
  minUs: number;
  layers: { index: number; op: string; medianUs: number }[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** A timed call; one that returns a promise (an async peer runtime) is timed until it settles. */
export type Runner<N extends string = string> = { name: N; run: () => unknown };

/**
 * Side-by-side timing: each runner warmed up, then `rounds` rounds in which every runner makes
 * `perRound` timed calls in turn, so machine noise hits all runners alike. Microseconds per call,
 * by runner name. Synchronous runners are called directly (no await between their calls).
 */
export async function timeInterleaved<N extends string>(runners: Runner<N>[], rounds: number, perRound: number, warmup = 30): Promise<Map<N, number[]>> {
  const samples = new Map(runners.map((r) => [r.name, [] as number[]]));
  for (const r of runners) {
    for (let i = 0; i < warmup; i++) { // V8 tier-up, peers' arena growth
      const p = r.run();
      if (p instanceof Promise) await p;
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const r of runners) {
      const s = samples.get(r.name)!;
      for (let i = 0; i < perRound; i++) {
        const t0 = process.hrtime.bigint();
        const p = r.run();
        if (p instanceof Promise) await p;
        s.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
  }
  return samples;
}

/** Times fn over `runs` calls after `warmup`, returns microseconds per call. */
export function timeCalls(fn: () => void, runs: number, warmup: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return out;
}

export function benchInterpreter(it: Interpreter, model: ErmModel, runs = 200, warmup = 50, layers = true): BenchResult {
  it.inputs.forEach((v, i) => v.fill(i + 1));
  const times = timeCalls(() => it.invoke(), runs, warmup);
  const perLayer = layers
    ? model.ops.map((op, index) => ({ index, op: opcodeName(op.opcode) + (op.inputs.length === 6 ? "+ADD" : ""), medianUs: median(timeCalls(() => it.invokeOps(index, index + 1), Math.max(20, runs >> 2), 5)) }))
    : [];
  return { build: it.build, runs, medianUs: median(times), p90Us: quantile(times, 0.9), minUs: Math.min(...times), layers: perLayer };
}
