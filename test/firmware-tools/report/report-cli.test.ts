// `edgerun collect` and `edgerun report` as a user runs them (built CLI): collect from the
// embedded broker for a while, then report in every format, compare versions, and use --slo
// as a script would (exit 1 when violated). Bad input gives clear errors and exit codes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { startBroker, RunningBroker } from "../../../firmware-tools/lib/fleet/broker.js";
import { topics } from "../../../host/format/topics.js";
import { edgerun } from "../../helpers/cli.js";
import { endAsync, operatorClient, tempDir, waitUntil } from "../../helpers/fleet.js";
import { fillReportDb } from "../../helpers/report-db.js";
import { latencies, rng, telemetryMessage } from "../../helpers/telemetry.js";

const ROOT = join(__dirname, "..", "..", "..");
const tmp = tempDir("edgerun-report-cli-");
const db = join(tmp.dir, "r.db");
let broker: RunningBroker;
let pub: MqttClient;
beforeAll(async () => {
  fillReportDb(db);
  broker = await startBroker({ port: 0 });
  pub = await operatorClient(broker.url, "clipub");
});
afterAll(async () => {
  await endAsync(pub, true);
  await broker.close();
  tmp.cleanup();
});

describe("edgerun collect (CLI)", () => {
  it("stores telemetry until --duration ends, says why the subscription is plain, prints its counters", async () => {
    const out = join(tmp.dir, "c.db");
    const p = spawn(process.execPath, [join(ROOT, "dist", "firmware-tools", "cli.js"), "collect", "--broker", broker.url, "--db", out, "--duration", "3s"], { cwd: ROOT });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number>((r) => p.on("exit", (c) => r(c ?? -1)));
    await waitUntil(() => stdout.includes("plain subscription"), 10_000, "collector started");
    for (let s = 1; s <= 10; s++) pub.publish(topics.telemetry("pi-cli"), JSON.stringify(telemetryMessage({ deviceId: "pi-cli", seq: s, tsMs: Date.now(), latenciesUs: latencies(10, 300, 100, rng(s)) })), { qos: 1 });
    pub.publish(topics.telemetry("pi-cli"), "garbage", { qos: 1 });
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/MQTT 3\.1\.1/);
    expect(stdout).toMatch(/persistent session edgerun-collector-[0-9a-f]{16} \(new, /);
    expect(stdout).toMatch(/new device pi-cli/);
    expect(stdout).toMatch(/stopped: received 11, stored 10, duplicates 0.*dropped: not-json 1/);
    expect(stderr).toMatch(/dropped 1 \(not-json\)/);
    const r = edgerun("report", "--db", out, "--format", "json");
    expect(JSON.parse(r.stdout).total.windows).toBe(10);
  });

  it("refuses a session expiry it cannot read", () => {
    const d = edgerun("collect", "--broker", broker.url, "--db", join(tmp.dir, "e.db"), "--session-expiry", "soon");
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/expected seconds \(3600\), 30m, 12h, 7d or never/);
  });

  it("fails clearly on a bad database path, before connecting", () => {
    const d = edgerun("collect", "--broker", broker.url, "--db", join(tmp.dir, "nope", "x.db"));
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/STORE_CANNOT_OPEN/);
  });
});

describe("edgerun report (CLI)", () => {
  it("prints a table, JSON, CSV and HTML", () => {
    const t = edgerun("report", "--db", db, "--by", "device");
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/pi-1\s+1\s+60\s+3000/);
    expect(t.stdout).toMatch(/versions in use: digits 1\.1\.0 \(3\)/);
    expect(JSON.parse(edgerun("report", "--db", db, "--by", "version", "--format", "json").stdout).rows.map((r: { key: string }) => r.key)).toEqual(["digits 1.0.0", "digits 1.1.0"]);
    expect(edgerun("report", "--db", db, "--by", "group", "--format", "csv").stdout.split("\n")).toHaveLength(5);
    expect(edgerun("report", "--db", db, "--format", "html").stdout).toMatch(/^<!doctype html>/);
  });

  it("compares two versions and says whether the difference is beyond noise", () => {
    const r = edgerun("report", "--db", db, "--compare", "1.0.0", "1.1.0");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/test: Mann-Whitney U/);
    expect(r.stdout).toMatch(/1\.1\.0 is slower than 1\.0\.0 beyond noise/);
  });

  it("--slo exits 1 when violated and 0 when met", () => {
    const ok = edgerun("report", "--db", db, "--slo", "p99<20ms");
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/SLO p99<20ms: met/);
    const bad = edgerun("report", "--db", db, "--by", "device", "--slo", "p99<500us", "--format", "json");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/SLO p99<500us violated by pi-1/);
    expect(bad.stderr).toMatch(/REPORT_SLO_VIOLATED/);
  });

  it("bad input: usage errors exit 2, a missing or foreign database exits 1", () => {
    expect(edgerun("report", "--db", db, "--by", "planet").code).toBe(2);
    expect(edgerun("report", "--db", db, "--format", "pdf").code).toBe(2);
    expect(edgerun("report", "--db", db, "--slo", "p99<fast").code).toBe(2);
    const miss = edgerun("report", "--db", join(tmp.dir, "missing.db"));
    expect([miss.code, miss.stderr]).toEqual([1, expect.stringMatching(/STORE_CANNOT_OPEN/)]);
    const junk = join(tmp.dir, "junk.db");
    writeFileSync(junk, "x".repeat(5000));
    expect(edgerun("report", "--db", junk).stderr).toMatch(/STORE_NOT_A_DATABASE/);
    expect(edgerun("report", "--db", db, "--since", "someday").stderr).toMatch(/REPORT_BAD_TIME/);
    expect(edgerun("report", "--db", db, "--compare", "1.0.0").code).toBe(1);
  });
});
