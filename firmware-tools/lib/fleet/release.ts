// Making a release: check the model, optionally encrypt it for a group, cut it into
// content-addressed chunks, sign the manifest. Also re-signing a past release as a rollback.

import type { KeyObject } from "node:crypto";
import { readErm } from "../../../host/format/erm-reader.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { checkChunkBytes, DEFAULT_CHUNK_BYTES, splitChunks } from "../../../host/format/chunks.js";
import { encryptModel } from "../../../host/format/model-crypto.js";
import { MANIFEST_SCHEMA, ReleaseManifest, sha256Hex, signManifest, readEnvelopeUnverified } from "../../../host/format/release-manifest.js";
import { readReleaseFile, writeReleaseFile } from "../../../host/format/release-file.js";
import { parseSemver } from "../../../host/format/semver.js";

export interface ReleaseOptions {
  version: string;
  privateKey: KeyObject;
  chunkBytes?: number;
  target?: string;
  notes?: string;
  modelId?: string;
  groupKey?: Uint8Array;
  createdAt?: Date;
}

export interface MadeRelease { bytes: Uint8Array; manifest: ReleaseManifest; envelope: string; payload: Uint8Array }

export function createRelease(erm: Uint8Array, o: ReleaseOptions): MadeRelease {
  parseSemver(o.version);
  const chunkBytes = checkChunkBytes(o.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  // A release must carry a model the device can load and self-test: refuse it here, not there.
  const model = readErm(erm);
  if (model.golden.length === 0) throw new EdgerunError("RELEASE_NO_GOLDEN", "the model has no golden vectors; devices could not self-test it (convert stores them)");
  const enc = o.groupKey ? encryptModel(erm, o.groupKey) : undefined;
  const payload = enc ? enc.payload : erm;
  const manifest: ReleaseManifest = {
    schema: MANIFEST_SCHEMA,
    kind: "release",
    modelId: o.modelId ?? model.meta.name,
    version: o.version,
    sha256: sha256Hex(payload),
    size: payload.length,
    chunkBytes,
    chunks: splitChunks(payload, chunkBytes).map((c) => c.sha256),
    createdAt: (o.createdAt ?? new Date()).toISOString(),
    target: o.target ?? "*",
    notes: o.notes ?? "",
    keyId: "0000000000000000",
    ...(enc ? { encryption: enc.encryption } : {}),
  };
  const envelope = signManifest(manifest, o.privateKey);
  return { bytes: writeReleaseFile({ envelope, payload }), manifest: readEnvelopeUnverified(envelope), envelope, payload };
}

export interface OpenedRelease { manifest: ReleaseManifest; envelope: string; payload: Uint8Array }

/** Reads a release file and checks that the payload matches its manifest. */
export function openRelease(bytes: Uint8Array): OpenedRelease {
  const { envelope, payload } = readReleaseFile(bytes);
  const manifest = readEnvelopeUnverified(envelope);
  if (payload.length !== manifest.size || sha256Hex(payload) !== manifest.sha256) {
    throw new EdgerunError("RELEASE_HASH_MISMATCH", "the model in the release file does not match its manifest", { expected: manifest.sha256, actual: sha256Hex(payload) });
  }
  return { manifest, envelope, payload };
}

/** A signed manifest that re-activates `previous` in place of `current` (devices allow this downgrade). */
export function rollbackEnvelope(previous: ReleaseManifest, currentVersion: string, privateKey: KeyObject, createdAt = new Date()): string {
  const m: ReleaseManifest = { ...previous, kind: "rollback", rollbackFrom: currentVersion, createdAt: createdAt.toISOString(), notes: `rollback from ${currentVersion} to ${previous.version}` };
  return signManifest(m, privateKey);
}
