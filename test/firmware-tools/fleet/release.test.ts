// Release manifests, signatures, release files, topics and versions: the wire formats the agent
// and the tools share, including the malformed inputs each must refuse with a named cause.

import { describe, expect, it } from "vitest";
import { createRelease, openRelease, rollbackEnvelope } from "../../../firmware-tools/lib/fleet/release.js";
import { syntheticErm } from "../../../firmware-tools/lib/fleet/synthetic-model.js";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { keyIdOf, readEnvelopeUnverified, verifyEnvelope } from "../../../host/format/release-manifest.js";
import { readReleaseFile, writeReleaseFile } from "../../../host/format/release-file.js";
import { decryptModel } from "../../../host/format/model-crypto.js";
import { compareSemver } from "../../../host/format/semver.js";
import { parseTopic, topics } from "../../../host/format/topics.js";
import { splitChunks } from "../../../host/format/chunks.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const pinned = new Map([[keyIdOf(publicKey), publicKey]]);
const erm = syntheticErm({ inFeatures: 128, outFeatures: 8 });

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return "no error";
}

describe("release manifest", () => {
  const rel = createRelease(erm, { version: "1.2.3", privateKey, chunkBytes: 1024, target: "lab", notes: "n" });

  it("signs every field and verifies with the pinned key", () => {
    const { manifest } = verifyEnvelope(rel.envelope, pinned);
    expect(manifest).toMatchObject({ version: "1.2.3", size: erm.length, chunkBytes: 1024, target: "lab", notes: "n", keyId: keyIdOf(publicKey) });
    expect(manifest.chunks).toEqual(splitChunks(erm, 1024).map((c) => c.sha256));
    expect(Buffer.compare(openRelease(rel.bytes).payload, erm)).toBe(0);
  });

  it("refuses tampered, unsigned, unknown-key and malformed envelopes with their codes", () => {
    const env = JSON.parse(rel.envelope);
    const tampered = JSON.stringify({ ...env, manifest: env.manifest.replace('"1.2.3"', '"9.9.9"') });
    expect(codeOf(() => verifyEnvelope(tampered, pinned))).toBe("RELEASE_BAD_SIGNATURE");
    expect(codeOf(() => verifyEnvelope(JSON.stringify({ manifest: env.manifest }), pinned))).toBe("RELEASE_UNSIGNED");
    expect(codeOf(() => verifyEnvelope(rel.envelope, new Map()))).toBe("RELEASE_UNKNOWN_KEY");
    expect(codeOf(() => verifyEnvelope("{not json", pinned))).toBe("RELEASE_MALFORMED");
    expect(codeOf(() => verifyEnvelope("", pinned))).toBe("RELEASE_UNSIGNED");
    expect(codeOf(() => verifyEnvelope("x".repeat(600_000), pinned))).toBe("RELEASE_TOO_LARGE");
    expect(codeOf(() => verifyEnvelope(JSON.stringify({ ...env, signature: "AAAA" }), pinned))).toBe("RELEASE_BAD_SIGNATURE");
  });

  it("checks each field: missing or extra chunks, sizes, versions", () => {
    const m = readEnvelopeUnverified(rel.envelope);
    const resign = (patch: object) => {
      const text = JSON.stringify({ ...m, ...patch });
      return JSON.stringify({ manifest: text, signature: Buffer.alloc(64).toString("base64") });
    };
    expect(codeOf(() => readEnvelopeUnverified(resign({ chunks: m.chunks.slice(1) })))).toBe("RELEASE_BAD_FIELD");
    expect(codeOf(() => readEnvelopeUnverified(resign({ chunks: [...m.chunks, m.chunks[0]] })))).toBe("RELEASE_BAD_FIELD");
    expect(codeOf(() => readEnvelopeUnverified(resign({ chunkBytes: 256 * 1024 })))).toBe("RELEASE_BAD_FIELD");
    expect(codeOf(() => readEnvelopeUnverified(resign({ version: "v1" })))).toBe("RELEASE_BAD_FIELD");
    expect(codeOf(() => readEnvelopeUnverified(resign({ size: -1 })))).toBe("RELEASE_BAD_FIELD");
    expect(codeOf(() => readEnvelopeUnverified(resign({ kind: "rollback" })))).toBe("RELEASE_BAD_FIELD");
    expect(codeOf(() => readEnvelopeUnverified(resign({ target: "a/b" })))).toBe("RELEASE_BAD_FIELD");
  });

  it("refuses truncated and padded release files and a payload that does not match", () => {
    expect(codeOf(() => readReleaseFile(rel.bytes.subarray(0, rel.bytes.length - 1)))).toBe("RELEASE_TRUNCATED");
    expect(codeOf(() => readReleaseFile(rel.bytes.subarray(0, 10)))).toBe("RELEASE_TRUNCATED");
    expect(codeOf(() => readReleaseFile(new Uint8Array([...rel.bytes, 0])))).toBe("RELEASE_TRUNCATED");
    expect(codeOf(() => readReleaseFile(new Uint8Array(32)))).toBe("RELEASE_BAD_MAGIC");
    const swapped = writeReleaseFile({ envelope: rel.envelope, payload: syntheticErm({ inFeatures: 128, outFeatures: 8, seed: 5 }) });
    expect(codeOf(() => openRelease(swapped))).toBe("RELEASE_HASH_MISMATCH");
  });

  it("refuses a model without golden vectors (a device could not self-test it)", () => {
    expect(codeOf(() => createRelease(new Uint8Array(100), { version: "1.0.0", privateKey }))).toMatch(/^ERM_/);
  });

  it("encrypts for a group: ciphertext on the wire, decrypts only with the group key", () => {
    const key = randomBytes(32);
    const enc = createRelease(erm, { version: "1.0.0", privateKey, groupKey: key });
    expect(Buffer.from(enc.payload).includes(Buffer.from(erm.subarray(64, 128)))).toBe(false);
    const e = enc.manifest.encryption!;
    expect(Buffer.compare(decryptModel(enc.payload, e, new Map([[e.keyId, key]])), erm)).toBe(0);
    expect(codeOf(() => decryptModel(enc.payload, e, new Map()))).toBe("RELEASE_NO_GROUP_KEY");
    expect(codeOf(() => decryptModel(enc.payload, e, new Map([[e.keyId, randomBytes(32)]])))).toBe("RELEASE_DECRYPT_FAILED");
  });

  it("re-signs an older release as a rollback that names what it replaces", () => {
    const { manifest } = verifyEnvelope(rollbackEnvelope(rel.manifest, "2.0.0", privateKey), pinned);
    expect(manifest).toMatchObject({ kind: "rollback", version: "1.2.3", rollbackFrom: "2.0.0", sha256: rel.manifest.sha256 });
  });
});

