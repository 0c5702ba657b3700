// The fleet commands end to end, in-process (a program with just these commands, the same
// exitOverride convention as cli.ts): keys generate, release, push --wait with a canary,
// status, rollback, a halted canary rolled back (and kept with --no-rollback), and usage
// errors. Against the embedded broker and one agent.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { registerKeys } from "../../../firmware-tools/commands/keys.js";
import { registerRelease } from "../../../firmware-tools/commands/release.js";
import { registerPush } from "../../../firmware-tools/commands/push.js";
import { registerRollback } from "../../../firmware-tools/commands/rollback.js";
import { registerStatus } from "../../../firmware-tools/commands/status.js";
import { startBroker, RunningBroker } from "../../../firmware-tools/lib/fleet/broker.js";
import { syntheticErm } from "../../../firmware-tools/lib/fleet/synthetic-model.js";
import { readReleaseFile } from "../../../host/format/release-file.js";
import { readEnvelopeUnverified } from "../../../host/format/release-manifest.js";
import { EdgerunError } from "../../../host/format/errors.js";
import type { Agent } from "../../../host/agent/agent.js";
import { startAgent, tempDir, waitUntil } from "../../helpers/fleet.js";

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const program = new Command("edgerun").exitOverride();
  [registerKeys, registerRelease, registerPush, registerRollback, registerStatus].forEach((r) => r(program));
  program.commands.forEach((c) => { c.exitOverride(); c.commands.forEach((s) => s.exitOverride()); });
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a) => { out.push(a.join(" ")); });
  const werr = vi.spyOn(process.stderr, "write").mockImplementation((s) => { err.push(String(s)); return true; });
  try {
    await program.parseAsync(args, { from: "user" });
    return { code: 0, out: out.join("\n"), err: err.join("") };
  } catch (e) {
    if (e instanceof CommanderError) return { code: 2, out: out.join("\n"), err: err.join("") };
    if (e instanceof EdgerunError) return { code: 1, out: out.join("\n"), err: e.message };
    throw e;
  } finally {
    log.mockRestore();
    werr.mockRestore();
  }
}

