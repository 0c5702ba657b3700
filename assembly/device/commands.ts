// HELLO, RUN, LOGS and the command dispatch. Each handler writes its response payload at
// txPayload, sets replyStatus and returns the payload length.

import { RUNTIME_ABI_VERSION } from "../runtime";
import { view, graphInput, graphOutput } from "../format/reader";
import { dataOf, byteLength } from "../graph/tensors";
import * as S from "../format/status";
import { clockUs } from "./abi";
import { txPayload, framesOk, framesBad, framesTooLong, MAX_PAYLOAD_BYTES } from "./frame";
import { flashBytes, slotBytes } from "./store";
import * as M from "./model";
import { invokeActive, mode, STATUS_FLASH_READ } from "./stream";
import { cmdBegin, cmdWrite, cmdCommit, xferActive, xferReceived, xferBytes, xferHash, replyStatus } from "./transfer";
import * as D from "./status";

export const CMD_HELLO: u8 = 1;
export const CMD_BEGIN: u8 = 2;
export const CMD_WRITE: u8 = 3;
export const CMD_COMMIT: u8 = 4;
export const CMD_RUN: u8 = 5;
export const CMD_LOGS: u8 = 6;
export const CMD_RESET: u8 = 7;

export const PROTOCOL_VERSION: u32 = 1;
export const WINDOW_FRAMES: u32 = 8;
export const HELLO_BYTES: u32 = 196;
const LOG_ENTRIES: u32 = 128;

export let deviceId: i64 = 0;
let status: u8 = D.DEV_OK;
let latencyRing: usize = 0; // LOG_ENTRIES x u32, claimed by device_init
export const LOG_BUFFER_BYTES: u32 = LOG_ENTRIES * 4;

export function placeLogBuffer(p: usize): void {
  latencyRing = p;
}
let inferences: u32 = 0;

export function setDeviceId(id: i64): void {
  deviceId = id;
}

export function clearLog(): void {
  inferences = 0;
}

/** Runs a command; returns the response payload length, with the status in commandStatus(). */
export function dispatch(cmd: u8, p: usize, n: u32): u32 {
  status = D.DEV_OK;
  switch (cmd) {
    case CMD_HELLO: return hello();
    case CMD_BEGIN: { const r = cmdBegin(p, n); status = replyStatus; return r; }
    case CMD_WRITE: { const r = cmdWrite(p, n); status = replyStatus; return r; }
    case CMD_COMMIT: { const r = cmdCommit(n); status = replyStatus; return r; }
    case CMD_RUN: return run(p, n);
    case CMD_LOGS: return logs();
    case CMD_RESET: return 0;
    default: status = D.DEV_BAD_COMMAND; return 0;
  }
}

export function commandStatus(): u8 {
  return status;
}

function hello(): u32 {
  const o = txPayload;
  memory.fill(o, 0, HELLO_BYTES);
  store<u32>(o, PROTOCOL_VERSION);
  store<u32>(o + 4, RUNTIME_ABI_VERSION);
  store<i64>(o + 8, deviceId);
  store<u32>(o + 16, M.MEMORY_CAP_BYTES);
  store<u32>(o + 20, M.MEMORY_CAP_BYTES - M.idleTop);
  store<u32>(o + 24, flashBytes);
  store<u32>(o + 28, slotBytes);
  store<u32>(o + 32, MAX_PAYLOAD_BYTES);
  store<u32>(o + 36, WINDOW_FRAMES);
  store<u32>(o + 40, M.residentMaxBytes);
  if (M.activeValid) {
    store<u8>(o + 44, 1);
    store<u8>(o + 45, <u8>M.activeSlot);
    store<u8>(o + 46, mode);
    store<u32>(o + 48, M.activeBytes);
    store<u32>(o + 52, M.activeGeneration);
    memory.copy(o + 56, M.activeHash, 32);
    memory.copy(o + 88, M.activeName, 32);
    memory.copy(o + 120, M.activeVersion, 16);
    store<u32>(o + 192, M.activeRamBytes);
  }
  if (xferActive) {
    store<u32>(o + 136, xferReceived);
    store<u32>(o + 140, xferBytes);
    memory.copy(o + 144, xferHash, 32);
  }
  store<u32>(o + 176, framesOk);
  store<u32>(o + 180, framesBad);
  store<u32>(o + 184, framesTooLong);
  store<u32>(o + 188, inferences);
  return HELLO_BYTES;
}

/** RUN: the graph inputs concatenated -> u32 microseconds, the graph outputs concatenated. */
function run(p: usize, n: u32): u32 {
  if (!M.activeValid) { status = D.DEV_NO_MODEL; return 0; }
  let need: u32 = 0, out: u32 = 4;
  for (let i: u32 = 0; i < view.nInputs; i++) need += <u32>byteLength(graphInput(i));
  for (let i: u32 = 0; i < view.nOutputs; i++) out += <u32>byteLength(graphOutput(i));
  if (n != need) { status = D.DEV_BAD_INPUT; store<u32>(txPayload, need); return 4; }
  if (out > MAX_PAYLOAD_BYTES) { status = D.DEV_BAD_PAYLOAD; store<u32>(txPayload, out); return 4; }
  let at = p;
  for (let i: u32 = 0; i < view.nInputs; i++) {
    const t = graphInput(i), k = <u32>byteLength(t);
    memory.copy(dataOf(t), at, k);
    at += k;
  }
  const t0 = clockUs();
  const st = invokeActive();
  const us = clockUs() - t0;
  if (st != S.OK) {
    status = st == STATUS_FLASH_READ ? D.DEV_FLASH_ERROR : D.DEV_MODEL_REJECTED;
    store<i32>(txPayload, st);
    return 4;
  }
  const latency: u32 = us < 0 ? 0 : us > 0xffffffff ? 0xffffffff : <u32>us;
  store<u32>(latencyRing + (inferences % LOG_ENTRIES) * 4, latency);
  inferences++;
  store<u32>(txPayload, latency);
  at = txPayload + 4;
  for (let i: u32 = 0; i < view.nOutputs; i++) {
    const t = graphOutput(i), k = <u32>byteLength(t);
    memory.copy(at, dataOf(t), k);
    at += k;
  }
  return out;
}

/** LOGS -> u32 inferences since boot, u32 n, n x u32 latencies in microseconds (oldest first). */
function logs(): u32 {
  const n = min(inferences, LOG_ENTRIES);
  store<u32>(txPayload, inferences);
  store<u32>(txPayload + 4, n);
  for (let k: u32 = 0; k < n; k++) {
    const i = (inferences - n + k) % LOG_ENTRIES;
    store<u32>(txPayload + 8 + k * 4, load<u32>(latencyRing + i * 4));
  }
  return 8 + n * 4;
}
