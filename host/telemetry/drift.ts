// Input drift: population stability index (PSI) of the inputs a device sees against the
// calibration histogram stored in the model's metadata. PSI = sum over bins of
// (a - e) * ln(a / e), a and e the actual and expected bin fractions (floored at 1e-4 so empty
// bins do not give infinity). Rule of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 drifted.
//
// Metadata form (per graph input; int8 or uint8 values, equal-width bins over [min, max]):
//   calibration: { inputs: [ { min: -128, max: 127, counts: [n0, n1, ...] } ] }
// A model without it gets no drift score (null), never a made-up one.

import type { ErmMeta } from "../format/erm-types.js";

export interface CalibrationHistogram { min: number; max: number; counts: number[] }

const FLOOR = 1e-4;
/** Sample every k-th input byte: drift needs the distribution, not every value, and runs per inference. */
export const DRIFT_SAMPLE_STRIDE = 7;

export function calibrationOf(meta: ErmMeta, input = 0): CalibrationHistogram | null {
  const c = meta.calibration as { inputs?: unknown[] } | undefined;
  const raw = c?.inputs?.[input] as (Partial<CalibrationHistogram> & { space?: string; lo?: number; bins?: number; binWidth?: number; proportions?: number[] }) | undefined;
  // `edgerun compress` writes int8-space bins as {lo, bins, binWidth, proportions} (its min/max are
  // the float range): read those as the same equal-width histogram.
  const h: Partial<CalibrationHistogram> | undefined = raw && raw.space === "int8" && Array.isArray(raw.proportions) && typeof raw.lo === "number" && typeof raw.bins === "number" && typeof raw.binWidth === "number"
    ? { min: raw.lo, max: raw.lo + raw.bins * raw.binWidth - 1, counts: raw.proportions }
    : raw;
  if (!h || !Array.isArray(h.counts) || h.counts.length < 2 || typeof h.min !== "number" || typeof h.max !== "number" || !(h.max > h.min)) return null;
  if (!h.counts.every((n) => typeof n === "number" && n >= 0 && Number.isFinite(n)) || h.counts.reduce((a, b) => a + b, 0) <= 0) return null;
  return { min: h.min, max: h.max, counts: h.counts };
}

export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  const se = sum(expected), sa = sum(actual);
  if (se <= 0 || sa <= 0) return 0;
  let s = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(FLOOR, expected[i] / se), a = Math.max(FLOOR, actual[i] / sa);
    s += (a - e) * Math.log(a / e);
  }
  return s;
}

function sum(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

/** Accumulates input values into the calibration's bins between telemetry reports. */
export class DriftMeter {
  private readonly counts: Float64Array;
  private readonly scale: number;

  constructor(private readonly cal: CalibrationHistogram, private readonly signed: boolean) {
    this.counts = new Float64Array(cal.counts.length);
    this.scale = cal.counts.length / (cal.max - cal.min + 1);
  }

  observe(input: Uint8Array): void {
    const n = this.counts.length;
    for (let i = 0; i < input.length; i += DRIFT_SAMPLE_STRIDE) {
      const v = this.signed ? (input[i] << 24) >> 24 : input[i];
      const b = Math.floor((v - this.cal.min) * this.scale);
      this.counts[b < 0 ? 0 : b >= n ? n - 1 : b]++;
    }
  }

  /** PSI since the last take, or null when no input was seen. Resets the counts. */
  take(): { psi: number; samples: number } | null {
    const samples = sum(this.counts);
    if (samples === 0) return null;
    const value = psi(this.cal.counts, this.counts);
    this.counts.fill(0);
    return { psi: Number(value.toFixed(5)), samples };
  }
}
