// The release manifest: what a device needs to fetch, verify and decide on a model release.
// It travels as a signed envelope, {"manifest": "<exact JSON text>", "signature": "<base64>"}:
// the signature covers the manifest's UTF-8 bytes exactly as sent, so no canonical JSON is needed.
// Ed25519 via Node's crypto. Layout: docs/mqtt-protocol.md.

import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from "node:crypto";
import { EdgerunError } from "./errors.js";
import { isSemver } from "./semver.js";
import { MAX_CHUNK_BYTES, MIN_CHUNK_BYTES } from "./chunks.js";

export const MANIFEST_SCHEMA = "edgerun.release/1";
/** Bounds checked before parsing (a hostile retained message must not cost memory). */
export const MANIFEST_LIMITS = { maxEnvelopeBytes: 512 * 1024, maxChunks: 8192, maxModelBytes: 256 * 1024 * 1024, maxNotesChars: 4096 } as const;

export interface ManifestEncryption {
  alg: "aes-256-gcm";
  /** Which group key (provisioned out of band) decrypts the payload. */
  keyId: string;
  iv: string; // base64, 12 bytes
  tag: string; // base64, 16 bytes
  plainSha256: string;
  plainSize: number;
}

export interface ReleaseManifest {
  schema: typeof MANIFEST_SCHEMA;
  kind: "release" | "rollback";
  modelId: string;
  version: string;
  /** sha256 (hex) and size of the payload as delivered and stored (the ciphertext when encrypted). */
  sha256: string;
  size: number;
  chunkBytes: number;
  /** sha256 of each chunk, in order: chunks are content-addressed on the broker. */
  chunks: string[];
  createdAt: string;
  /** A group name, or "*" for any group. */
  target: string;
  notes: string;
  /** Fingerprint of the signing key (keyIdOf). */
  keyId: string;
  encryption?: ManifestEncryption;
  /** Rollbacks only: the version this rollback replaces. */
  rollbackFrom?: string;
}

export interface SignedManifest { manifest: ReleaseManifest; envelope: string }

const HEX64 = /^[0-9a-f]{64}$/;

/** 16 hex digits of sha256 over the raw 32-byte Ed25519 public key. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const raw = pub.export({ format: "der", type: "spki" }).subarray(-32);
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

export function loadPrivateKey(pem: string | Buffer): KeyObject {
  let k: KeyObject;
  try {
    k = createPrivateKey(pem);
  } catch (e) {
    throw new EdgerunError("KEY_BAD_FORMAT", `not a PEM private key: ${(e as Error).message}`);
  }
  if (k.asymmetricKeyType !== "ed25519") throw new EdgerunError("KEY_BAD_FORMAT", "the signing key must be Ed25519", { actual: k.asymmetricKeyType });
  return k;
}

export function loadPublicKey(pem: string | Buffer): KeyObject {
  let k: KeyObject;
  try {
    k = createPublicKey(pem);
  } catch (e) {
    throw new EdgerunError("KEY_BAD_FORMAT", `not a PEM public key: ${(e as Error).message}`);
  }
  if (k.asymmetricKeyType !== "ed25519") throw new EdgerunError("KEY_BAD_FORMAT", "pinned keys must be Ed25519", { actual: k.asymmetricKeyType });
  return k;
}

export function signManifest(manifest: ReleaseManifest, privateKey: KeyObject): string {
  const m = { ...manifest, keyId: keyIdOf(privateKey) };
  validateManifest(m);
  const text = JSON.stringify(m);
  const signature = sign(null, Buffer.from(text), privateKey).toString("base64");
  return JSON.stringify({ manifest: text, signature });
}

/** Parses an envelope and checks the signature against the pinned keys, then every field. */
export function verifyEnvelope(envelope: Uint8Array | string, pinned: ReadonlyMap<string, KeyObject>): SignedManifest {
  const { text, signature } = parseEnvelope(envelope);
  const manifest = parseManifestText(text);
  const key = pinned.get(manifest.keyId);
  if (!key) throw new EdgerunError("RELEASE_UNKNOWN_KEY", `signed by key ${manifest.keyId}, which this device does not pin`, { actual: manifest.keyId, expected: [...pinned.keys()] });
  if (!verify(null, Buffer.from(text), key, signature)) {
    throw new EdgerunError("RELEASE_BAD_SIGNATURE", `the signature of ${manifest.modelId} ${manifest.version} does not verify with key ${manifest.keyId}`, { version: manifest.version });
  }
  validateManifest(manifest);
  return { manifest, envelope: typeof envelope === "string" ? envelope : Buffer.from(envelope).toString("utf8") };
}

/** Reads an envelope without checking the signature (operator tools display and re-sign). */
export function readEnvelopeUnverified(envelope: Uint8Array | string): ReleaseManifest {
  const m = parseManifestText(parseEnvelope(envelope).text);
  validateManifest(m);
  return m;
}

