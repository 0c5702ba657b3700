// Flash layout and the commit record (docs/mcu-abi.md, "Flash"):
//   [record sector A][record sector B][slot 0][slot 1]
// A model is written into the slot that is not active, verified by SHA-256, loaded, and only then
// a new commit record (generation + 1) is written into the record sector not holding the active
// record. The record ends with a CRC-32, so power lost while writing it leaves it invalid and
// the other record (the previous model) wins at boot.

import { crc32 } from "../format/reader";
import { flashRead, flashWrite, flashErase, logEvent, EV_FLASH_ERROR } from "./abi";
import { sha256Init, sha256Update, sha256Final } from "./sha256";

export const RECORD_MAGIC: u32 = 0x434d5245; // "ERMC"
export const RECORD_BYTES: u32 = 100;
export const HASH_BYTES: u32 = 32;
export const NAME_BYTES: u32 = 32;
export const VERSION_BYTES: u32 = 16;
const WORK_BYTES: u32 = 1024;

/** A commit record: magic, generation, slot, image bytes, sha256, name, version, crc32. */
@unmanaged export class CommitRecord {
  magic: u32 = 0;
  generation: u32 = 0;
  slot: u32 = 0;
  imageBytes: u32 = 0;
}
// Offsets inside a record beyond the four u32 fields above.
export const REC_HASH: u32 = 16;
export const REC_NAME: u32 = 48;
export const REC_VERSION: u32 = 80;
export const REC_CRC: u32 = 96;

export let flashBytes: u32 = 0;
export let sectorBytes: u32 = 0;
export let slotBytes: u32 = 0;

/** The two records as read at boot (index = record sector), 128 bytes each. */
export let records: usize = 0; // 2 x 128 bytes, claimed by device_init
/** Flash read buffer for hashing (claimed by device_init). */
export let work: usize = 0;
export const WORK_BUFFER_BYTES: u32 = WORK_BYTES + 256; // flash reads, then the two records

export function placeWorkBuffer(p: usize): void {
  work = p;
  records = p + WORK_BYTES;
}

export function configureFlash(flash: u32, sector: u32): bool {
  if (sector < 256 || (sector & (sector - 1)) != 0 || flash < sector * 4) return false;
  flashBytes = flash;
  sectorBytes = sector;
  slotBytes = ((flash - 2 * sector) / 2 / sector) * sector;
  return true;
}

export function slotOffset(slot: u32): u32 {
  return 2 * sectorBytes + slot * slotBytes;
}

export function record(index: u32): CommitRecord {
  return changetype<CommitRecord>(records + index * 128);
}

/** Reads record sector `index`; returns true when it holds a valid record. */
export function readRecord(index: u32): bool {
  const r = records + index * 128;
  if (flashRead(index * sectorBytes, r, RECORD_BYTES) != 0) {
    memory.fill(r, 0, 128);
    return false;
  }
  const rec = record(index);
  return rec.magic == RECORD_MAGIC && load<u32>(r + REC_CRC) == crc32(r, REC_CRC) && rec.slot < 2 && rec.imageBytes <= slotBytes && rec.imageBytes > 0;
}

/** Erases record sector `index` and writes a record (CRC last); returns true on success. */
export function writeRecord(index: u32, generation: u32, slot: u32, imageBytes: u32, hash: usize, name: usize, version: usize): bool {
  const r = records + index * 128;
  const rec = record(index);
  rec.magic = RECORD_MAGIC;
  rec.generation = generation;
  rec.slot = slot;
  rec.imageBytes = imageBytes;
  memory.copy(r + REC_HASH, hash, HASH_BYTES);
  memory.copy(r + REC_NAME, name, NAME_BYTES);
  memory.copy(r + REC_VERSION, version, VERSION_BYTES);
  store<u32>(r + REC_CRC, crc32(r, REC_CRC));
  const at = index * sectorBytes;
  if (flashErase(at, sectorBytes) != 0) return flashFailed(at);
  if (flashWrite(at, r, RECORD_BYTES) != 0) return flashFailed(at);
  return true;
}

function flashFailed(at: u32): bool {
  logEvent(EV_FLASH_ERROR, <i32>at, 0);
  return false;
}

/** SHA-256 of flash [offset, offset + n) into out; false when flash cannot be read. */
export function hashFlash(offset: u32, n: u32, out: usize): bool {
  sha256Init();
  for (let done: u32 = 0; done < n; ) {
    const k = min(WORK_BYTES, n - done);
    if (flashRead(offset + done, work, k) != 0) return flashFailed(offset + done);
    sha256Update(work, k);
    done += k;
  }
  sha256Final(out);
  return true;
}

export function bytesEqual(a: usize, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}
