// The release file an operator ships: the signed manifest envelope plus the payload.
//   u32 magic "ERRL", u16 format version 1, u16 reserved 0,
//   u32 envelope bytes, envelope (UTF-8 JSON), u32 payload bytes, payload.
// Every length is checked against the file before use.

import { EdgerunError } from "./errors.js";
import { MANIFEST_LIMITS } from "./release-manifest.js";

export const RELEASE_MAGIC = 0x4c525245; // "ERRL" little-endian
export const RELEASE_FILE_VERSION = 1;

export interface ReleaseFile { envelope: string; payload: Uint8Array }

export function writeReleaseFile(r: ReleaseFile): Uint8Array {
  const env = Buffer.from(r.envelope, "utf8");
  const out = new Uint8Array(16 + env.length + r.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, RELEASE_MAGIC, true);
  dv.setUint16(4, RELEASE_FILE_VERSION, true);
  dv.setUint32(8, env.length, true);
  out.set(env, 12);
  dv.setUint32(12 + env.length, r.payload.length, true);
  out.set(r.payload, 16 + env.length);
  return out;
}

export function readReleaseFile(file: Uint8Array): ReleaseFile {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 16) throw new EdgerunError("RELEASE_TRUNCATED", "release file shorter than its header", { expected: 16, actual: file.length });
  if (dv.getUint32(0, true) !== RELEASE_MAGIC) throw new EdgerunError("RELEASE_BAD_MAGIC", "not an edgerun release file", { offset: 0 });
  const version = dv.getUint16(4, true);
  if (version !== RELEASE_FILE_VERSION) throw new EdgerunError("RELEASE_BAD_VERSION", "unsupported release file version", { offset: 4, expected: RELEASE_FILE_VERSION, actual: version });
  const envBytes = dv.getUint32(8, true);
  if (envBytes > MANIFEST_LIMITS.maxEnvelopeBytes) throw new EdgerunError("RELEASE_TOO_LARGE", "manifest envelope above the limit", { offset: 8, actual: envBytes });
  if (12 + envBytes + 4 > file.length) throw new EdgerunError("RELEASE_TRUNCATED", "release file ends inside the manifest", { offset: 8, expected: 16 + envBytes, actual: file.length });
  const payloadBytes = dv.getUint32(12 + envBytes, true);
  const end = 16 + envBytes + payloadBytes;
  if (end !== file.length) {
    throw new EdgerunError("RELEASE_TRUNCATED", end > file.length ? "release file ends inside the model" : "release file has bytes after the model", { offset: 12 + envBytes, expected: end, actual: file.length });
  }
  return { envelope: Buffer.from(file.subarray(12, 12 + envBytes)).toString("utf8"), payload: file.subarray(16 + envBytes, end) };
}
