// The collector's own histogram decoding must agree exactly with hdr-histogram-js: percentiles
// of merged windows equal the library's merge (mergeHistograms), and anything malformed is refused.

import { describe, expect, it } from "vitest";
import { deflateSync } from "node:zlib";
import { mergeHistograms } from "../../../host/telemetry/histogram.js";
import { addPayload, COUNTS_LENGTH, decodeWireHistogram, maxOf, percentileOf, toHistogram } from "../../../firmware-tools/lib/collect/latency-counts.js";
import { histogramOf, latencies, rng } from "../../helpers/telemetry.js";

describe("latency counts", () => {
  it("merges windows to the same percentiles as hdr-histogram-js, over a wide range of values", () => {
    const rand = rng(7);
    const windows = Array.from({ length: 40 }, (_, i) => histogramOf(latencies(1 + Math.floor(rand() * 300), 5 + i * 37, 10 ** (1 + (i % 6)), rand)));
    const lib = mergeHistograms(windows);
    const counts = new Float64Array(COUNTS_LENGTH);
    let total = 0;
    for (const w of windows) total += addPayload(counts, decodeWireHistogram(w).payload);
    expect(total).toBe(lib.totalCount);
    for (const q of [0.1, 1, 25, 50, 90, 99, 99.9, 100]) expect(percentileOf(counts, total, q)).toBe(lib.getValueAtPercentile(q));
    expect(maxOf(counts)).toBe(lib.maxValue);
    const back = toHistogram(counts);
    expect(back.getValueAtPercentile(99)).toBe(lib.getValueAtPercentile(99));
  });

  it("reads a single window's p50, p99 and max as the library does", () => {
    const rand = rng(11);
    const xs = latencies(500, 200, 3000, rand);
    const w = decodeWireHistogram(histogramOf(xs));
    const lib = mergeHistograms([histogramOf(xs)]);
    expect([w.totalCount, w.p50Us, w.p99Us, w.maxUs]).toEqual([500, lib.getValueAtPercentile(50), lib.getValueAtPercentile(99), lib.maxValue]);
  });

  it("an empty window decodes to zero counts", () => {
    const w = decodeWireHistogram(histogramOf([]));
    expect([w.totalCount, w.p50Us, w.maxUs]).toEqual([0, 0, 0]);
  });

  it("refuses malformed histograms with TELEMETRY_BAD_HISTOGRAM", () => {
    const good = Buffer.from(histogramOf([100, 200]), "base64");
    const cases: string[] = [
      "not base64 at all!",
      Buffer.from("0123456789abcdef").toString("base64"), // wrong cookie
      Buffer.concat([good.subarray(0, 4), Buffer.from([0, 0, 0x10, 0]), good.subarray(8)]).toString("base64"), // length past the end
      Buffer.concat([good.subarray(0, 8), Buffer.from("garbage that is not zlib")]).toString("base64"),
      (() => { const b = Buffer.from(good); b[b.length - 3] ^= 0xff; return b.toString("base64"); })(), // broken deflate stream
      (() => { // valid zlib, but 2 significant digits
        const inner = Buffer.alloc(40 + 2); inner.writeInt32BE(0x1c849313, 0); inner.writeInt32BE(2, 4); inner.writeInt32BE(0, 8); inner.writeInt32BE(2, 12);
        inner.writeBigInt64BE(1n, 16); inner.writeBigInt64BE(60000000n, 24); inner[40] = 2; inner[41] = 2;
        const z = deflateSync(inner); const out = Buffer.alloc(8 + z.length); out.writeInt32BE(0x1c849314, 0); out.writeInt32BE(z.length, 4); z.copy(out, 8); return out.toString("base64");
      })(),
      (() => { // counts past 60 s
        const payload = Buffer.from([0xfd, 0xff, 0x03, 0x02]); // zigzag(-32767) run of zeros, then a count
        const big = Buffer.concat([Buffer.from([0x81, 0x80, 0x04]), payload]);
        const inner = Buffer.alloc(40); inner.writeInt32BE(0x1c849313, 0); inner.writeInt32BE(big.length, 4); inner.writeInt32BE(3, 12);
        inner.writeBigInt64BE(1n, 16); inner.writeBigInt64BE(60000000n, 24);
        const z = deflateSync(Buffer.concat([inner, big])); const out = Buffer.alloc(8 + z.length); out.writeInt32BE(0x1c849314, 0); out.writeInt32BE(z.length, 4); z.copy(out, 8); return out.toString("base64");
      })(),
    ];
    for (const c of cases) expect(() => decodeWireHistogram(c), c.slice(0, 20)).toThrow(/TELEMETRY_BAD_HISTOGRAM/);
  });
});
