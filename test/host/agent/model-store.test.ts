// Slots and boot: a crash loop after activation rolls back, a damaged slot falls back to the
// previous model; bad agent configs are refused naming the field.

import { afterAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPairSync } from "node:crypto";
import { ModelStore } from "../../../host/agent/model-store.js";
import { parseAgentConfig } from "../../../host/agent/config.js";
import { keyIdOf } from "../../../host/format/release-manifest.js";
import { createRelease } from "../../../firmware-tools/lib/fleet/release.js";
import { syntheticErm } from "../../../firmware-tools/lib/fleet/synthetic-model.js";
import { tempDir } from "../../helpers/fleet.js";

const tmp = tempDir("edgerun-store-");
afterAll(() => tmp.cleanup());
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const keys = new Map([[keyIdOf(publicKey), publicKey]]);

function twoSlots(dir: string) {
  const store = new ModelStore(dir, keys, new Map());
  const r1 = createRelease(syntheticErm({ version: "1.0.0" }), { version: "1.0.0", privateKey, chunkBytes: 1024 });
  const r2 = createRelease(syntheticErm({ version: "2.0.0", seed: 2 }), { version: "2.0.0", privateKey, chunkBytes: 1024 });
  writeFileSync(store.slotPath("a"), r1.payload);
  writeFileSync(store.slotPath("b"), r2.payload);
  store.writeRecord({ active: { slot: "b", envelope: r2.envelope }, previous: { slot: "a", envelope: r1.envelope }, confirmed: false, bootAttempts: 0, lastAcceptedAt: r2.manifest.createdAt, failed: [] });
  return { store, r2 };
}

describe("model store boot", () => {
  it("boots the new model while it is unconfirmed, and rolls back after too many restarts", () => {
    const { store, r2 } = twoSlots(join(tmp.dir, "loop"));
    for (let i = 0; i < 3; i++) expect(store.boot(3).loaded?.manifest.version).toBe("2.0.0");
    const b = store.boot(3);
    expect(b.loaded?.manifest.version).toBe("1.0.0");
    expect(b.rolledBack).toMatchObject({ from: "2.0.0", to: "1.0.0", code: "UPDATE_CRASH_LOOP" });
    const rec = store.readRecord();
    expect(rec).toMatchObject({ confirmed: true, active: { slot: "a" } });
    expect(rec.failed).toContain(r2.manifest.sha256);
  });

  it("falls back to the previous model when the active slot is damaged", () => {
    const { store } = twoSlots(join(tmp.dir, "damaged"));
    writeFileSync(store.slotPath("b"), Buffer.from("garbage"));
    const b = store.boot(3);
    expect(b.loaded?.manifest.version).toBe("1.0.0");
    expect(b.rolledBack?.code).toBe("SLOT_HASH_MISMATCH");
  });

  it("confirms: boot counting stops", () => {
    const { store } = twoSlots(join(tmp.dir, "confirm"));
    store.boot(3);
    store.confirm();
    for (let i = 0; i < 5; i++) expect(store.boot(3).loaded?.manifest.version).toBe("2.0.0");
  });
});

describe("agent config", () => {
  const pub = join(tmp.dir, "k.pub");
  writeFileSync(pub, publicKey.export({ format: "pem", type: "spki" }));
  const base = { deviceId: "d1", broker: { url: "mqtt://127.0.0.1:1883" }, publicKeys: [pub], dataDir: "data" };
  const fieldOf = (raw: unknown) => {
    try {
      parseAgentConfig(raw, tmp.dir);
    } catch (e) {
      return `${(e as { code: string }).code} ${(e as { context: { field: string } }).context.field}`;
    }
    return "ok";
  };
  it("accepts a minimal config and resolves paths against the config's folder", () => {
    const c = parseAgentConfig(base, tmp.dir);
    expect(c.dataDir).toBe(join(tmp.dir, "data"));
    expect(c.api).toMatchObject({ host: "127.0.0.1", port: 8080 });
    expect(c.publicKeys.size).toBe(1);
  });
  it("names the bad field", () => {
    expect(fieldOf({ ...base, deviceId: "a/b" })).toBe("AGENT_BAD_CONFIG deviceId");
    expect(fieldOf({ ...base, broker: { url: "http://x" } })).toBe("AGENT_BAD_CONFIG broker.url");
    expect(fieldOf({ ...base, publicKeys: [] })).toBe("AGENT_BAD_CONFIG publicKeys");
    expect(fieldOf({ ...base, publicKeys: ["missing.pub"] })).toBe("AGENT_BAD_CONFIG publicKeys[0]");
    expect(fieldOf({ ...base, groups: ["ok", "not ok"] })).toBe("AGENT_BAD_CONFIG groups[1]");
    expect(fieldOf({ ...base, telemetry: { intervalMs: 1 } })).toBe("AGENT_BAD_CONFIG telemetry.intervalMs");
    expect(fieldOf({ ...base, inference: { build: "gpu" } })).toBe("AGENT_BAD_CONFIG inference.build");
    expect(fieldOf([1])).toBe("AGENT_BAD_CONFIG (root)");
  });
});
