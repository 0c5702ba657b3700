// The serial commands as a user runs them: `edgerun sim-mcu --make-pty` in its own process (a
// socat pty pair), then `edgerun devices`, `flash`, `serial-run`, `logs pull`, and the clear
// errors for a wrong port and a device too small for the model.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, execFile, ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeErm } from "../../host/format/erm-writer.js";
import { convertFile } from "../../firmware-tools/lib/model/convert.js";
import { goldenCases, mlperfModelPath } from "../helpers/mlperf.js";
import { socatOrSkip } from "../helpers/serial.js";

const ROOT = join(__dirname, "..", "..");
const CLI = join(ROOT, "dist", "firmware-tools", "cli.js");
const dir = mkdtempSync(join(tmpdir(), "edgerun-mcu-cli-"));
const sims: ChildProcess[] = [];

function edgerun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Starts `edgerun sim-mcu` and waits (bounded) for its operator end to appear. */
async function startSim(name: string, ...extra: string[]): Promise<string> {
  const port = join(dir, `${name}-operator`);
  const p = spawn(process.execPath, [CLI, "sim-mcu", "--pty", join(dir, `${name}-device`), "--make-pty", port, "--flash", join(dir, `${name}.flash`), ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  sims.push(p);
  let out = "";
  p.stdout!.on("data", (d) => (out += String(d)));
  p.stderr!.on("data", (d) => (out += String(d)));
  const deadline = Date.now() + 15_000;
  while (!out.includes("virtual MCU on")) {
    if (Date.now() > deadline || p.exitCode !== null) throw new Error(`sim-mcu did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(existsSync(port)).toBe(true);
  return port;
}

afterAll(async () => {
  for (const p of sims) {
    if (p.exitCode !== null) continue;
    const done = new Promise((r) => p.once("exit", r));
    p.kill("SIGINT");
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    if (p.exitCode === null) p.kill("SIGKILL");
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("edgerun serial commands against sim-mcu", () => {
  beforeAll((ctx) => socatOrSkip(ctx));

  it("devices lists ports (udev or the sysfs fallback) and exits 0", async () => {
    const r = await edgerun("devices", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(r.stdout).ports)).toBe(true);
  });

  it("flash kws, serial-run its golden sample bit for bit, pull the latency log", async () => {
    const port = await startSim("main");
    const erm = join(dir, "kws.erm");
    writeFileSync(erm, writeErm(convertFile(mlperfModelPath("kws"), { meta: { name: "kws", version: "1.2.0" } }).model));
    const f = await edgerun("flash", erm, "--port", port, "--no-progress");
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/flashed \d+ bytes .* B\/s/);
    expect(f.stdout).toMatch(/verified sha256 [0-9a-f]{16}\.\.\., active as generation 1 \(resident/);
    const again = await edgerun("flash", erm, "--port", port);
    expect(again.stdout).toMatch(/already active/);
    const g = goldenCases("kws").find((c) => c.name === "sample")!;
    writeFileSync(join(dir, "in.bin"), g.input);
    const r = await edgerun("serial-run", join(dir, "in.bin"), "--port", port, "--output", join(dir, "out.bin"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kws 1\.2\.0 on device 000000005eed0001: \d+ us on the device/);
    const { readFileSync } = await import("node:fs");
    expect(Buffer.compare(readFileSync(join(dir, "out.bin")), g.output)).toBe(0);
    const logs = await edgerun("logs", "pull", "--port", port, "--json");
    expect(logs.code, logs.stderr).toBe(0);
    const log = JSON.parse(logs.stdout);
    expect(log.inferences).toBe(1);
    expect(log.latenciesUs).toHaveLength(1);
  });

  it("clear errors: wrong port, a device too small for the model, bad input size", async () => {
    const wrong = await edgerun("logs", "pull", "--port", join(dir, "nothing-here"));
    expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringMatching(/^error: SERIAL_PORT_NOT_FOUND/)]);
    const port = await startSim("small", "--flash-bytes", "256k");
    const erm = join(dir, "ad.erm");
    writeFileSync(erm, convertFile(mlperfModelPath("ad")).bytes);
    const f = await edgerun("flash", erm, "--port", port);
    expect([f.code, f.stderr]).toEqual([1, expect.stringMatching(/^error: DEVICE_TOO_SMALL: the model image \(\d+ bytes\) does not fit the device's flash slot/)]);
    writeFileSync(join(dir, "short.bin"), new Uint8Array(3));
    const r = await edgerun("serial-run", join(dir, "short.bin"), "--port", port);
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/^error: DEVICE_NO_MODEL/)]);
  });
});
