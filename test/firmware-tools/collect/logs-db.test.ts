// `edgerun logs pull --db` puts a microcontroller's latency log into the telemetry store: only
// inferences not stored before, so pulling twice stores once; `report` then shows the device.

import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { writeErm } from "../../../host/format/erm-writer.js";
import { DeviceClient } from "../../../firmware-tools/lib/serial/client.js";
import { flashModel } from "../../../firmware-tools/lib/serial/flash.js";
import { TelemetryStore } from "../../../firmware-tools/lib/collect/store.js";
import { SerialFixture, socatOrSkip } from "../../helpers/serial.js";
import { tinyModel } from "../../helpers/tiny-model.js";
import { Interpreter } from "../../../host/runtime/runtime.js";

const ROOT = join(__dirname, "..", "..", "..");
const fx = new SerialFixture();
afterAll(() => fx.close());

function edgerun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [join(ROOT, "dist", "firmware-tools", "cli.js"), ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
    resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
  }));
}

describe("edgerun logs pull --db", () => {
  it("stores new latencies once per pull and reports them", async (ctx) => {
    socatOrSkip(ctx);
    const { port } = await fx.device();
    const erm = writeErm(tinyModel());
    const client = await DeviceClient.connect(port);
    const input = new Uint8Array(Interpreter.load(erm, { build: "mvp" }).inputs[0].length);
    try {
      await flashModel(client, erm);
      for (let i = 0; i < 5; i++) await client.run(input);
    } finally {
      await client.close();
    }
    const db = join(fx.dir, "t.db");
    const first = await edgerun("logs", "pull", "--port", port, "--db", db, "--device-id", "mcu-bench");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/stored 5 new latencies of mcu-bench/);
    const again = await edgerun("logs", "pull", "--port", port, "--db", db, "--device-id", "mcu-bench");
    expect(again.stdout).toMatch(/stored nothing .* no inferences since the last pull/);
    const s = TelemetryStore.open(db, { readonly: true });
    expect(s.db.prepare("SELECT device_id, source, seq, hist_count FROM windows").all()).toEqual([{ device_id: "mcu-bench", source: "mcu", seq: 5, hist_count: 5 }]);
    s.close();
    const r = await edgerun("report", "--db", db, "--by", "device");
    expect(r.stdout).toMatch(/mcu-bench\s+1\s+1\s+5/);
  });
});
