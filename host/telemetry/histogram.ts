// Latency histograms that merge exactly: HdrHistogram (hdr-histogram-js), 3 significant digits,
// 1 us to 60 s. Serialized as HdrHistogram's compressed base64, so a collector can add the
// histograms of any devices and time ranges and read exact percentiles.

import * as hdr from "hdr-histogram-js";

export const HISTOGRAM_MAX_US = 60_000_000;

export type LatencyHistogram = hdr.Histogram;

export function newLatencyHistogram(): LatencyHistogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HISTOGRAM_MAX_US, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

export function recordLatencyUs(h: LatencyHistogram, us: number): void {
  h.recordValue(Math.min(HISTOGRAM_MAX_US, Math.max(1, Math.round(us))));
}

export function encodeHistogram(h: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(s, 32, false);
}

/** Adds serialized histograms into one (the collector's merge). */
export function mergeHistograms(encoded: string[]): LatencyHistogram {
  const total = newLatencyHistogram();
  for (const e of encoded) total.add(decodeHistogram(e));
  return total;
}
