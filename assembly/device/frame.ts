// Device side of the serial frames (host/format/serial-frame.ts is the TypeScript twin):
// 0x00, COBS(header, payload, CRC-32), 0x00. Received bytes accumulate in a static buffer;
// a piece longer than MAX_ENCODED_BYTES is discarded up to the next delimiter.

import { crc32 } from "../format/reader";
import { cobsDecode, cobsEncode } from "./cobs";
import { serialWrite } from "./abi";

export const FRAME_MAGIC: u8 = 0xe7;
export const FLAG_RESPONSE: u8 = 1;
export const HEADER_BYTES: u32 = 8;
export const MAX_PAYLOAD_BYTES: u32 = 4096;
export const MAX_RAW_BYTES: u32 = HEADER_BYTES + MAX_PAYLOAD_BYTES + 4;
export const MAX_ENCODED_BYTES: u32 = MAX_RAW_BYTES + (MAX_RAW_BYTES + 253) / 254 + 1;

// Buffers claimed once by device_init (reserveFrameBuffers), below the model region.
// Frames are COBS-decoded in place: the decoded bytes never overtake the encoded ones.
let rxEncoded: usize = 0;
/** The last decoded frame: header at rxRaw, payload at rxRaw + 8. */
export let rxRaw: usize = 0;
let rxLen: u32 = 0;
let rxOverflow = false;

let txRaw: usize = 0;
/** Where command handlers write a response payload. */
export let txPayload: usize = 0;
let txWire: usize = 0;
let txWireLen: u32 = 0;
/** Sequence number of the response held in txWire (resent when that request comes again), or -1. */
export let cachedSeq: i32 = -1;

const smallRaw = memory.data(16, 16);
const smallWire = memory.data(32, 16);

export let framesOk: u32 = 0;
export let framesBad: u32 = 0;
export let framesTooLong: u32 = 0;
export let serialErrors: u32 = 0;

export const FEED_NONE: i32 = 0;
export const FEED_FRAME: i32 = 1;
export const FEED_BAD: i32 = 2;
export const FEED_TOO_LONG: i32 = 3;

/** Accumulates one received byte; at a delimiter decodes what came before it. */
export function feedByte(b: u8): i32 {
  if (b != 0) {
    if (rxLen < MAX_ENCODED_BYTES) store<u8>(rxEncoded + rxLen++, b);
    else rxOverflow = true;
    return FEED_NONE;
  }
  const n = rxLen, over = rxOverflow;
  rxLen = 0;
  rxOverflow = false;
  if (over) {
    framesTooLong++;
    return FEED_TOO_LONG;
  }
  if (n == 0) return FEED_NONE;
  if (!decodeFrame(n)) {
    framesBad++;
    return FEED_BAD;
  }
  framesOk++;
  return FEED_FRAME;
}

function decodeFrame(n: u32): bool {
  const len = cobsDecode(rxEncoded, n, rxRaw);
  if (len < <i32>(HEADER_BYTES + 4) || load<u8>(rxRaw) != FRAME_MAGIC) return false;
  const payload = <u32>load<u16>(rxRaw + 6);
  if (payload > MAX_PAYLOAD_BYTES || <u32>len != HEADER_BYTES + payload + 4) return false;
  return load<u32>(rxRaw + HEADER_BYTES + payload) == crc32(rxRaw, HEADER_BYTES + payload);
}

export function rxFlags(): u8 { return load<u8>(rxRaw + 1); }
export function rxSeq(): u32 { return <u32>load<u16>(rxRaw + 2); }
export function rxCommand(): u8 { return load<u8>(rxRaw + 4); }
export function rxPayloadBytes(): u32 { return <u32>load<u16>(rxRaw + 6); }
export function rxPayload(): usize { return rxRaw + HEADER_BYTES; }

function frameInto(raw: usize, seq: u32, command: u8, status: u8, n: u32, wire: usize): u32 {
  store<u8>(raw, FRAME_MAGIC);
  store<u8>(raw + 1, FLAG_RESPONSE);
  store<u16>(raw + 2, <u16>seq);
  store<u8>(raw + 4, command);
  store<u8>(raw + 5, status);
  store<u16>(raw + 6, <u16>n);
  store<u32>(raw + HEADER_BYTES + n, crc32(raw, HEADER_BYTES + n));
  store<u8>(wire, 0);
  const enc = cobsEncode(raw, HEADER_BYTES + n + 4, wire + 1);
  store<u8>(wire + 1 + enc, 0);
  return enc + 2;
}

function write(p: usize, n: u32): void {
  if (serialWrite(p, n) != <i32>n) serialErrors++;
}

/** Sends the response whose payload (n bytes) the handler left at txPayload, and keeps it for resends. */
export function sendResponse(seq: u32, command: u8, status: u8, n: u32): void {
  txWireLen = frameInto(txRaw, seq, command, status, n, txWire);
  cachedSeq = <i32>seq;
  write(txWire, txWireLen);
}

export function resendCached(): void {
  write(txWire, txWireLen);
}

/** A response carrying only the expected sequence number (gaps and duplicates), not cached. */
export function sendSmall(seq: u32, command: u8, status: u8, expected: u32): void {
  store<u16>(smallRaw + HEADER_BYTES, <u16>expected);
  write(smallWire, frameInto(smallRaw, seq, command, status, 2, smallWire));
}

/** Bytes of memory the frame buffers need. */
export const FRAME_BUFFER_BYTES: u32 = ((MAX_ENCODED_BYTES + 15) & ~15) + ((MAX_RAW_BYTES + 15) & ~15) + ((MAX_ENCODED_BYTES + 2 + 15) & ~15);

/** Points the frame buffers into a block of FRAME_BUFFER_BYTES (16-aligned). */
export function placeFrameBuffers(p: usize): void {
  rxEncoded = p;
  rxRaw = p;
  txRaw = p + ((MAX_ENCODED_BYTES + 15) & ~15);
  txPayload = txRaw + HEADER_BYTES;
  txWire = txRaw + ((MAX_RAW_BYTES + 15) & ~15);
}

export function resetFrames(): void {
  rxLen = 0;
  rxOverflow = false;
  cachedSeq = -1;
}
