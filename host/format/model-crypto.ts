// Optional group encryption of a model (AES-256-GCM). The key is provisioned to the devices of a
// group out of band; the payload stays encrypted at rest and is decrypted only into memory.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { EdgerunError } from "./errors.js";
import type { ManifestEncryption } from "./release-manifest.js";
import { sha256Hex } from "./release-manifest.js";

export const GROUP_KEY_BYTES = 32;

export function groupKeyId(key: Uint8Array): string {
  return createHash("sha256").update(Buffer.from("edgerun-group-key")).update(key).digest("hex").slice(0, 16);
}

/** Group key files hold 64 hex digits (one line). */
export function parseGroupKey(text: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new EdgerunError("KEY_BAD_FORMAT", "a group key is 64 hex digits (32 bytes)", { actual: hex.length });
  return Buffer.from(hex, "hex");
}

export function encryptModel(plain: Uint8Array, key: Uint8Array): { payload: Uint8Array; encryption: ManifestEncryption } {
  if (key.length !== GROUP_KEY_BYTES) throw new EdgerunError("KEY_BAD_FORMAT", "AES-256 needs a 32-byte key", { actual: key.length });
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const payload = Buffer.concat([c.update(plain), c.final()]);
  return {
    payload,
    encryption: { alg: "aes-256-gcm", keyId: groupKeyId(key), iv: iv.toString("base64"), tag: c.getAuthTag().toString("base64"), plainSha256: sha256Hex(plain), plainSize: plain.length },
  };
}

export function decryptModel(payload: Uint8Array, e: ManifestEncryption, keys: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const key = keys.get(e.keyId);
  if (!key) throw new EdgerunError("RELEASE_NO_GROUP_KEY", `the model is encrypted with group key ${e.keyId}, which this device does not hold`, { actual: e.keyId });
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(e.iv, "base64"));
  d.setAuthTag(Buffer.from(e.tag, "base64"));
  let plain: Buffer;
  try {
    plain = Buffer.concat([d.update(payload), d.final()]);
  } catch {
    throw new EdgerunError("RELEASE_DECRYPT_FAILED", "the model does not decrypt with the group key (wrong key or damaged data)", { keyId: e.keyId });
  }
  if (plain.length !== e.plainSize || sha256Hex(plain) !== e.plainSha256) {
    throw new EdgerunError("RELEASE_HASH_MISMATCH", "the decrypted model does not match its manifest hash", { expected: e.plainSha256 });
  }
  return plain;
}
