import type { Command } from "commander";
import { generateGroupKey, generateSigningKeys } from "../lib/fleet/keys.js";

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("operator keys for signing (Ed25519) and group encryption (AES-256)");
  keys
    .command("generate")
    .description("write <name>.key (private, keep it) and <name>.pub (pin it on devices); with --group-key, <name>.aes")
    .option("--out-dir <dir>", "where to write the files", ".")
    .option("--name <name>", "file name stem", "edgerun")
    .option("--group-key", "generate an AES-256 group key for encrypted releases instead")
    .option("--force", "overwrite existing files")
    .action((o: { outDir: string; name: string; groupKey?: boolean; force?: boolean }) => {
      if (o.groupKey) {
        const g = generateGroupKey(o.outDir, o.name, o.force);
        console.log(`wrote ${g.path} (group key id ${g.keyId}); provision it to the group's devices out of band`);
        return;
      }
      const k = generateSigningKeys(o.outDir, o.name, o.force);
      console.log(`wrote ${k.privatePath} (private, mode 600) and ${k.publicPath} (key id ${k.keyId}); pin the .pub in each agent's config`);
    });
}
