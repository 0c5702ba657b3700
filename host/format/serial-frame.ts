// The serial frame codec (docs/mcu-abi.md, "Frames"): the one TypeScript copy, mirrored by
// assembly/device/frame.ts and assembly/device/cobs.ts on the device.
//
// A frame on the wire is 0x00, COBS(header + payload + CRC-32), 0x00. The leading delimiter
// flushes whatever garbage the receiver accumulated; two delimiters in a row are an empty frame
// and are ignored. Raw layout (little-endian):
//   0 u8 magic 0xE7 | 1 u8 flags (bit 0: response) | 2 u16 seq | 4 u8 command | 5 u8 status
//   6 u16 payload bytes | 8 payload | 8+n u32 CRC-32 (IEEE) of bytes [0, 8+n)

import { crc32 } from "./crc32.js";

export const FRAME_MAGIC = 0xe7;
export const FRAME_HEADER_BYTES = 8;
export const FRAME_CRC_BYTES = 4;
/** Largest payload either side sends or accepts (the ic model's input is 3,072 bytes). */
export const MAX_PAYLOAD_BYTES = 4096;
export const MAX_RAW_FRAME_BYTES = FRAME_HEADER_BYTES + MAX_PAYLOAD_BYTES + FRAME_CRC_BYTES;
/** COBS adds one byte per 254 plus one; anything longer between delimiters is not a frame. */
export const MAX_ENCODED_FRAME_BYTES = MAX_RAW_FRAME_BYTES + Math.ceil(MAX_RAW_FRAME_BYTES / 254) + 1;
export const FLAG_RESPONSE = 1;

export const COMMAND = { HELLO: 1, BEGIN: 2, WRITE: 3, COMMIT: 4, RUN: 5, LOGS: 6, RESET: 7 } as const;
export type CommandName = keyof typeof COMMAND;

export interface Frame {
  seq: number;
  command: number;
  status: number;
  response: boolean;
  payload: Uint8Array;
}

/** COBS (Cheshire & Baker 1999): the output holds no zero byte; length <= n + ceil(n/254) + 1. */
export function cobsEncode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length + Math.ceil(src.length / 254) + 1);
  let codeAt = 0, o = 1, code = 1;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = src[i];
    if (++code === 0xff) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Returns undefined for an invalid encoding (a zero byte, or a code running past the end). */
export function cobsDecode(src: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(src.length);
  let i = 0, o = 0;
  while (i < src.length) {
    const code = src[i++];
    if (code === 0 || i + code - 1 > src.length) return undefined;
    for (let k = 1; k < code; k++) {
      const b = src[i++];
      if (b === 0) return undefined;
      out[o++] = b;
    }
    if (code !== 0xff && i < src.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}

export function encodeRawFrame(f: Frame): Uint8Array {
  if (f.payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`payload of ${f.payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  const raw = new Uint8Array(FRAME_HEADER_BYTES + f.payload.length + FRAME_CRC_BYTES);
  const dv = new DataView(raw.buffer);
  raw[0] = FRAME_MAGIC;
  raw[1] = f.response ? FLAG_RESPONSE : 0;
  dv.setUint16(2, f.seq & 0xffff, true);
  raw[4] = f.command;
  raw[5] = f.status;
  dv.setUint16(6, f.payload.length, true);
  raw.set(f.payload, FRAME_HEADER_BYTES);
  dv.setUint32(FRAME_HEADER_BYTES + f.payload.length, crc32(raw, 0, FRAME_HEADER_BYTES + f.payload.length), true);
  return raw;
}

/** The bytes to put on the wire for one frame (with both delimiters). */
export function encodeFrame(f: Frame): Uint8Array {
  const enc = cobsEncode(encodeRawFrame(f));
  const wire = new Uint8Array(enc.length + 2);
  wire.set(enc, 1);
  return wire;
}

export type FrameError = "FRAME_BAD_COBS" | "FRAME_SHORT" | "FRAME_BAD_MAGIC" | "FRAME_BAD_LENGTH" | "FRAME_BAD_CRC";

export function decodeRawFrame(raw: Uint8Array): Frame | FrameError {
  if (raw.length < FRAME_HEADER_BYTES + FRAME_CRC_BYTES) return "FRAME_SHORT";
  if (raw[0] !== FRAME_MAGIC) return "FRAME_BAD_MAGIC";
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = dv.getUint16(6, true);
  if (n > MAX_PAYLOAD_BYTES || raw.length !== FRAME_HEADER_BYTES + n + FRAME_CRC_BYTES) return "FRAME_BAD_LENGTH";
  if (dv.getUint32(FRAME_HEADER_BYTES + n, true) !== crc32(raw, 0, FRAME_HEADER_BYTES + n)) return "FRAME_BAD_CRC";
  return {
    response: (raw[1] & FLAG_RESPONSE) !== 0,
    seq: dv.getUint16(2, true),
    command: raw[4],
    status: raw[5],
    payload: raw.slice(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + n),
  };
}

export interface DecoderStats {
  frames: number;
  badFrames: number;
  tooLong: number;
  /** Bytes discarded: inside bad or too-long frames. */
  droppedBytes: number;
}

/**
 * Splits a byte stream at zero delimiters and decodes each piece. Bad frames are counted and
 * dropped: the sender's retransmission recovers them. A piece longer than
 * MAX_ENCODED_FRAME_BYTES is discarded up to the next delimiter without being buffered.
 */
export class FrameDecoder {
  readonly stats: DecoderStats = { frames: 0, badFrames: 0, tooLong: 0, droppedBytes: 0 };
  private buf = new Uint8Array(MAX_ENCODED_FRAME_BYTES);
  private len = 0;
  private overflow = false;

  push(chunk: Uint8Array, onFrame: (f: Frame) => void, onError?: (e: FrameError | "FRAME_TOO_LONG") => void): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b !== 0) {
        if (this.len < this.buf.length) this.buf[this.len++] = b;
        else {
          this.overflow = true;
          this.stats.droppedBytes++;
        }
        continue;
      }
      if (this.overflow) {
        this.stats.tooLong++;
        this.stats.droppedBytes += this.len;
        onError?.("FRAME_TOO_LONG");
      } else if (this.len > 0) this.finish(onFrame, onError);
      this.len = 0;
      this.overflow = false;
    }
  }

  private finish(onFrame: (f: Frame) => void, onError?: (e: FrameError) => void): void {
    const raw = cobsDecode(this.buf.subarray(0, this.len));
    const f = raw ? decodeRawFrame(raw) : "FRAME_BAD_COBS";
    if (typeof f === "string") {
      this.stats.badFrames++;
      this.stats.droppedBytes += this.len;
      onError?.(f);
      return;
    }
    this.stats.frames++;
    onFrame(f);
  }
}

/** Serial numbers modulo 2^16 (RFC 1982 style): a - b as a signed distance. */
export function seqDistance(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
