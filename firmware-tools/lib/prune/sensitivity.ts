// Sensitivity scan: per-layer sparsities that keep a metric within maxDrop of the unpruned model.
//  - Baseline: evalFn with every layer at 0.
//  - Per layer alone: the largest candidate sparsity whose metric drops at most maxDrop.
//  - Together: if all chosen sparsities at once drop more than maxDrop, the layer that loses the
//    least when stepped back is stepped back one candidate, repeatedly, until the drop fits.
// evalFn is the caller's (accuracy on held-out data, agreement with the float model, ...): it
// receives one sparsity per layer in `layers` order and returns a score where higher is better.

import { EdgerunError } from "../../../host/format/errors.js";
import { checkSparsity } from "./mask.js";

export type EvalFn = (sparsities: number[]) => number | Promise<number>;

export interface SensitivityResult {
  sparsities: number[];
  baseline: number;
  score: number;
  /** Per layer, the score at each candidate tried alone. */
  scan: { layer: number; candidate: number; score: number }[];
  evaluations: number;
}

export const DEFAULT_CANDIDATES = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

export async function chooseSparsities<L>(evalFn: EvalFn, layers: L[], maxDrop: number, candidates = DEFAULT_CANDIDATES): Promise<SensitivityResult> {
  if (!(maxDrop >= 0) || !Number.isFinite(maxDrop)) throw new EdgerunError("PRUNE_BAD_MAX_DROP", "maxDrop must be a finite number >= 0", { actual: maxDrop });
  const steps = [0, ...[...candidates].sort((a, b) => a - b)];
  steps.forEach((s) => checkSparsity(s, "candidate sparsity"));
  let evaluations = 0;
  const run = async (s: number[]): Promise<number> => {
    evaluations++;
    const v = await evalFn(s);
    if (!Number.isFinite(v)) throw new EdgerunError("PRUNE_BAD_EVAL", "evalFn returned a non-finite score", { actual: v });
    return v;
  };
  const zeros = layers.map(() => 0);
  const baseline = await run(zeros);
  const scan: SensitivityResult["scan"] = [];
  const level = layers.map(() => 0); // index into steps
  const alone: number[][] = layers.map(() => [baseline]);
  for (let l = 0; l < layers.length; l++) {
    for (let k = 1; k < steps.length; k++) {
      const s = zeros.slice();
      s[l] = steps[k];
      const score = await run(s);
      scan.push({ layer: l, candidate: steps[k], score });
      alone[l][k] = score;
      if (baseline - score > maxDrop) break; // higher sparsities only lose more
      level[l] = k;
    }
  }
  let score = await run(level.map((k) => steps[k]));
  while (baseline - score > maxDrop && level.some((k) => k > 0)) {
    // Step back the layer whose previous level scored best alone (it costs the least to give up).
    let best = -1;
    for (let l = 0; l < layers.length; l++) {
      if (level[l] === 0) continue;
      const loss = alone[l][level[l] - 1] - alone[l][level[l]];
      if (best < 0 || loss > alone[best][level[best] - 1] - alone[best][level[best]]) best = l;
    }
    level[best]--;
    score = await run(level.map((k) => steps[k]));
  }
  return { sparsities: level.map((k) => steps[k]), baseline, score, scan, evaluations };
}
