// Fetches a release's missing chunks: at most `inflightChunks` chunk topics subscribed at once
// (retained messages arrive on subscribe), each chunk hashed on arrival and stored (temp, fsync,
// rename) under chunks/<sha256>, so a restart or a disconnect resumes where it stopped. A chunk
// that fails its hash, or does not come within chunkTimeoutMs while connected, is asked for
// again (a repair request the pushing tool answers) up to maxChunkAttempts times.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chunkLength, splitChunks } from "../../format/chunks.js";
import { EdgerunError } from "../../format/errors.js";
import type { ReleaseManifest } from "../../format/release-manifest.js";
import { sha256Hex } from "../../format/release-manifest.js";
import { writeFileAtomic } from "../../fs/atomic.js";

export interface ChunkIo {
  subscribe(sha256: string): void;
  unsubscribe(sha256: string): void;
  requestRepair(sha256: string, reason: string): void;
  connected(): boolean;
}

export interface DownloadLimits { inflightChunks: number; chunkTimeoutMs: number; maxChunkAttempts: number }
export interface DownloadProgress { chunksDone: number; chunksTotal: number; bytesDone: number; bytesTotal: number; fetchedChunks: number; reusedChunks: number; badChunks: number }

interface Inflight { sinceMs: number; attempts: number }

export class ChunkStore {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = join(dataDir, "chunks");
    mkdirSync(this.dir, { recursive: true });
  }
  has(sha: string): boolean {
    return existsSync(join(this.dir, sha));
  }
  put(sha: string, data: Uint8Array): void {
    writeFileAtomic(join(this.dir, sha), data);
  }
  get(sha: string): Uint8Array {
    return readFileSync(join(this.dir, sha));
  }
  clear(): void {
    for (const f of readdirSync(this.dir)) rmSync(join(this.dir, f), { force: true });
  }

  /** Copies chunks the new release shares with payloads already on the device (delta update). */
  seed(m: ReleaseManifest, payloads: Uint8Array[]): number {
    const want = new Set(m.chunks.filter((h) => !this.has(h)));
    let reused = 0;
    for (const p of payloads) {
      for (const c of splitChunks(p, m.chunkBytes)) {
        if (want.delete(c.sha256)) {
          this.put(c.sha256, c.data);
          reused++;
        }
      }
    }
    return reused;
  }

  /** Concatenates the chunks in manifest order and checks the whole payload's size and hash. */
  assemble(m: ReleaseManifest): Uint8Array {
    const out = new Uint8Array(m.size);
    let off = 0;
    m.chunks.forEach((h, i) => {
      const c = this.get(h);
      if (c.length !== chunkLength(m.size, m.chunkBytes, i)) throw new EdgerunError("CHUNK_BAD_LENGTH", `stored chunk ${i} has ${c.length} bytes`, { chunk: i, expected: chunkLength(m.size, m.chunkBytes, i), actual: c.length });
      out.set(c, off);
      off += c.length;
    });
    if (sha256Hex(out) !== m.sha256) throw new EdgerunError("RELEASE_HASH_MISMATCH", "the assembled model does not match the manifest hash", { expected: m.sha256 });
    return out;
  }
}

export class ChunkDownload {
  private readonly queue: string[];
  private readonly inflight = new Map<string, Inflight>();
  private readonly expectedBytes = new Map<string, number>();
  private readonly total: number;
  private done = 0;
  private bytesDone = 0;
  private fetched = 0;
  private bad = 0;
  private timer?: NodeJS.Timeout;
  private settle?: { resolve: () => void; reject: (e: Error) => void };
  readonly finished: Promise<void>;

