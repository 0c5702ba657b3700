// A pair of connected pseudo-terminals made by socat (Debian package socat): bytes written to
// one end come out of the other. Used by the virtual microcontroller, the tests and the demo.

import { spawn, spawnSync, ChildProcess } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { EdgerunError } from "../../../host/format/errors.js";

export interface PtyPair {
  /** Stable paths (symlinks to /dev/pts/N) of the two ends. */
  a: string;
  b: string;
  close(): Promise<void>;
}

export function hasSocat(): boolean {
  return spawnSync("sh", ["-c", "command -v socat"]).status === 0;
}

const START_TIMEOUT_MS = 5000;

/** Starts socat linking two new ptys at the given symlink paths; waits (bounded) until both exist. */
export async function makePtyPair(a: string, b: string): Promise<PtyPair> {
  if (!hasSocat()) throw new EdgerunError("SIM_NO_SOCAT", "socat is not installed (Debian package socat)");
  const proc: ChildProcess = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += String(d)));
  let exited = false;
  proc.on("exit", () => (exited = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(existsSync(a) && existsSync(b))) {
    if (exited || Date.now() > deadline) {
      proc.kill();
      throw new EdgerunError("SIM_PTY_FAILED", `socat did not create the pty pair: ${stderr.trim() || "timeout"}`, { path: a });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    a,
    b,
    close: () => stopProcess(proc, () => exited),
  };
}

async function stopProcess(proc: ChildProcess, exited: () => boolean): Promise<void> {
  if (exited()) return;
  const done = new Promise<void>((r) => proc.once("exit", () => r()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 2000);
  await done;
  clearTimeout(timer);
}

/** True for a pseudo-terminal (directly or through a symlink): its rate is emulated, not real. */
export function isPty(path: string): boolean {
  try {
    return realpathSync(path).startsWith("/dev/pts/");
  } catch {
    return false;
  }
}
