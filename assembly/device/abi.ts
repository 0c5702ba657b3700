// What the C host (or the virtual microcontroller) provides: module "edgerun", six functions.
// docs/mcu-abi.md is the contract; test/assembly/builds.test.ts checks this exact list.
// All pointers are offsets into this module's memory; all flash offsets are bytes from flash start.

/** Writes bytes to the serial line; returns the count written (len) or a negative error. */
@external("edgerun", "serial_write")
export declare function serialWrite(ptr: usize, len: u32): i32;

/** Reads flash into memory; returns 0 or a negative error. */
@external("edgerun", "flash_read")
export declare function flashRead(offset: u32, ptr: usize, len: u32): i32;

/** Programs flash (NOR semantics: bits only go from 1 to 0); returns 0 or a negative error. */
@external("edgerun", "flash_write")
export declare function flashWrite(offset: u32, ptr: usize, len: u32): i32;

/** Erases [offset, offset + len) to 0xFF; both multiples of the sector size. 0 or negative. */
@external("edgerun", "flash_erase")
export declare function flashErase(offset: u32, len: u32): i32;

/** Monotonic microseconds. */
@external("edgerun", "clock_us")
export declare function clockUs(): i64;

/** A numbered event for the host's log (docs/mcu-abi.md, "Events"). */
@external("edgerun", "log_event")
export declare function logEvent(event: i32, a: i32, b: i32): void;

export const EV_BOOT: i32 = 1; // a = active slot or -1, b = generation
export const EV_MODEL_ACTIVE: i32 = 2; // a = slot, b = mode (0 resident, 1 streamed)
export const EV_MODEL_LOAD_FAILED: i32 = 3; // a = slot, b = runtime status
export const EV_COMMIT: i32 = 4; // a = slot, b = generation
export const EV_COMMIT_FAILED: i32 = 5; // a = device status, b = detail
export const EV_FRAME_DROPPED: i32 = 6; // a = reason (1 bad crc/cobs/length, 2 too long), b = count
export const EV_FLASH_ERROR: i32 = 7; // a = flash offset, b = host error