function parseEnvelope(envelope: Uint8Array | string): { text: string; signature: Buffer } {
  const bytes = typeof envelope === "string" ? Buffer.byteLength(envelope) : envelope.length;
  if (bytes === 0) throw new EdgerunError("RELEASE_UNSIGNED", "empty release message");
  if (bytes > MANIFEST_LIMITS.maxEnvelopeBytes) throw new EdgerunError("RELEASE_TOO_LARGE", "release envelope above the limit", { expected: `<= ${MANIFEST_LIMITS.maxEnvelopeBytes}`, actual: bytes });
  let obj: unknown;
  try {
    obj = JSON.parse(typeof envelope === "string" ? envelope : Buffer.from(envelope).toString("utf8"));
  } catch {
    throw new EdgerunError("RELEASE_MALFORMED", "release envelope is not JSON");
  }
  const o = obj as { manifest?: unknown; signature?: unknown };
  if (!o || typeof o !== "object" || typeof o.manifest !== "string") throw new EdgerunError("RELEASE_MALFORMED", "release envelope has no manifest text");
  if (typeof o.signature !== "string" || o.signature.length === 0) throw new EdgerunError("RELEASE_UNSIGNED", "release envelope carries no signature");
  const signature = Buffer.from(o.signature, "base64");
  if (signature.length !== 64) throw new EdgerunError("RELEASE_BAD_SIGNATURE", "an Ed25519 signature has 64 bytes", { expected: 64, actual: signature.length });
  return { text: o.manifest, signature };
}

function parseManifestText(text: string): ReleaseManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new EdgerunError("RELEASE_MALFORMED", "manifest is not JSON");
  }
  if (!m || typeof m !== "object" || Array.isArray(m)) throw new EdgerunError("RELEASE_MALFORMED", "manifest is not a JSON object");
  const keyId = (m as { keyId?: unknown }).keyId;
  if (typeof keyId !== "string" || !/^[0-9a-f]{16}$/.test(keyId)) throw new EdgerunError("RELEASE_BAD_FIELD", "manifest keyId must be 16 hex digits", { field: "keyId", actual: keyId });
  return m as ReleaseManifest;
}

function bad(field: string, why: string, actual?: unknown): never {
  throw new EdgerunError("RELEASE_BAD_FIELD", `manifest field ${field} ${why}`, { field, actual });
}

/** Checks every field's type and range; the chunk list must tile the payload exactly. */
export function validateManifest(m: ReleaseManifest): void {
  if (m.schema !== MANIFEST_SCHEMA) bad("schema", `must be ${MANIFEST_SCHEMA}`, m.schema);
  if (m.kind !== "release" && m.kind !== "rollback") bad("kind", "must be release or rollback", m.kind);
  if (typeof m.modelId !== "string" || !/^[\x20-\x7e]{1,128}$/.test(m.modelId)) bad("modelId", "must be 1-128 printable ASCII characters", m.modelId);
  if (!isSemver(m.version)) bad("version", "must be a semantic version", m.version);
  if (typeof m.sha256 !== "string" || !HEX64.test(m.sha256)) bad("sha256", "must be 64 hex digits", m.sha256);
  if (!Number.isInteger(m.size) || m.size <= 0 || m.size > MANIFEST_LIMITS.maxModelBytes) bad("size", `must be 1..${MANIFEST_LIMITS.maxModelBytes}`, m.size);
  if (!Number.isInteger(m.chunkBytes) || m.chunkBytes < MIN_CHUNK_BYTES || m.chunkBytes > MAX_CHUNK_BYTES) bad("chunkBytes", `must be ${MIN_CHUNK_BYTES}..${MAX_CHUNK_BYTES}`, m.chunkBytes);
  if (!Array.isArray(m.chunks) || m.chunks.length > MANIFEST_LIMITS.maxChunks) bad("chunks", `must be a list of at most ${MANIFEST_LIMITS.maxChunks} hashes`);
  const expected = Math.ceil(m.size / m.chunkBytes);
  if (m.chunks.length !== expected) bad("chunks", `must hold ceil(size / chunkBytes) = ${expected} hashes`, m.chunks.length);
  m.chunks.forEach((h, i) => { if (typeof h !== "string" || !HEX64.test(h)) bad(`chunks[${i}]`, "must be 64 hex digits", h); });
  if (typeof m.createdAt !== "string" || Number.isNaN(Date.parse(m.createdAt))) bad("createdAt", "must be an ISO-8601 time", m.createdAt);
  if (typeof m.target !== "string" || !(m.target === "*" || /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(m.target))) bad("target", "must be a group name or *", m.target);
  if (typeof m.notes !== "string" || m.notes.length > MANIFEST_LIMITS.maxNotesChars) bad("notes", `must be a string of at most ${MANIFEST_LIMITS.maxNotesChars} characters`);
  if (m.kind === "rollback" && !isSemver(m.rollbackFrom)) bad("rollbackFrom", "must name the replaced version in a rollback", m.rollbackFrom);
  if (m.encryption !== undefined) validateEncryption(m.encryption);
}

function validateEncryption(e: ManifestEncryption): void {
  if (!e || typeof e !== "object") bad("encryption", "must be an object");
  if (e.alg !== "aes-256-gcm") bad("encryption.alg", "must be aes-256-gcm", e.alg);
  if (typeof e.keyId !== "string" || !/^[0-9a-f]{16}$/.test(e.keyId)) bad("encryption.keyId", "must be 16 hex digits", e.keyId);
  if (typeof e.iv !== "string" || Buffer.from(e.iv, "base64").length !== 12) bad("encryption.iv", "must be 12 bytes of base64");
  if (typeof e.tag !== "string" || Buffer.from(e.tag, "base64").length !== 16) bad("encryption.tag", "must be 16 bytes of base64");
  if (typeof e.plainSha256 !== "string" || !HEX64.test(e.plainSha256)) bad("encryption.plainSha256", "must be 64 hex digits");
  if (!Number.isInteger(e.plainSize) || e.plainSize <= 0) bad("encryption.plainSize", "must be a positive integer", e.plainSize);
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
