// Shared argument parsers: each throws a usage error (exit 2) with the option name.

import { InvalidArgumentError } from "commander";

export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a byte count such as 18000, 40k or 1MiB, got "${value}"`);
  const unit = (m[2] ?? "b").toLowerCase();
  const mul = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 * 1024 : 1;
  return Math.round(Number(m[1]) * mul);
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

export function parseBuild(value: string): "simd" | "mvp" | "auto" {
  if (value !== "simd" && value !== "mvp" && value !== "auto") throw new InvalidArgumentError(`expected simd, mvp or auto, got "${value}"`);
  return value;
}
