// The local inference API: JSON and raw bytes, token, top-class-only, cache, bad requests.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPairSync } from "node:crypto";
import { InferenceApi } from "../../../host/agent/http-api.js";
import { ModelStore } from "../../../host/agent/model-store.js";
import { InferenceService } from "../../../host/agent/serving.js";
import { keyIdOf } from "../../../host/format/release-manifest.js";
import { createRelease } from "../../../firmware-tools/lib/fleet/release.js";
import { syntheticErm } from "../../../firmware-tools/lib/fleet/synthetic-model.js";
import { tempDir } from "../../helpers/fleet.js";

const tmp = tempDir("edgerun-api-");
const { privateKey, publicKey } = generateKeyPairSync("ed25519");

describe("inference HTTP API", () => {
  const service = new InferenceService({ cacheEntries: 4, topOnly: false });
  const topOnly = new InferenceService({ cacheEntries: 0, topOnly: true });
  const api = new InferenceApi({ host: "127.0.0.1", port: 0, token: "s3cret" }, service, () => ({ ok: 1 }));
  const api2 = new InferenceApi({ host: "127.0.0.1", port: 0 }, topOnly, () => ({}));
  const auth = { authorization: "Bearer s3cret" };

  beforeAll(async () => {
    const store = new ModelStore(tmp.dir, new Map([[keyIdOf(publicKey), publicKey]]), new Map());
    const r = createRelease(syntheticErm({ inFeatures: 32, outFeatures: 8 }), { version: "1.0.0", privateKey, chunkBytes: 1024 });
    writeFileSync(store.slotPath("a"), r.payload);
    service.setModel(store.load({ slot: "a", envelope: r.envelope }));
    topOnly.setModel(store.load({ slot: "a", envelope: r.envelope }));
    await api.start();
    await api2.start();
  });
  afterAll(async () => {
    await api.stop();
    await api2.stop();
    tmp.cleanup();
  });

  it("needs the token", async () => {
    expect((await fetch(`${api.url}/v1/infer`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await fetch(`${api.url}/v1/health`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });

  it("answers JSON (base64 or numbers) and raw bytes the same, and caches repeated inputs", async () => {
    const input = Array.from({ length: 32 }, (_, i) => i - 16);
    const a = await (await fetch(`${api.url}/v1/infer`, { method: "POST", headers: auth, body: JSON.stringify({ input }) })).json();
    const b = await (await fetch(`${api.url}/v1/infer`, { method: "POST", headers: auth, body: JSON.stringify({ input: Buffer.from(Int8Array.from(input).buffer).toString("base64") }) })).json();
    expect(a.outputs).toEqual(b.outputs);
    expect(b.cached).toBe(true);
    const raw = await fetch(`${api.url}/v1/infer`, { method: "POST", headers: { ...auth, "content-type": "application/octet-stream", accept: "application/octet-stream" }, body: Buffer.from(Int8Array.from(input).buffer) });
    expect(Buffer.from(await raw.arrayBuffer()).toString("base64")).toBe(a.outputs[0]);
    expect(service.takeWindow()).toMatchObject({ inferences: 3, cacheHits: 2, cacheMisses: 1 });
  });

  it("returns only the top class when asked or configured", async () => {
    const body = JSON.stringify({ input: new Array(32).fill(1), top: true });
    const a = await (await fetch(`${api.url}/v1/infer`, { method: "POST", headers: auth, body })).json();
    expect(a.outputs).toBeUndefined();
    expect(a.top.label).toMatch(/^class\d+$/);
    const b = await (await fetch(`${api2.url}/v1/infer`, { method: "POST", body: JSON.stringify({ input: new Array(32).fill(1) }) })).json();
    expect(b.outputs).toBeUndefined();
    expect(b.top).toEqual(a.top);
  });

  it("names the problem with a bad request", async () => {
    const post = async (body: string | Buffer, headers: Record<string, string> = {}) => {
      const r = await fetch(`${api.url}/v1/infer`, { method: "POST", headers: { ...auth, ...headers }, body });
      return [r.status, (await r.json()).error?.code];
    };
    expect(await post("{oops")).toEqual([400, "INFER_BAD_INPUT"]);
    expect(await post(JSON.stringify({ input: [1, 2, 3] }))).toEqual([400, "INFER_BAD_INPUT"]);
    expect(await post(JSON.stringify({ input: [999] }))).toEqual([400, "INFER_BAD_INPUT"]);
    expect(await post(JSON.stringify({}))).toEqual([400, "INFER_BAD_INPUT"]);
    expect(await post(Buffer.alloc(5 * 1024 * 1024), { "content-type": "application/octet-stream" })).toEqual([413, "INFER_TOO_LARGE"]);
    expect((await fetch(`${api.url}/v1/nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${api.url}/v1/infer`, { headers: auth })).status).toBe(405);
  });
});
