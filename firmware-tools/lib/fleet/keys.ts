// Operator keys: an Ed25519 signing pair (private key stays with the operator, the public key is
// pinned on devices) and optional AES-256 group keys for encrypted releases.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";
import { keyIdOf, loadPrivateKey } from "../../../host/format/release-manifest.js";
import { groupKeyId, parseGroupKey } from "../../../host/format/model-crypto.js";
import { writeFileAtomic } from "../../../host/fs/atomic.js";
import { chmodSync } from "node:fs";

export interface GeneratedKeys { privatePath: string; publicPath: string; keyId: string }

export function generateSigningKeys(dir: string, name: string, overwrite = false): GeneratedKeys {
  const privatePath = join(dir, `${name}.key`), publicPath = join(dir, `${name}.pub`);
  refuseOverwrite([privatePath, publicPath], overwrite);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileAtomic(privatePath, privateKey.export({ format: "pem", type: "pkcs8" }) as string);
  chmodSync(privatePath, 0o600);
  writeFileAtomic(publicPath, publicKey.export({ format: "pem", type: "spki" }) as string);
  return { privatePath, publicPath, keyId: keyIdOf(privateKey) };
}

export function generateGroupKey(dir: string, name: string, overwrite = false): { path: string; keyId: string } {
  const path = join(dir, `${name}.aes`);
  refuseOverwrite([path], overwrite);
  const key = randomBytes(32);
  writeFileAtomic(path, key.toString("hex") + "\n");
  chmodSync(path, 0o600);
  return { path, keyId: groupKeyId(key) };
}

function refuseOverwrite(paths: string[], overwrite: boolean): void {
  if (overwrite) return;
  const existing = paths.find((p) => existsSync(p));
  if (existing) throw new EdgerunError("KEY_EXISTS", `${existing} exists; pass --force to replace it`, { path: existing });
}

export function readKeyFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EdgerunError("KEY_NOT_FOUND", `cannot read key ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
}

export function readSigningKey(path: string) {
  return loadPrivateKey(readKeyFile(path));
}

export function readGroupKey(path: string): Buffer {
  return parseGroupKey(readKeyFile(path).toString("utf8"));
}
