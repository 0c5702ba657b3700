// Where the shared reference data lives: EDGERUN_SHARED, else ../shared beside the checkout.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";
import { packageRoot } from "../../../host/runtime/paths.js";

export function sharedDir(): string {
  const dir = process.env.EDGERUN_SHARED ?? resolve(packageRoot(), "..", "shared");
  if (!existsSync(join(dir, "models"))) {
    throw new EdgerunError("DEMO_NO_SHARED_DATA", `reference models not found in ${dir}; set EDGERUN_SHARED`, { path: dir });
  }
  return dir;
}
