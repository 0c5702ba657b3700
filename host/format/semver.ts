// Semantic versions (semver.org 2.0): parse and order. Releases are ordered by version; a device
// refuses a lower one unless a signed rollback says so.

import { EdgerunError } from "./errors.js";

export interface SemVer { major: number; minor: number; patch: number; pre: string[] }

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?$/;

export function parseSemver(s: string): SemVer {
  const m = typeof s === "string" ? SEMVER.exec(s) : null;
  if (!m) throw new EdgerunError("RELEASE_BAD_VERSION", `not a semantic version: ${JSON.stringify(s)}`, { actual: s });
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split(".") : [] };
}

export function isSemver(s: unknown): s is string {
  return typeof s === "string" && SEMVER.test(s);
}

/** Negative when a < b, 0 when equal (build metadata ignored), positive when a > b. */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a), y = parseSemver(b);
  for (const k of ["major", "minor", "patch"] as const) if (x[k] !== y[k]) return x[k] - y[k];
  // A version without pre-release identifiers ranks above one with them.
  if (!x.pre.length || !y.pre.length) return (x.pre.length ? -1 : 0) + (y.pre.length ? 1 : 0);
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i], q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p), qn = /^\d+$/.test(q);
    if (pn && qn && Number(p) !== Number(q)) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}
