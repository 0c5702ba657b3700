// BEGIN / WRITE / COMMIT: a model image streamed into the inactive flash slot. Sectors are
// erased just before the first write into them. The transfer survives a broken line (a new
// BEGIN with the same size and hash resumes at the bytes received) but not a reset.

import * as S from "../format/status";
import { flashErase, flashWrite, logEvent, EV_COMMIT, EV_COMMIT_FAILED } from "./abi";
import { txPayload } from "./frame";
import { slotBytes, sectorBytes, slotOffset, hashFlash, bytesEqual, writeRecord, HASH_BYTES, NAME_BYTES, VERSION_BYTES } from "./store";
import * as M from "./model";
import { mode } from "./stream";
import * as D from "./status";

export let xferActive = false;
export let xferSlot: u32 = 0;
export let xferBytes: u32 = 0;
export let xferReceived: u32 = 0;
let xferErasedTo: u32 = 0;
// Claimed by device_init (placeTransferBuffers): hash 32, name 32, version 16.
export let xferHash: usize = 0;
let xferName: usize = 0;
let xferVersion: usize = 0;
export const TRANSFER_BUFFER_BYTES: u32 = 80;

export function placeTransferBuffers(p: usize): void {
  xferHash = p;
  xferName = p + 32;
  xferVersion = p + 64;
}

/** Payload bytes of a response, with its status; set by every handler. */
export let replyStatus: u8 = D.DEV_OK;

function reply(status: u8, n: u32): u32 {
  replyStatus = status;
  return n;
}

function replyU32(status: u8, v: u32): u32 {
  store<u32>(txPayload, v);
  return reply(status, 4);
}

export function cancelTransfer(): void {
  xferActive = false;
  xferReceived = 0;
}

/** BEGIN: u32 image bytes, 32 sha256, 32 name, 16 version -> u32 bytes already received. */
export function cmdBegin(p: usize, n: u32): u32 {
  if (n != 4 + HASH_BYTES + NAME_BYTES + VERSION_BYTES) return reply(D.DEV_BAD_PAYLOAD, 0);
  const bytes = load<u32>(p);
  if (bytes == 0 || bytes > slotBytes) return replyU32(D.DEV_MODEL_TOO_BIG, slotBytes);
  const resume = xferActive && xferBytes == bytes && bytesEqual(xferHash, p + 4, HASH_BYTES);
  if (!resume) {
    xferActive = true;
    xferSlot = M.activeValid ? 1 - M.activeSlot : 0;
    xferBytes = bytes;
    xferReceived = 0;
    xferErasedTo = 0;
    memory.copy(xferHash, p + 4, HASH_BYTES);
  }
  memory.copy(xferName, p + 4 + HASH_BYTES, NAME_BYTES);
  memory.copy(xferVersion, p + 4 + HASH_BYTES + NAME_BYTES, VERSION_BYTES);
  return replyU32(D.DEV_OK, xferReceived);
}

/** WRITE: u32 offset, data -> u32 bytes received. Data already received is acknowledged, not rewritten. */
export function cmdWrite(p: usize, n: u32): u32 {
  if (!xferActive) return reply(D.DEV_NO_TRANSFER, 0);
  if (n < 5) return reply(D.DEV_BAD_PAYLOAD, 0);
  const offset = load<u32>(p), len = n - 4;
  if (<u64>offset + len > <u64>xferBytes || offset > xferReceived) return replyU32(D.DEV_BAD_OFFSET, xferReceived);
  const skip = xferReceived - offset;
  if (skip >= len) return replyU32(D.DEV_OK, xferReceived);
  const base = slotOffset(xferSlot);
  const end = offset + len;
  while (xferErasedTo < end) {
    if (flashErase(base + xferErasedTo, sectorBytes) != 0) return replyU32(D.DEV_FLASH_ERROR, xferReceived);
    xferErasedTo += sectorBytes;
  }
  if (flashWrite(base + xferReceived, p + 4 + skip, len - skip) != 0) return replyU32(D.DEV_FLASH_ERROR, xferReceived);
  xferReceived = end;
  return replyU32(D.DEV_OK, xferReceived);
}

/** COMMIT -> u32 generation, u32 model RAM bytes, u8 mode. The hash is checked before anything changes. */
export function cmdCommit(n: u32): u32 {
  if (n != 0) return reply(D.DEV_BAD_PAYLOAD, 0);
  if (!xferActive) return reply(D.DEV_NO_TRANSFER, 0);
  if (xferReceived != xferBytes) return replyU32(D.DEV_INCOMPLETE, xferReceived);
  const base = slotOffset(xferSlot);
  if (!hashFlash(base, xferBytes, M.digest)) return commitFailed(D.DEV_FLASH_ERROR, 0, -1);
  if (!bytesEqual(M.digest, xferHash, HASH_BYTES)) {
    cancelTransfer();
    memory.copy(txPayload, M.digest, HASH_BYTES);
    logEvent(EV_COMMIT_FAILED, D.DEV_HASH_MISMATCH, 0);
    return reply(D.DEV_HASH_MISMATCH, HASH_BYTES);
  }
  const st = M.activateSlot(xferSlot, xferBytes);
  if (st != S.OK) {
    const where = S.errWhere;
    cancelTransfer();
    restorePrevious();
    return commitFailed(M.activationStatus(st), st, where);
  }
  const index: u32 = M.activeRecord >= 0 ? 1 - <u32>M.activeRecord : (M.recordValid0 && !M.recordValid1 ? 1 : 0);
  const generation = M.maxGeneration() + 1;
  if (!writeRecord(index, generation, xferSlot, xferBytes, xferHash, xferName, xferVersion)) {
    cancelTransfer();
    restorePrevious();
    return commitFailed(D.DEV_FLASH_ERROR, 0, -1);
  }
  if (index == 0) M.recordValid0 = true;
  else M.recordValid1 = true;
  M.setActive(<i32>index, xferSlot, generation, xferBytes, xferHash, xferName, xferVersion);
  cancelTransfer();
  logEvent(EV_COMMIT, <i32>M.activeSlot, <i32>generation);
  store<u32>(txPayload, generation);
  store<u32>(txPayload + 4, M.activeRamBytes);
  store<u8>(txPayload + 8, mode);
  return reply(D.DEV_OK, 9);
}

function commitFailed(status: u8, detail: i32, where: i32): u32 {
  logEvent(EV_COMMIT_FAILED, status, detail);
  store<i32>(txPayload, detail);
  store<i32>(txPayload + 4, where);
  return reply(status, 8);
}

/** After a failed activation the previous model (still in its slot, still recorded) comes back. */
function restorePrevious(): void {
  if (M.activeValid && M.activateSlot(M.activeSlot, M.activeBytes) != S.OK) M.boot();
}
