// Status codes returned to the host. Mirrors host/format/status.ts (a test compares them).
export const OK: i32 = 0;
export const ERM_TRUNCATED: i32 = 1;
export const ERM_BAD_MAGIC: i32 = 2;
export const ERM_BAD_VERSION: i32 = 3;
export const ERM_CHECKSUM: i32 = 4;
export const ERM_BAD_SECTION: i32 = 5;
export const ERM_MISSING_SECTION: i32 = 6;
export const ERM_BAD_TENSOR: i32 = 7;
export const ERM_BAD_OFFSET: i32 = 8;
export const ERM_UNSUPPORTED_OP: i32 = 9;
export const ERM_BAD_OP: i32 = 10;
export const ERM_BAD_PARAMS: i32 = 11;
export const ERM_SHAPE_MISMATCH: i32 = 12;
export const ERM_LIMIT: i32 = 13;
export const RUNTIME_OUT_OF_MEMORY: i32 = 14;
export const RUNTIME_NOT_LOADED: i32 = 15;
export const RUNTIME_BAD_ARGUMENT: i32 = 16;
export const ERM_BAD_META: i32 = 17;

/** Where the last error happened: a byte offset into the file, or an op / tensor index. */
export let errWhere: i32 = -1;
export let errOp: i32 = -1;
export let errTensor: i32 = -1;
export let errExpected: i64 = 0;
export let errActual: i64 = 0;

export function fail(status: i32, where: i32, expected: i64, actual: i64): i32 {
  errWhere = where;
  errExpected = expected;
  errActual = actual;
  return status;
}

export function failOp(status: i32, op: i32, tensor: i32, expected: i64, actual: i64): i32 {
  errOp = op;
  errTensor = tensor;
  errExpected = expected;
  errActual = actual;
  return status;
}

export function clearError(): void {
  errWhere = -1;
  errOp = -1;
  errTensor = -1;
  errExpected = 0;
  errActual = 0;
}
