// The device's model slots: slots/a.bin and slots/b.bin hold payloads exactly as delivered
// (encrypted ones stay encrypted at rest), active.json names the active and the previous slot
// with their signed manifests. Every write is temp + fsync + rename, so after a crash at any
// point active.json names whole files. Boot re-verifies signature and hash before loading, and
// counts boots of an unconfirmed model: a crash loop after activation rolls back.

import type { KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readErm } from "../format/erm-reader.js";
import type { ErmModel } from "../format/erm-types.js";
import { EdgerunError } from "../format/errors.js";
import { decryptModel } from "../format/model-crypto.js";
import { ReleaseManifest, sha256Hex, verifyEnvelope } from "../format/release-manifest.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { Interpreter } from "../runtime/runtime.js";

export type SlotName = "a" | "b";
export interface SlotRecord { slot: SlotName; envelope: string }

export interface ActiveRecord {
  active: SlotRecord | null;
  previous: SlotRecord | null;
  /** The active model ran confirmAfterMs without the agent dying. */
  confirmed: boolean;
  /** Boots of the active model while unconfirmed. */
  bootAttempts: number;
  /** createdAt of the newest manifest installed: a rollback must be newer (no replays). */
  lastAcceptedAt: string | null;
  /** sha256 of releases that failed a self-test or crash-looped: never installed again. */
  failed: string[];
}

export interface LoadedModel {
  manifest: ReleaseManifest;
  slot: SlotName;
  erm: Uint8Array;
  model: ErmModel;
  interpreter: Interpreter;
}

export interface BootResult { loaded: LoadedModel | null; rolledBack?: { from: string; to: string | null; code: string; reason: string } }

const EMPTY: ActiveRecord = { active: null, previous: null, confirmed: true, bootAttempts: 0, lastAcceptedAt: null, failed: [] };
const MAX_FAILED = 32;

export class ModelStore {
  readonly slotsDir: string;
  readonly activePath: string;

  constructor(readonly dataDir: string, private readonly keys: ReadonlyMap<string, KeyObject>, private readonly groupKeys: ReadonlyMap<string, Uint8Array>, private readonly build: "simd" | "mvp" | "auto" = "auto") {
    this.slotsDir = join(dataDir, "slots");
    this.activePath = join(dataDir, "active.json");
    try {
      mkdirSync(this.slotsDir, { recursive: true });
    } catch (e) {
      throw new EdgerunError("AGENT_DATA_DIR", `cannot create ${this.slotsDir}: ${(e as NodeJS.ErrnoException).code}`, { path: this.slotsDir });
    }
  }

  slotPath(slot: SlotName): string {
    return join(this.slotsDir, `${slot}.bin`);
  }

  readRecord(): ActiveRecord {
    if (!existsSync(this.activePath)) return { ...EMPTY, failed: [] };
    try {
      const r = JSON.parse(readFileSync(this.activePath, "utf8")) as ActiveRecord;
      return { ...EMPTY, ...r, failed: Array.isArray(r.failed) ? r.failed : [] };
    } catch (e) {
      // Atomic writes make this a disk fault; start empty rather than never boot.
      throw new EdgerunError("AGENT_STATE_DAMAGED", `${this.activePath} is unreadable: ${(e as Error).message}`, { path: this.activePath });
    }
  }

  writeRecord(r: ActiveRecord): void {
    writeFileAtomic(this.activePath, JSON.stringify({ ...r, failed: r.failed.slice(-MAX_FAILED) }, null, 1));
  }

  /** The slot an install may overwrite: never the active one. */
  inactiveSlot(r = this.readRecord()): SlotName {
    return r.active?.slot === "a" ? "b" : "a";
  }

  /** Reads a slot, checks signature, size and hash, decrypts into memory, loads the runtime. */
  load(rec: SlotRecord): LoadedModel {
    const { manifest } = verifyEnvelope(rec.envelope, this.keys);
    const payload = this.readSlot(rec.slot);
    if (payload.length !== manifest.size || sha256Hex(payload) !== manifest.sha256) {
      throw new EdgerunError("SLOT_HASH_MISMATCH", `slot ${rec.slot} does not hold ${manifest.modelId} ${manifest.version} (damaged or incomplete)`, { slot: rec.slot, expected: manifest.sha256 });
    }
    const erm = manifest.encryption ? decryptModel(payload, manifest.encryption, this.groupKeys) : payload;
    const model = readErm(erm);
    const interpreter = Interpreter.load(erm, { build: this.build, trusted: true });
    return { manifest, slot: rec.slot, erm, model, interpreter };
  }

