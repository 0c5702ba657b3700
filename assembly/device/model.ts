// The device's model state: which commit record is active, boot (pick the newest record whose
// slot hashes right and loads, else the other), and activating a verified slot.

import * as S from "../format/status";
import { heapTop } from "../graph/alloc";
import { logEvent, EV_BOOT, EV_MODEL_ACTIVE, EV_MODEL_LOAD_FAILED } from "./abi";
import { record, readRecord, hashFlash, bytesEqual, slotOffset, records, REC_HASH, REC_NAME, REC_VERSION, HASH_BYTES, NAME_BYTES, VERSION_BYTES } from "./store";
import { activateImage, unloadAll, mode, STATUS_FLASH_READ } from "./stream";
import * as D from "./status";

/** Memory cap of the MVP build (asconfig.json "mvp": maximumMemory 5 pages); the builds test checks it. */
export const MEMORY_CAP_BYTES: u32 = 5 * 65536;

export let residentMaxBytes: u32 = 128 * 1024;
export let activeValid = false;
export let activeSlot: u32 = 0;
export let activeGeneration: u32 = 0;
export let activeBytes: u32 = 0;
export let activeRecord: i32 = -1; // record sector holding the active record
// Claimed by device_init (placeModelBuffers): hash 32, name 32, version 16, digest 32.
export let activeHash: usize = 0;
export let activeName: usize = 0;
export let activeVersion: usize = 0;
export const MODEL_BUFFER_BYTES: u32 = 112;

export function placeModelBuffers(p: usize): void {
  activeHash = p;
  activeName = p + 32;
  activeVersion = p + 64;
  digest = p + 80;
}
export let activeRamBytes: u32 = 0;
/** Heap top with no model loaded: a model may use MEMORY_CAP_BYTES minus this. */
export let idleTop: u32 = 0;
export let digest: usize = 0;
export let recordValid0 = false;
export let recordValid1 = false;

export function setResidentMax(bytes: u32): void {
  residentMaxBytes = bytes;
}

/** Maps a runtime status from activation to a device status. */
export function activationStatus(st: i32): u8 {
  if (st == S.OK) return D.DEV_OK;
  if (st == STATUS_FLASH_READ) return D.DEV_FLASH_ERROR;
  if (st == S.RUNTIME_OUT_OF_MEMORY) return D.DEV_OUT_OF_MEMORY;
  return D.DEV_MODEL_REJECTED;
}

/** Loads the image in `slot` (already verified); returns a runtime status. */
export function activateSlot(slot: u32, bytes: u32): i32 {
  const st = activateImage(slotOffset(slot), bytes, residentMaxBytes);
  if (st != S.OK) {
    logEvent(EV_MODEL_LOAD_FAILED, <i32>slot, st);
    return st;
  }
  activeRamBytes = <u32>heapTop() - idleTop;
  logEvent(EV_MODEL_ACTIVE, <i32>slot, mode);
  return st;
}

export function setActive(index: i32, slot: u32, generation: u32, bytes: u32, hash: usize, name: usize, version: usize): void {
  activeValid = true;
  activeRecord = index;
  activeSlot = slot;
  activeGeneration = generation;
  activeBytes = bytes;
  memory.copy(activeHash, hash, HASH_BYTES);
  memory.copy(activeName, name, NAME_BYTES);
  memory.copy(activeVersion, version, VERSION_BYTES);
}

function tryRecord(index: u32): bool {
  const rec = record(index);
  const r = records + index * 128;
  if (!hashFlash(slotOffset(rec.slot), rec.imageBytes, digest) || !bytesEqual(digest, r + REC_HASH, HASH_BYTES)) {
    logEvent(EV_MODEL_LOAD_FAILED, <i32>rec.slot, -2);
    return false;
  }
  if (activateSlot(rec.slot, rec.imageBytes) != S.OK) return false;
  setActive(<i32>index, rec.slot, rec.generation, rec.imageBytes, r + REC_HASH, r + REC_NAME, r + REC_VERSION);
  return true;
}

/** Reads both records and activates the newest one that verifies and loads. */
export function boot(): void {
  activeValid = false;
  activeRecord = -1;
  activeRamBytes = 0;
  unloadAll();
  idleTop = <u32>heapTop();
  recordValid0 = readRecord(0);
  recordValid1 = readRecord(1);
  const newerFirst: u32 = recordValid1 && (!recordValid0 || record(1).generation > record(0).generation) ? 1 : 0;
  let ok = false;
  if (newerFirst == 0) ok = (recordValid0 && tryRecord(0)) || (recordValid1 && tryRecord(1));
  else ok = (recordValid1 && tryRecord(1)) || (recordValid0 && tryRecord(0));
  if (!ok) unloadAll();
  logEvent(EV_BOOT, ok ? <i32>activeSlot : -1, <i32>activeGeneration);
}

/** Highest generation among the valid records (0 when none). */
export function maxGeneration(): u32 {
  let g: u32 = 0;
  if (recordValid0) g = max(g, record(0).generation);
  if (recordValid1) g = max(g, record(1).generation);
  return g;
}
