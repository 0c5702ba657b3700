// The runtime's abort handler (wired with --use abort=...). Inputs never reach an assert:
// the loader returns statuses. Reaching this means a runtime bug; trap without importing anything.
export function onAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}
