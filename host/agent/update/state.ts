// The persisted update state (update.json). Written before each phase's side effect, so a
// restart resumes the phase it died in; every phase is idempotent.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../fs/atomic.js";
import type { SlotName } from "../model-store.js";

export type Phase = "downloading" | "installing" | "self-testing" | "activating";
export const PHASES: Phase[] = ["downloading", "installing", "self-testing", "activating"];

export type UpdateState =
  | { phase: "idle" }
  | { phase: Phase; envelope: string; slot: SlotName; startedAt: string; resumes: number };

export class UpdateStateFile {
  readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, "update.json");
  }

  read(): UpdateState {
    if (!existsSync(this.path)) return { phase: "idle" };
    try {
      const s = JSON.parse(readFileSync(this.path, "utf8")) as UpdateState;
      return s.phase === "idle" || PHASES.includes(s.phase) ? s : { phase: "idle" };
    } catch {
      return { phase: "idle" }; // atomic writes make this a disk fault: drop the update, keep serving
    }
  }

  write(s: UpdateState): void {
    writeFileAtomic(this.path, JSON.stringify(s));
  }
}
