// The device ABI of runtime-mvp.wasm (docs/mcu-abi.md): the six functions a host provides in
// import module "edgerun". The virtual microcontroller implements them for real; hosts that only
// run inference (host/runtime/runtime.ts) link inert versions, which WASM3 would not even need
// (it reports an unlinked import only when it is first called).

export const DEVICE_IMPORT_MODULE = "edgerun";

/** Name and WebAssembly signature of every import, in the documented order. */
export const DEVICE_IMPORTS = [
  { name: "serial_write", params: ["i32", "i32"], results: ["i32"] },
  { name: "flash_read", params: ["i32", "i32", "i32"], results: ["i32"] },
  { name: "flash_write", params: ["i32", "i32", "i32"], results: ["i32"] },
  { name: "flash_erase", params: ["i32", "i32"], results: ["i32"] },
  { name: "clock_us", params: [], results: ["i64"] },
  { name: "log_event", params: ["i32", "i32", "i32"], results: [] },
] as const;

export type DeviceImportName = (typeof DEVICE_IMPORTS)[number]["name"];

export interface DeviceImports {
  serial_write(ptr: number, len: number): number;
  flash_read(offset: number, ptr: number, len: number): number;
  flash_write(offset: number, ptr: number, len: number): number;
  flash_erase(offset: number, len: number): number;
  clock_us(): bigint;
  log_event(event: number, a: number, b: number): void;
}

/** Imports for inference-only use: no serial line, no flash (every call reports an error). */
export function inertDeviceImports(): WebAssembly.Imports {
  const none: DeviceImports = {
    serial_write: () => -1,
    flash_read: () => -1,
    flash_write: () => -1,
    flash_erase: () => -1,
    clock_us: () => process.hrtime.bigint() / 1000n,
    log_event: () => undefined,
  };
  return { [DEVICE_IMPORT_MODULE]: { ...none } };
}