describe("versions and topics", () => {
  it("orders semantic versions, pre-releases below releases", () => {
    const sorted = ["1.0.0", "1.0.0-rc.1", "0.9.10", "1.0.0-alpha", "0.9.9", "1.0.0-rc.2", "1.10.0", "1.2.0"].sort(compareSemver);
    expect(sorted).toEqual(["0.9.9", "0.9.10", "1.0.0-alpha", "1.0.0-rc.1", "1.0.0-rc.2", "1.0.0", "1.2.0", "1.10.0"]);
  });

  it("builds and parses every topic, refuses names that would break the layout", () => {
    const h = "a".repeat(64);
    expect(parseTopic(topics.chunk(h))).toEqual({ kind: "chunk", sha256: h });
    expect(parseTopic(topics.groupRelease("lab"))).toEqual({ kind: "group-release", group: "lab" });
    expect(parseTopic(topics.status("pi-1"))).toEqual({ kind: "status", device: "pi-1" });
    expect(parseTopic("edgerun/v1/devices/pi-1/secrets").kind).toBe("unknown");
    expect(parseTopic("other/v1/x/y").kind).toBe("unknown");
    expect(codeOf(() => topics.status("a/#"))).toBe("TOPIC_BAD_NAME");
    expect(codeOf(() => topics.chunk("xyz"))).toBe("TOPIC_BAD_HASH");
  });
});
