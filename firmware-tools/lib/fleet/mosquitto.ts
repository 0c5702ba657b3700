// Starts a real Mosquitto server (Debian package mosquitto) as a child process on a free
// loopback port, for the integration tests and the benchmarks: the same agent and tools run
// against it unchanged. Persistence on, so a restart keeps retained messages.

import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { userInfo } from "node:os";
import { EdgerunError } from "../../../host/format/errors.js";

const CANDIDATES = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/local/bin/mosquitto"];

export function findMosquitto(): string | null {
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface MosquittoServer { url: string; port: number; proc: ChildProcess; log: () => string; stop(signal?: NodeJS.Signals): Promise<void>; restart(): Promise<void> }

export async function startMosquitto(dataDir: string, port?: number, startTimeoutMs = 5000): Promise<MosquittoServer> {
  const bin = findMosquitto();
  if (!bin) throw new EdgerunError("MOSQUITTO_NOT_INSTALLED", "mosquitto is not installed (Debian package: mosquitto)");
  mkdirSync(dataDir, { recursive: true });
  const p = port ?? (await freePort());
  const conf = join(dataDir, "mosquitto.conf");
  writeFileSync(conf, [
    // Started as root, mosquitto switches to user "mosquitto", which cannot write our temp dir.
    `listener ${p} 127.0.0.1`, `user ${userInfo().username}`, "allow_anonymous true", "persistence true", `persistence_location ${dataDir}/`,
    "autosave_interval 1", "max_queued_messages 100000", "log_dest stderr", "log_type error", "log_type warning", "",
  ].join("\n"));
  let output = "";
  let proc = launch();
  function launch(): ChildProcess {
    const c = spawn(bin!, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    c.stderr!.on("data", (d: Buffer) => { output = (output + d.toString()).slice(-8000); });
    return c;
  }
  await waitForPort(p, startTimeoutMs, () => output);
  const server: MosquittoServer = {
    url: `mqtt://127.0.0.1:${p}`, port: p, get proc() { return proc; }, log: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once("exit", () => r()));
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
    async restart() {
      proc = launch();
      await waitForPort(p, startTimeoutMs, () => output);
    },
  };
  return server;
}

async function waitForPort(port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection({ port, host: "127.0.0.1" }, () => { s.destroy(); r(true); });
      s.once("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new EdgerunError("MOSQUITTO_START_FAILED", `mosquitto did not listen on ${port} within ${timeoutMs} ms: ${log().trim()}`, { port });
}