  readSlot(slot: SlotName): Uint8Array {
    try {
      return readFileSync(this.slotPath(slot));
    } catch (e) {
      throw new EdgerunError("SLOT_MISSING", `slot ${slot} cannot be read: ${(e as NodeJS.ErrnoException).code}`, { slot });
    }
  }

  /** Boot: count unconfirmed boots, load the active model, fall back to the previous one. */
  boot(maxBootAttempts: number): BootResult {
    const r = this.readRecord();
    if (!r.active) return { loaded: null };
    if (!r.confirmed) {
      r.bootAttempts += 1;
      this.writeRecord(r); // persisted before loading: a crash while loading counts too
      if (r.bootAttempts > maxBootAttempts) {
        return this.fallBack(r, "UPDATE_CRASH_LOOP", `the agent restarted ${r.bootAttempts - 1} times before the new model was confirmed`);
      }
    }
    try {
      return { loaded: this.load(r.active) };
    } catch (e) {
      const err = e as EdgerunError;
      return this.fallBack(r, err.code ?? "SLOT_LOAD_FAILED", err.message);
    }
  }

  private fallBack(r: ActiveRecord, code: string, reason: string): BootResult {
    const from = describe(r.active);
    const bad = r.active;
    if (bad) r.failed.push(manifestSha(bad));
    let loaded: LoadedModel | null = null;
    if (r.previous) {
      try {
        loaded = this.load(r.previous);
      } catch {
        loaded = null; // both slots unusable: serve nothing, report it, accept the next release
      }
    }
    this.writeRecord({ ...r, active: loaded ? r.previous : null, previous: loaded ? bad : null, confirmed: true, bootAttempts: 0 });
    return { loaded, rolledBack: { from, to: loaded ? loaded.manifest.version : null, code, reason } };
  }

  /** Marks the active model good after it ran long enough. */
  confirm(): void {
    const r = this.readRecord();
    if (r.confirmed) return;
    this.writeRecord({ ...r, confirmed: true, bootAttempts: 0 });
  }

  markFailed(sha256: string): void {
    const r = this.readRecord();
    if (!r.failed.includes(sha256)) this.writeRecord({ ...r, failed: [...r.failed, sha256] });
  }
}

function manifestSha(rec: SlotRecord): string {
  try {
    return (JSON.parse(JSON.parse(rec.envelope).manifest) as ReleaseManifest).sha256;
  } catch {
    return "unknown";
  }
}

function describe(rec: SlotRecord | null): string {
  if (!rec) return "none";
  try {
    const m = JSON.parse(JSON.parse(rec.envelope).manifest) as ReleaseManifest;
    return m.version;
  } catch {
    return "unknown";
  }
}

/** Runs the model's golden vectors; throws SELFTEST_* naming the vector and byte that differ. Returns median microseconds. */
export function selfTest(it: Interpreter, model: ErmModel): number {
  if (model.golden.length === 0) throw new EdgerunError("SELFTEST_NO_VECTORS", "the model carries no golden vectors to self-test with");
  const times: number[] = [];
  model.golden.forEach((g, vi) => {
    let off = 0;
    const parts = it.inputs.map((v) => g.input.subarray(off, (off += v.length)));
    if (off !== g.input.length) throw new EdgerunError("SELFTEST_BAD_VECTOR", `golden vector ${vi} input has ${g.input.length} bytes, the model takes ${off}`, { expected: off, actual: g.input.length });
    const t0 = process.hrtime.bigint();
    const outs = it.run(...parts);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
    let o = 0;
    for (const out of outs) {
      for (let i = 0; i < out.length; i++, o++) {
        if (out[i] !== g.output[o]) throw new EdgerunError("SELFTEST_MISMATCH", `golden vector ${vi}: output byte ${o} is ${out[i]}, expected ${g.output[o]}`, { vector: vi, offset: o, expected: g.output[o], actual: out[i] });
      }
    }
    if (o !== g.output.length) throw new EdgerunError("SELFTEST_MISMATCH", `golden vector ${vi}: the model gives ${o} output bytes, the vector holds ${g.output.length}`, { expected: g.output.length, actual: o });
  });
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