describe("fleet commands", () => {
  const tmp = tempDir();
  let broker: RunningBroker;
  let agent: Agent;
  const p = (f: string) => join(tmp.dir, f);

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
  });
  afterAll(async () => {
    await agent?.stop();
    await broker?.close();
    tmp.cleanup();
  });

  it("generates keys and refuses to overwrite them without --force", async () => {
    expect((await run("keys", "generate", "--out-dir", tmp.dir, "--name", "ops")).code).toBe(0);
    expect(readFileSync(p("ops.pub"), "utf8")).toContain("BEGIN PUBLIC KEY");
    const again = await run("keys", "generate", "--out-dir", tmp.dir, "--name", "ops");
    expect(again.code).toBe(1);
    expect(again.err).toContain("KEY_EXISTS");
    expect((await run("keys", "generate", "--out-dir", tmp.dir, "--name", "fleet", "--group-key")).code).toBe(0);
  });

  it("writes a signed release with the chunk size asked for, and refuses chunks above 128 KiB", async () => {
    writeFileSync(p("m1.erm"), syntheticErm({ inFeatures: 128, outFeatures: 16, version: "1.0.0" }));
    const r = await run("release", p("m1.erm"), "--version", "1.0.0", "--key", p("ops.key"), "-o", p("r1.erel"), "--chunk-size", "1k", "--notes", "first");
    expect(r.code).toBe(0);
    const m = readEnvelopeUnverified(readReleaseFile(readFileSync(p("r1.erel"))).envelope);
    expect(m).toMatchObject({ version: "1.0.0", chunkBytes: 1024, notes: "first", kind: "release" });
    const big = await run("release", p("m1.erm"), "--version", "1.0.0", "--key", p("ops.key"), "-o", p("x.erel"), "--chunk-size", "256k");
    expect(big.code).toBe(1);
    expect(big.err).toContain("RELEASE_BAD_CHUNK_SIZE");
    expect((await run("release", p("m1.erm"), "--version", "one", "--key", p("ops.key"), "-o", p("x.erel"))).err).toContain("RELEASE_BAD_VERSION");
  });

  it("pushes with a canary and --wait, shows status, rolls back", async () => {
    agent = await startAgent({ deviceId: "cmd-dev", brokerUrl: broker.url, publicKeyPath: p("ops.pub"), dataDir: p("cmd-dev") });
    await waitUntil(() => agent.status().mqttVersion !== null, 5000, "agent connected");
    await new Promise((r) => setTimeout(r, 300)); // its first status reaches the broker
    const push1 = await run("push", p("r1.erel"), "--broker", broker.url, "--group", "lab", "--canary", "1", "--key", p("ops.key"), "--wait", "--timeout", "20s");
    expect(push1.err).toBe("");
    expect(push1.code).toBe(0);
    expect(push1.out).toContain("canary stage: cmd-dev");
    expect(push1.out).toMatch(/cmd-dev\s+online\s+1\.0\.0\s+installed/);
    writeFileSync(p("m2.erm"), syntheticErm({ inFeatures: 128, outFeatures: 16, version: "1.1.0", seed: 2 }));
    await run("release", p("m2.erm"), "--version", "1.1.0", "--key", p("ops.key"), "-o", p("r2.erel"), "--chunk-size", "1k");
    expect((await run("push", p("r2.erel"), "--broker", broker.url, "--group", "lab", "--wait", "--timeout", "20s")).code).toBe(0);
    const st = await run("status", "--broker", broker.url, "--group", "lab");
    expect(st.out).toMatch(/cmd-dev\s+online\s+1\.1\.0/);
    const rb = await run("rollback", "--broker", broker.url, "--group", "lab", "--key", p("ops.key"));
    expect(rb.out).toContain("rollback from 1.1.0 to 1.0.0");
    await waitUntil(() => agent.status().active?.version === "1.0.0", 10_000, "rollback installed");
    expect(agent.status().lastResult?.reason).toContain("rolled back to");
  });

  it("rolls a halted canary back to what it ran before, or leaves it with --no-rollback", async () => {
    const halt = ["--broker", broker.url, "--group", "lab", "--canary", "1", "--max-latency-ms", "0.000001", "--timeout", "20s"];
    const rb = await run("push", p("r2.erel"), ...halt, "--key", p("ops.key"));
    expect(rb.code).toBe(1);
    expect(rb.out).toMatch(/canary stage halted: canary self-test latency [\d.]+ ms is above/);
    expect(rb.out).toContain("rollback stage: cmd-dev");
    expect(rb.out).toContain("rolled back cmd-dev from 1.1.0 to 1.0.0");
    expect(rb.out).toMatch(/cmd-dev\s+online\s+1\.0\.0\s+rolled-back/);
    expect(rb.err).toContain("rolled back cmd-dev to 1.0.0");
    expect(agent.status().active?.version).toBe("1.0.0");
    expect(agent.status().previous?.version).toBe("1.1.0");
    const keep = await run("push", p("r2.erel"), ...halt, "--no-rollback");
    expect(keep.code).toBe(1);
    expect(keep.out).not.toContain("rollback stage");
    expect(keep.err).toContain("--no-rollback");
    expect(agent.status().active?.version).toBe("1.1.0");
  });

  it("gives usage errors (exit 2) for bad options and a typed error for an unreachable broker", async () => {
    expect((await run("push", p("r1.erel"), "--broker", broker.url, "--group", "lab", "--canary", "abc")).code).toBe(2);
    expect((await run("push", p("r1.erel"), "--group", "lab")).code).toBe(2);
    const noKey = await run("push", p("r1.erel"), "--broker", broker.url, "--group", "lab", "--canary", "1");
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain("--canary needs --key");
    const bad = await run("status", "--broker", "http://127.0.0.1:1");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("BROKER_BAD_URL");
  });
});