  constructor(private readonly m: ReleaseManifest, private readonly store: ChunkStore, private readonly io: ChunkIo, private readonly limits: DownloadLimits, private readonly reused: number, private readonly onProgress: (p: DownloadProgress) => void) {
    m.chunks.forEach((h, i) => { if (!this.expectedBytes.has(h)) this.expectedBytes.set(h, chunkLength(m.size, m.chunkBytes, i)); });
    const unique = [...this.expectedBytes.keys()];
    this.total = unique.length;
    this.queue = unique.filter((h) => !store.has(h));
    this.done = this.total - this.queue.length;
    this.bytesDone = unique.filter((h) => store.has(h)).reduce((a, h) => a + this.expectedBytes.get(h)!, 0);
    this.finished = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    this.finished.catch(() => undefined); // callers await it; never an unhandled rejection
  }

  start(): void {
    if (this.done === this.total) return this.finish();
    this.pump();
    const tickMs = Math.max(25, Math.floor(this.limits.chunkTimeoutMs / 4));
    this.timer = setInterval(() => this.checkTimeouts(), tickMs);
  }

  progress(): DownloadProgress {
    return { chunksDone: this.done, chunksTotal: this.total, bytesDone: this.bytesDone, bytesTotal: this.m.size, fetchedChunks: this.fetched, reusedChunks: this.reused, badChunks: this.bad };
  }

  private pump(): void {
    while (this.inflight.size < this.limits.inflightChunks && this.queue.length > 0) {
      const h = this.queue.shift()!;
      this.inflight.set(h, { sinceMs: Date.now(), attempts: 1 });
      if (this.io.connected()) this.io.subscribe(h);
    }
  }

  /** A message on a chunk topic. Returns false when this download did not ask for it. */
  onChunk(sha: string, data: Uint8Array): boolean {
    const f = this.inflight.get(sha);
    if (!f) return false;
    const expected = this.expectedBytes.get(sha)!;
    const why = data.length !== expected ? `has ${data.length} bytes, expected ${expected}` : sha256Hex(data) !== sha ? "fails its sha256" : null;
    this.io.unsubscribe(sha);
    if (why) {
      this.bad++;
      this.retry(sha, f, `CHUNK_HASH_MISMATCH: chunk ${sha.slice(0, 12)} ${why}`);
      return true;
    }
    this.store.put(sha, data);
    this.inflight.delete(sha);
    this.done++;
    this.fetched++;
    this.bytesDone += data.length;
    this.onProgress(this.progress());
    this.pump();
    if (this.done === this.total) this.finish();
    return true;
  }

  private retry(sha: string, f: Inflight, reason: string): void {
    if (f.attempts >= this.limits.maxChunkAttempts) {
      const code = reason.startsWith("CHUNK_HASH_MISMATCH") ? "CHUNK_HASH_MISMATCH" : "DOWNLOAD_CHUNK_MISSING";
      return this.fail(new EdgerunError(code, `chunk ${sha} failed ${f.attempts} times; last: ${reason}`, { chunk: sha, attempts: f.attempts }));
    }
    f.attempts++;
    f.sinceMs = Date.now();
    this.io.requestRepair(sha, reason);
    // Re-subscribing delivers the retained copy again (repaired if the pusher answered).
    if (this.io.connected()) setTimeout(() => this.inflight.has(sha) && this.io.connected() && this.io.subscribe(sha), Math.min(1000, this.limits.chunkTimeoutMs / 4));
  }

  private checkTimeouts(): void {
    if (!this.io.connected()) return;
    const now = Date.now();
    for (const [h, f] of this.inflight) {
      if (now - f.sinceMs >= this.limits.chunkTimeoutMs) {
        this.io.unsubscribe(h);
        this.retry(h, f, `DOWNLOAD_CHUNK_MISSING: chunk ${h.slice(0, 12)} did not arrive within ${this.limits.chunkTimeoutMs} ms`);
      }
    }
  }

  /** After a (re)connect: ask again for everything in flight; time spent offline does not count. */
  onConnect(): void {
    const now = Date.now();
    for (const [h, f] of this.inflight) {
      f.sinceMs = now;
      this.io.subscribe(h);
    }
    this.pump();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const h of this.inflight.keys()) this.io.unsubscribe(h);
  }

  private finish(): void {
    this.stop();
    this.settle?.resolve();
  }

  private fail(e: Error): void {
    this.stop();
    this.settle?.reject(e);
  }
}
