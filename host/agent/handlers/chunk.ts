// Handler for edgerun/v1/chunks/<sha256>: chunk bytes for the download in progress.

import { MAX_CHUNK_BYTES } from "../../format/chunks.js";
import type { AgentContext } from "./context.js";

export function handleChunk(ctx: AgentContext, sha256: string, payload: Buffer): void {
  if (payload.length > MAX_CHUNK_BYTES) {
    ctx.warn("CHUNK_TOO_LARGE", `chunk ${sha256.slice(0, 12)} has ${payload.length} bytes (limit ${MAX_CHUNK_BYTES})`);
    // Still handed on: the download counts it as a bad copy and asks again.
  }
  if (!ctx.updater.onChunk(sha256, payload)) ctx.counters.unexpectedChunks++;
}
