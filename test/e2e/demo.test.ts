// `npm run demo` end to end, as a user runs it (the built CLI): it finishes by itself within two
// minutes, shows the compressed digits model's size and accuracy before and after, ships it to
// three agents and a virtual microcontroller, collects telemetry, prints the report and the
// dashboard URL, and leaves nothing behind: no temp files, no processes, no open ports.

import { describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

function refused(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = createConnection({ host: u.hostname, port: Number(u.port) }, () => { s.destroy(); resolve(false); });
    s.once("error", () => resolve(true));
  });
}

describe("npm run demo", () => {
  it("runs the whole path in under two minutes, prints the report and the dashboard URL, and cleans up", async () => {
    // A private TMPDIR: everything the demo creates must be gone from it afterwards.
    const tmp = mkdtempSync(join(tmpdir(), "edgerun-demo-e2e-"));
    const t0 = Date.now();
    const child = spawn(process.execPath, [join(ROOT, "dist", "firmware-tools", "cli.js"), "demo"], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp } });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    clearTimeout(timer);
    const elapsedMs = Date.now() - t0;
    try {
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(elapsedMs).toBeLessThan(120_000);
      expect(out).toMatch(/float ONNX \(before\)\s+[\d.]+ KiB\s+accuracy \d+\.\d+%/);
      expect(out).toMatch(/int8 -> release 1\.0\.0\s+[\d.]+ KiB\s+accuracy \d+\.\d+%/);
      expect(out).toMatch(/canary pi-\w+ passed, then the group/);
      expect(out).toMatch(/release digits 1\.1\.0/);
      expect(out.match(/online\s+1\.1\.0\s+idle/g)?.length).toBe(3);
      expect(out).toMatch(/load on 1\.0\.0: .* (9\d|100)\.\d+% correct/);
      expect(out).toMatch(/flashed digits 1\.1\.0 .* SHA-256 verified on the device/);
      expect(out).toMatch(/stored 60 latencies of device/);
      expect(out).toMatch(/collector: (\d+) telemetry windows received, \1 stored, 0 duplicates, 0 dropped/);
      for (const d of ["pi-kitchen", "pi-garage", "pi-porch"]) expect(out).toMatch(new RegExp(`${d}\\s+1\\s+\\d+\\s+\\d+`));
      expect(out).toMatch(/versions in use: digits 1\.1\.0 \(4\)/);
      expect(out).toMatch(/test: Mann-Whitney U/);
      const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
      expect(url).toBeDefined();
      const brokerUrl = /broker (mqtt:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(await refused(url!)).toBe(true);
      expect(await refused(brokerUrl!.replace("mqtt:", "http:"))).toBe(true);
      // onnxruntime-node's native library (compress's float evaluation) drops these two into TMPDIR
      // on every session; they are not the demo's.
      expect(readdirSync(tmp).filter((f) => !/^(\.ses|mat-debug-\d+\.log)$/.test(f))).toEqual([]);
      const ps = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
      expect(ps.split("\n").filter((l) => l.includes(tmp))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
