// Content-addressed chunks: a payload is cut into chunkBytes pieces, each named by its sha256.
// The same bytes get the same topic in every release, so a device that holds most of a new
// model (fine-tuned, re-pruned) fetches only the chunks that changed.

import { createHash } from "node:crypto";
import { EdgerunError } from "./errors.js";

export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** Cloud brokers cap message sizes (AWS IoT Core: 128 KiB); chunks never go above this. */
export const MAX_CHUNK_BYTES = 128 * 1024;
export const MIN_CHUNK_BYTES = 256;

export interface Chunk { index: number; sha256: string; data: Uint8Array }

export function checkChunkBytes(chunkBytes: number): number {
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) {
    throw new EdgerunError("RELEASE_BAD_CHUNK_SIZE", `chunk size must be ${MIN_CHUNK_BYTES}..${MAX_CHUNK_BYTES} bytes`, { expected: `${MIN_CHUNK_BYTES}..${MAX_CHUNK_BYTES}`, actual: chunkBytes });
  }
  return chunkBytes;
}

export function splitChunks(payload: Uint8Array, chunkBytes: number): Chunk[] {
  checkChunkBytes(chunkBytes);
  const out: Chunk[] = [];
  for (let off = 0, i = 0; off < payload.length; off += chunkBytes, i++) {
    const data = payload.subarray(off, Math.min(payload.length, off + chunkBytes));
    out.push({ index: i, sha256: createHash("sha256").update(data).digest("hex"), data });
  }
  return out;
}

/** Expected byte length of chunk i of a payload of `size` bytes. */
export function chunkLength(size: number, chunkBytes: number, index: number): number {
  return Math.min(chunkBytes, size - index * chunkBytes);
}
