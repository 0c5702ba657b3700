import type { Command } from "commander";
import { writeFileAtomic } from "../../host/fs/atomic.js";
import { readGroupKey, readSigningKey } from "../lib/fleet/keys.js";
import { createRelease } from "../lib/fleet/release.js";
import { readBin } from "./convert.js";
import { parseBytes } from "./options.js";

export function registerRelease(program: Command): void {
  program
    .command("release")
    .description("sign a model release: manifest (id, version, sha256, size, chunks, created-at, target, notes) + model")
    .argument("<model>", ".erm file")
    .requiredOption("--version <semver>", "release version (devices refuse older ones)")
    .requiredOption("--key <file>", "Ed25519 private key (edgerun keys generate)")
    .requiredOption("-o, --output <file>", "release file to write")
    .option("--chunk-size <bytes>", "chunk size, at most 128k", parseBytes, 64 * 1024)
    .option("--target <group>", "the group this release is for (* = any)", "*")
    .option("--notes <text>", "release notes", "")
    .option("--model-id <id>", "model id (default: the model's name)")
    .option("--encrypt <file>", "encrypt the model for a group with this AES-256 key file")
    .action((model: string, o: { version: string; key: string; output: string; chunkSize: number; target: string; notes: string; modelId?: string; encrypt?: string }) => {
      const r = createRelease(readBin(model), {
        version: o.version, privateKey: readSigningKey(o.key), chunkBytes: o.chunkSize, target: o.target, notes: o.notes, modelId: o.modelId,
        groupKey: o.encrypt ? readGroupKey(o.encrypt) : undefined,
      });
      writeFileAtomic(o.output, r.bytes);
      const m = r.manifest;
      console.log(`wrote ${o.output}: ${m.modelId} ${m.version}, ${m.size} bytes in ${m.chunks.length} chunks of ${m.chunkBytes}, sha256 ${m.sha256.slice(0, 16)}..., signed by ${m.keyId}${m.encryption ? `, encrypted for group key ${m.encryption.keyId}` : ""}`);
    });
}
