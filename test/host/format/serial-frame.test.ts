// The TypeScript frame codec: COBS edge cases, round trips, and the decoder's handling of
// garbage, damaged and over-long frames. The device's copy is checked against it in
// test/assembly/device/protocol.test.ts (every reply it sends is decoded here).

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { cobsEncode, cobsDecode, encodeFrame, encodeRawFrame, decodeRawFrame, FrameDecoder, Frame, seqDistance, MAX_PAYLOAD_BYTES, MAX_ENCODED_FRAME_BYTES } from "../../../host/format/serial-frame.js";
import { DEVICE_STATUS } from "../../../host/format/device-protocol.js";

function frame(payload: Uint8Array, seq = 7): Frame {
  return { seq, command: 3, status: 0, response: false, payload };
}

describe("COBS", () => {
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["one zero", Uint8Array.of(0)],
    ["zeros", new Uint8Array(5)],
    ["253 non-zero", new Uint8Array(253).fill(1)],
    ["254 non-zero (one full block)", new Uint8Array(254).fill(2)],
    ["255 non-zero", new Uint8Array(255).fill(3)],
    ["254 non-zero then zero", Uint8Array.from([...new Uint8Array(254).fill(4), 0])],
    ["all byte values", Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff)],
  ];
  it.each(cases)("round trip: %s, output has no zero and the length bound holds", (_, src) => {
    const enc = cobsEncode(src);
    expect(enc.includes(0)).toBe(false);
    expect(enc.length).toBeLessThanOrEqual(src.length + Math.ceil(src.length / 254) + 1);
    expect(Buffer.compare(cobsDecode(enc)!, src)).toBe(0);
  });

  it("known vectors (from the COBS paper's examples)", () => {
    expect([...cobsEncode(Uint8Array.of(0))]).toEqual([1, 1]);
    expect([...cobsEncode(Uint8Array.of(0x11, 0x22, 0, 0x33))]).toEqual([3, 0x11, 0x22, 2, 0x33]);
    expect([...cobsEncode(Uint8Array.of(0x11, 0, 0, 0))]).toEqual([2, 0x11, 1, 1, 1]);
  });

  it("rejects a zero inside and a code running past the end", () => {
    expect(cobsDecode(Uint8Array.of(3, 1, 0))).toBeUndefined();
    expect(cobsDecode(Uint8Array.of(5, 1, 2))).toBeUndefined();
  });
});

describe("frames", () => {
  it("round trip through the stream decoder, split at every byte", () => {
    const f = frame(Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff), 0xfffe);
    const wire = encodeFrame(f);
    const got: Frame[] = [];
    const d = new FrameDecoder();
    for (const b of wire) d.push(Uint8Array.of(b), (x) => got.push(x));
    expect(got).toHaveLength(1);
    expect(got[0].seq).toBe(0xfffe);
    expect(Buffer.compare(got[0].payload, f.payload)).toBe(0);
  });

  it("a flipped bit anywhere is caught (CRC, COBS or length), never delivered", () => {
    const wire = encodeFrame(frame(Uint8Array.from({ length: 64 }, (_, i) => i)));
    for (let i = 1; i < wire.length - 1; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = wire.slice();
        bad[i] ^= 1 << bit;
        const got: Frame[] = [];
        new FrameDecoder().push(bad, (x) => got.push(x));
        expect(got, `byte ${i} bit ${bit}`).toHaveLength(0);
      }
    }
  });

  it("garbage, over-long pieces and bad CRCs are counted and skipped; the next good frame arrives", () => {
    const d = new FrameDecoder();
    const got: Frame[] = [];
    const errors: string[] = [];
    const raw = encodeRawFrame(frame(Uint8Array.of(1, 2, 3)));
    raw[raw.length - 1] ^= 0xff; // wrong CRC
    d.push(Uint8Array.from([0, ...cobsEncode(raw), 0]), (x) => got.push(x), (e) => errors.push(e));
    d.push(new Uint8Array(MAX_ENCODED_FRAME_BYTES + 10).fill(0x55), (x) => got.push(x), (e) => errors.push(e));
    d.push(Uint8Array.of(0, 0x12, 0x34, 0), (x) => got.push(x), (e) => errors.push(e));
    d.push(encodeFrame(frame(Uint8Array.of(9))), (x) => got.push(x), (e) => errors.push(e));
    expect(errors).toEqual(["FRAME_BAD_CRC", "FRAME_TOO_LONG", "FRAME_BAD_COBS"]);
    expect(got.map((f) => [...f.payload])).toEqual([[9]]);
    expect(d.stats).toMatchObject({ frames: 1, badFrames: 2, tooLong: 1 });
  });

  it("payload limit and length field checks", () => {
    expect(() => encodeRawFrame(frame(new Uint8Array(MAX_PAYLOAD_BYTES + 1)))).toThrow(RangeError);
    const raw = encodeRawFrame(frame(Uint8Array.of(1, 2)));
    expect(decodeRawFrame(raw.subarray(0, raw.length - 1))).toBe("FRAME_BAD_LENGTH");
    expect(decodeRawFrame(raw.subarray(0, 5))).toBe("FRAME_SHORT");
  });

  it("sequence distance wraps at 2^16", () => {
    expect(seqDistance(2, 0xfffe)).toBe(4);
    expect(seqDistance(0xfffe, 2)).toBe(-4);
  });
});

describe("device status list", () => {
  it("assembly/device/status.ts and DEVICE_STATUS agree", () => {
    const src = readFileSync(new URL("../../../assembly/device/status.ts", import.meta.url), "utf8");
    const as = Object.fromEntries([...src.matchAll(/export const (DEV_\w+): u8 = (\d+);/g)].map((m) => [m[1], Number(m[2])]));
    expect(as).toEqual(DEVICE_STATUS);
  });
});
