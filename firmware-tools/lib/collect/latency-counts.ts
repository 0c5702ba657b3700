// Fast, exact handling of the telemetry latency histograms for the collector and the reports.
//
// The wire form is HdrHistogram's compressed V2 encoding (host/telemetry/histogram.ts): u32
// cookie, u32 length, zlib( u32 cookie, u32 payload length, u32 normalizing offset, u32
// significant digits, u64 lowest, u64 highest, f64 ratio, payload ), payload = ZigZag LEB128
// counts per bucket index, a negative number being a run of empty buckets.
// hdr-histogram-js decodes one in about 40 us (pure-JS inflate, a full counts array per window),
// which caps ingestion near 25,000 windows/s on one core and makes a report over 1,000,000 windows
// take a minute. So the collector inflates once with Node's zlib, checks every field, and stores
// the bare payload; reports add payloads straight into one counts array. Percentiles of the sum
// are then read by hdr-histogram-js itself (exact: every bucket index maps to one value range).

import { inflateSync } from "node:zlib";
import { LatencyHistogram, newLatencyHistogram, HISTOGRAM_MAX_US } from "../../../host/telemetry/histogram.js";
import { EdgerunError } from "../../../host/format/errors.js";

const COMPRESSED_COOKIE_BASE = 0x1c849304;
const V2_COOKIE_BASE = 0x1c849303;
const HEADER_BYTES = 40;
/** The protocol's histogram: 1 us .. 60 s, 3 significant digits (docs/mqtt-protocol.md). */
const SIG_DIGITS = 3;
const SUB_BUCKET_HALF = 1024; // 2^ceil(log2(2 * 10^3)) / 2
/** Buckets needed to reach 60 s at 3 digits: (16 + 1) half-buckets of 1024 indices. */
export const COUNTS_LENGTH = 17 * SUB_BUCKET_HALF;
/** Refuse inflating anything larger: a full 60 s histogram's payload stays well below this. */
const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface DecodedWindow {
  /** ZigZag LEB128 counts payload, as stored in the database. */
  payload: Buffer;
  totalCount: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

function bad(reason: string): never {
  throw new EdgerunError("TELEMETRY_BAD_HISTOGRAM", reason);
}

/** Inflates and checks one base64 histogram; throws TELEMETRY_BAD_HISTOGRAM on anything odd. */
export function decodeWireHistogram(b64: string): DecodedWindow {
  if (typeof b64 !== "string" || b64.length < 12 || b64.length > 200_000 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) bad("histogram is not base64 text");
  const raw = Buffer.from(b64, "base64");
  if (raw.length < 8 || (raw.readInt32BE(0) & ~0xf0) !== COMPRESSED_COOKIE_BASE) bad("histogram has no compressed V2 cookie");
  const len = raw.readInt32BE(4);
  if (len <= 0 || 8 + len > raw.length) bad("histogram length field exceeds its bytes");
  let v2: Buffer;
  try {
    v2 = inflateSync(raw.subarray(8, 8 + len), { maxOutputLength: MAX_PAYLOAD_BYTES + HEADER_BYTES });
  } catch {
    bad("histogram does not inflate");
  }
  if (v2.length < HEADER_BYTES || (v2.readInt32BE(0) & ~0xf0) !== V2_COOKIE_BASE) bad("histogram has no V2 cookie inside");
  const payloadLen = v2.readInt32BE(4);
  if (payloadLen < 0 || HEADER_BYTES + payloadLen > v2.length) bad("histogram payload length exceeds its bytes");
  // Offset 8 (normalizing index offset) is written as 1 by hdr-histogram-js and ignored by every decoder.
  if (v2.readInt32BE(12) !== SIG_DIGITS) bad(`histogram has ${v2.readInt32BE(12)} significant digits, the protocol fixes ${SIG_DIGITS}`);
  if (Number(v2.readBigInt64BE(16)) !== 1) bad("histogram's lowest trackable value is not 1 us");
  if (Number(v2.readBigInt64BE(24)) > HISTOGRAM_MAX_US * 2) bad("histogram's highest trackable value exceeds 60 s");
  const payload = Buffer.from(v2.subarray(HEADER_BYTES, HEADER_BYTES + payloadLen));
  // Sparse walk: a window touches a few hundred buckets, a full counts array is 17,408.
  const idx: number[] = [], cnt: number[] = [];
  const total = walkPayload(payload, (i, c) => { idx.push(i); cnt.push(c); });
  return { payload, totalCount: total, p50Us: sparsePercentile(idx, cnt, total, 50), p99Us: sparsePercentile(idx, cnt, total, 99), maxUs: idx.length ? highestValueOfIndex(idx[idx.length - 1]) : 0 };
}

function sparsePercentile(idx: number[], cnt: number[], total: number, pct: number): number {
  if (total <= 0) return 0;
  const want = Math.max(1, Math.ceil((pct / 100) * total - 1e-9));
  let acc = 0;
  for (let k = 0; k < idx.length; k++) {
    acc += cnt[k];
    if (acc >= want) return highestValueOfIndex(idx[k]);
  }
  return 0;
}

/** Adds a stored payload into `counts`; returns its total count. Throws on a malformed payload. */
export function addPayload(counts: Float64Array, p: Uint8Array): number {
  return walkPayload(p, (i, c) => { counts[i] += c; });
}

/** Calls `each` for every non-empty bucket of a payload, in index order; returns the total count. */
function walkPayload(p: Uint8Array, each: (index: number, count: number) => void): number {
  let pos = 0, index = 0, total = 0;
  while (pos < p.length) {
    // ZigZag LEB128, at most 9 bytes (HdrHistogram's 64-bit variant); counts here stay < 2^53.
    let v = 0, mul = 1, b = 0, n = 0;
    do {
      if (pos >= p.length || n === 9) bad("histogram payload ends inside a number");
      b = p[pos++];
      v += (n === 8 ? b : b & 0x7f) * mul;
      mul *= 128;
      n++;
    } while (b & 0x80 && n < 9);
    const value = v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    if (value < 0) {
      index -= value;
    } else {
      if (index >= COUNTS_LENGTH) bad("histogram payload runs past 60 s");
      if (value > 0) {
        each(index, value);
        total += value;
      }
      index++;
    }
  }
  return total;
}

function indexParts(i: number): { sub: number; size: number } {
  let bucket = Math.floor(i / SUB_BUCKET_HALF) - 1;
  let sub = (i % SUB_BUCKET_HALF) + SUB_BUCKET_HALF;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF;
    bucket = 0;
  }
  return { sub, size: 2 ** bucket };
}

/** A bucket index's highest equivalent value (HdrHistogram's percentile convention). */
export function highestValueOfIndex(i: number): number {
  const { sub, size } = indexParts(i);
  return sub * size + size - 1;
}

export function lowestValueOfIndex(i: number): number {
  const { sub, size } = indexParts(i);
  return sub * size;
}

/** Same rule as hdr-histogram-js getValueAtPercentile, on a counts array. */
export function percentileOf(counts: Float64Array, total: number, pct: number): number {
  if (total <= 0) return 0;
  const want = Math.max(1, Math.ceil((Math.min(pct, 100) / 100) * total - 1e-9));
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i];
    if (acc >= want) return highestValueOfIndex(i);
  }
  return 0;
}

export function maxOf(counts: Float64Array): number {
  for (let i = counts.length - 1; i >= 0; i--) if (counts[i] > 0) return highestValueOfIndex(i);
  return 0;
}

/** The summed counts as a hdr-histogram-js histogram: the library reads percentiles of the merge. */
export function toHistogram(counts: Float64Array): LatencyHistogram {
  const h = newLatencyHistogram();
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) h.recordValueWithCount(lowestValueOfIndex(i), counts[i]);
  }
  return h;
}
