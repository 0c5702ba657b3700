// Status codes shared with the AssemblyScript runtime (assembly/format/status.ts).
// A test checks that both lists agree.

export const STATUS = {
  OK: 0,
  ERM_TRUNCATED: 1,
  ERM_BAD_MAGIC: 2,
  ERM_BAD_VERSION: 3,
  ERM_CHECKSUM: 4,
  ERM_BAD_SECTION: 5,
  ERM_MISSING_SECTION: 6,
  ERM_BAD_TENSOR: 7,
  ERM_BAD_OFFSET: 8,
  ERM_UNSUPPORTED_OP: 9,
  ERM_BAD_OP: 10,
  ERM_BAD_PARAMS: 11,
  ERM_SHAPE_MISMATCH: 12,
  ERM_LIMIT: 13,
  RUNTIME_OUT_OF_MEMORY: 14,
  RUNTIME_NOT_LOADED: 15,
  RUNTIME_BAD_ARGUMENT: 16,
  ERM_BAD_META: 17,
} as const;

export type StatusCode = keyof typeof STATUS;

export function statusName(code: number): StatusCode | `STATUS_${number}` {
  for (const [k, v] of Object.entries(STATUS)) if (v === code) return k as StatusCode;
  return `STATUS_${code}`;
}
