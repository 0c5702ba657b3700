// The update state machine: verify -> decide -> downloading -> installing -> self-testing ->
// activating -> idle. The state is saved before each phase's side effect and every phase is
// idempotent, so a crash anywhere resumes (or safely drops) the update; the serving model only
// changes after the new one passed its self-test and active.json names it.

import { existsSync, statfsSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { EdgerunError } from "../../format/errors.js";
import { ReleaseManifest, SignedManifest, verifyEnvelope } from "../../format/release-manifest.js";
import { writeFileAtomic } from "../../fs/atomic.js";
import { LoadedModel, ModelStore, selfTest, SlotName } from "../model-store.js";
import { ChunkDownload, ChunkIo, ChunkStore, DownloadLimits, DownloadProgress } from "./download.js";
import { decide } from "./policy.js";
import { Phase, UpdateState, UpdateStateFile } from "./state.js";

export interface Outcome { outcome: "installed" | "refused" | "failed" | "rolled-back"; version?: string; sha256?: string; code?: string; reason: string; at: string }

export type UpdateEvent =
  | { type: "phase"; phase: Phase | "idle"; version: string }
  | { type: "progress"; version: string; progress: DownloadProgress }
  | { type: "downloaded"; version: string; progress: DownloadProgress }
  | { type: "outcome"; result: Outcome };

export interface UpdaterHooks {
  chunkIo: ChunkIo;
  onEvent(e: UpdateEvent): void;
  /** Swap the serving model (called after active.json names it). */
  activate(loaded: LoadedModel, selfTestUs: number): void;
  activeManifest(): ReleaseManifest | null;
}

export interface UpdaterOptions extends DownloadLimits { groups: string[]; keys: ReadonlyMap<string, KeyObject>; groupKeyIds: ReadonlySet<string>; maxBootAttempts: number }

export class Updater {
  private readonly stateFile: UpdateStateFile;
  private readonly chunks: ChunkStore;
  private current: { manifest: ReleaseManifest; download?: ChunkDownload; generation: number } | null = null;
  private generation = 0;
  private lastRefused = "";

  constructor(private readonly store: ModelStore, private readonly o: UpdaterOptions, private readonly hooks: UpdaterHooks) {
    this.stateFile = new UpdateStateFile(store.dataDir);
    this.chunks = new ChunkStore(store.dataDir);
  }

  get updating(): ReleaseManifest | null {
    return this.current?.manifest ?? null;
  }

  progress(): DownloadProgress | null {
    return this.current?.download?.progress() ?? null;
  }

  /** After boot: continue an update the last run did not finish. */
  resume(): void {
    const s = this.stateFile.read();
    if (s.phase === "idle") return;
    let signed: SignedManifest;
    try {
      signed = verifyEnvelope(s.envelope, this.o.keys);
    } catch (e) {
      this.stateFile.write({ phase: "idle" });
      return this.report({ outcome: "failed", code: (e as EdgerunError).code, reason: `dropped the unfinished update: ${(e as Error).message}`, at: now() });
    }
    if (s.resumes + 1 > this.o.maxBootAttempts) {
      this.store.markFailed(signed.manifest.sha256);
      this.stateFile.write({ phase: "idle" });
      return this.report(outcomeOf(signed.manifest, "failed", "UPDATE_CRASH_LOOP", `the agent died ${s.resumes + 1} times during this update (last in ${s.phase})`));
    }
    this.run({ ...s, resumes: s.resumes + 1 }, signed.manifest);
  }

  /** A release message from the device or a group topic. */
  offer(envelope: Uint8Array | string, source: string): void {
    const text = typeof envelope === "string" ? envelope : Buffer.from(envelope).toString("utf8");
    if (text.length === 0) return; // a cleared retained message
    let signed: SignedManifest;
    try {
      signed = verifyEnvelope(text, this.o.keys);
    } catch (e) {
      return this.refuse(text, { outcome: "refused", ...claimed(text), code: (e as EdgerunError).code ?? "RELEASE_MALFORMED", reason: `release on ${source}: ${(e as Error).message}`, at: now() });
    }
    const m = signed.manifest;
    const d = decide({ manifest: m, record: this.store.readRecord(), activeManifest: this.hooks.activeManifest(), updating: this.updating, groups: this.o.groups, groupKeyIds: this.o.groupKeyIds, freeBytes: freeBytes(this.store.dataDir) });
    if (d.action === "ignore") return;
    if (d.action === "refuse") return this.refuse(text, outcomeOf(m, "refused", d.code, d.reason));
    this.abortCurrent();
    const slot = this.store.inactiveSlot();
    this.run({ phase: "downloading", envelope: signed.envelope, slot, startedAt: now(), resumes: 0 }, m);
  }

  onChunk(sha: string, data: Uint8Array): boolean {
    return this.current?.download?.onChunk(sha, data) ?? false;
  }

  onConnect(): void {
    this.current?.download?.onConnect();
  }

  stop(): void {
    this.abortCurrent();
  }

  private refuse(text: string, o: Outcome): void {
    // Retained messages come again on every reconnect: report each refusal once.
    if (text === this.lastRefused) return;
    this.lastRefused = text;
    this.report(o);
  }

  private abortCurrent(): void {
    this.current?.download?.stop();
    this.current = null;
    this.generation++;
  }

  private report(o: Outcome): void {
    this.hooks.onEvent({ type: "outcome", result: o });
  }

  private enter(s: UpdateState & { phase: Phase }, m: ReleaseManifest): void {
    this.stateFile.write(s); // persisted before the phase's side effect
    this.hooks.onEvent({ type: "phase", phase: s.phase, version: m.version });
  }

  private run(s: UpdateState & { phase: Phase }, m: ReleaseManifest): void {
    const gen = ++this.generation;
    this.current = { manifest: m, generation: gen };
    this.phases(s, m, gen).catch((e: Error) => {
      if (gen !== this.generation) return;
      this.current = null;
      try {
        this.stateFile.write({ phase: "idle" });
      } catch { /* the disk refuses writes: the next boot resumes and fails again, bounded by resumes */ }
      this.report(outcomeOf(m, "failed", (e as EdgerunError).code ?? "UPDATE_FAILED", `${e.message}; still serving ${this.hooks.activeManifest()?.version ?? "no model"}`));
    });
  }

  private async phases(s: UpdateState & { phase: Phase }, m: ReleaseManifest, gen: number): Promise<void> {
    const live = () => gen === this.generation;
    const step = (phase: Phase) => this.enter({ ...s, phase }, m);
    if (s.phase === "downloading") {
      step("downloading");
      await this.download(m);
      if (!live()) return;
      s = { ...s, phase: "installing" };
    }
    if (s.phase === "installing") {
      step("installing");
      writeFileAtomic(this.store.slotPath(s.slot), this.chunks.assemble(m));
      s = { ...s, phase: "self-testing" };
    }
    let loaded: LoadedModel | undefined;
    let selfTestUs = 0;
    if (s.phase === "self-testing") {
      step("self-testing");
      try {
        loaded = this.store.load({ slot: s.slot, envelope: s.envelope });
        selfTestUs = selfTest(loaded.interpreter, loaded.model);
      } catch (e) {
        this.store.markFailed(m.sha256);
        throw e;
      }
      s = { ...s, phase: "activating" };
    }
    step("activating");
    loaded ??= this.store.load({ slot: s.slot, envelope: s.envelope });
    this.activate(s.slot, s.envelope, m);
    this.hooks.activate(loaded, selfTestUs);
    this.stateFile.write({ phase: "idle" });
    this.chunks.clear();
    this.current = null;
    this.hooks.onEvent({ type: "phase", phase: "idle", version: m.version });
    this.report(outcomeOf(m, "installed", undefined, `${m.kind === "rollback" ? "rolled back to" : "installed"} ${m.modelId} ${m.version}; self-test passed`));
  }

  private async download(m: ReleaseManifest): Promise<void> {
    const seeds: Uint8Array[] = [];
    for (const slot of ["a", "b"] as SlotName[]) if (existsSync(this.store.slotPath(slot))) seeds.push(this.store.readSlot(slot));
    const reused = this.chunks.seed(m, seeds);
    const dl = new ChunkDownload(m, this.chunks, this.hooks.chunkIo, this.o, reused, (p) => this.hooks.onEvent({ type: "progress", version: m.version, progress: p }));
    if (this.current) this.current.download = dl;
    dl.start();
    await dl.finished;
    this.hooks.onEvent({ type: "downloaded", version: m.version, progress: dl.progress() });
  }

  private activate(slot: SlotName, envelope: string, m: ReleaseManifest): void {
    const r = this.store.readRecord();
    if (r.active?.slot === slot && r.active.envelope === envelope) return; // activated before a crash
    const newer = !r.lastAcceptedAt || Date.parse(m.createdAt) > Date.parse(r.lastAcceptedAt) ? m.createdAt : r.lastAcceptedAt;
    this.store.writeRecord({ ...r, active: { slot, envelope }, previous: r.active, confirmed: false, bootAttempts: 0, lastAcceptedAt: newer });
  }
}

function outcomeOf(m: ReleaseManifest, outcome: Outcome["outcome"], code: string | undefined, reason: string): Outcome {
  return { outcome, version: m.version, sha256: m.sha256, code, reason, at: now() };
}

/** What an unverifiable manifest claims to be, so the refusal names it (never trusted beyond that). */
function claimed(text: string): { version?: string; sha256?: string } {
  try {
    const m = JSON.parse(JSON.parse(text).manifest) as { version?: unknown; sha256?: unknown };
    return { version: typeof m.version === "string" ? m.version.slice(0, 64) : undefined, sha256: typeof m.sha256 === "string" ? m.sha256.slice(0, 64) : undefined };
  } catch {
    return {};
  }
}

function now(): string {
  return new Date().toISOString();
}

function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}
