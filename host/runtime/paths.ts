// Locates the package root (where build/ holds the wasm files), from source or from dist/.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "assembly"))) return (root = dir);
    dir = dirname(dir);
  }
  throw new Error("edgerun package root not found");
}
