// Payloads of the device protocol (docs/mcu-abi.md, "Commands"), the TypeScript side of
// assembly/device/commands.ts and transfer.ts. Statuses mirror assembly/device/status.ts.

import { EdgerunError } from "./errors.js";

export const DEVICE_STATUS = {
  DEV_OK: 0,
  DEV_BAD_COMMAND: 1,
  DEV_BAD_PAYLOAD: 2,
  DEV_SEQ_GAP: 3,
  DEV_NO_TRANSFER: 4,
  DEV_BAD_OFFSET: 5,
  DEV_MODEL_TOO_BIG: 6,
  DEV_HASH_MISMATCH: 7,
  DEV_FLASH_ERROR: 8,
  DEV_MODEL_REJECTED: 9,
  DEV_OUT_OF_MEMORY: 10,
  DEV_NO_MODEL: 11,
  DEV_BAD_INPUT: 12,
  DEV_INCOMPLETE: 13,
  DEV_DUPLICATE: 14,
} as const;
export type DeviceStatusName = keyof typeof DEVICE_STATUS;

export function deviceStatusName(code: number): DeviceStatusName | `DEV_STATUS_${number}` {
  for (const [k, v] of Object.entries(DEVICE_STATUS)) if (v === code) return k as DeviceStatusName;
  return `DEV_STATUS_${code}`;
}

export const PROTOCOL_VERSION = 1;
export const HELLO_BYTES = 196;
export const HASH_BYTES = 32;
export const NAME_BYTES = 32;
export const VERSION_BYTES = 16;
export const MODE_NAMES = ["resident", "streamed"] as const;

export interface DeviceModel {
  slot: number;
  mode: (typeof MODE_NAMES)[number];
  imageBytes: number;
  generation: number;
  sha256: string;
  name: string;
  version: string;
  ramBytes: number;
}

export interface DeviceInfo {
  protocolVersion: number;
  runtimeAbiVersion: number;
  deviceId: string;
  memoryCapBytes: number;
  /** RAM a model may use (arena, tables and, when resident, the image). */
  modelRamBytes: number;
  flashBytes: number;
  /** The largest model image a flash slot holds. */
  slotBytes: number;
  maxPayloadBytes: number;
  windowFrames: number;
  residentMaxBytes: number;
  model?: DeviceModel;
  transfer?: { receivedBytes: number; imageBytes: number; sha256: string };
  framesOk: number;
  framesBad: number;
  framesTooLong: number;
  inferences: number;
}

function cstr(b: Uint8Array): string {
  const end = b.indexOf(0);
  return Buffer.from(end < 0 ? b : b.subarray(0, end)).toString("utf8");
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

export function decodeHello(p: Uint8Array): DeviceInfo {
  if (p.length < HELLO_BYTES) throw new EdgerunError("SERIAL_BAD_REPLY", "HELLO reply too short", { expected: HELLO_BYTES, actual: p.length });
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const u32 = (o: number) => dv.getUint32(o, true);
  const info: DeviceInfo = {
    protocolVersion: u32(0),
    runtimeAbiVersion: u32(4),
    deviceId: dv.getBigUint64(8, true).toString(16).padStart(16, "0"),
    memoryCapBytes: u32(16),
    modelRamBytes: u32(20),
    flashBytes: u32(24),
    slotBytes: u32(28),
    maxPayloadBytes: u32(32),
    windowFrames: u32(36),
    residentMaxBytes: u32(40),
    framesOk: u32(176),
    framesBad: u32(180),
    framesTooLong: u32(184),
    inferences: u32(188),
  };
  if (p[44]) {
    info.model = {
      slot: p[45], mode: MODE_NAMES[p[46]] ?? "resident", imageBytes: u32(48), generation: u32(52),
      sha256: hex(p.subarray(56, 88)), name: cstr(p.subarray(88, 120)), version: cstr(p.subarray(120, 136)), ramBytes: u32(192),
    };
  }
  if (u32(140)) info.transfer = { receivedBytes: u32(136), imageBytes: u32(140), sha256: hex(p.subarray(144, 176)) };
  return info;
}

function fixedString(s: string, n: number, what: string): Uint8Array {
  const b = Buffer.from(s, "utf8");
  if (b.length > n - 1) throw new EdgerunError("FLASH_BAD_ARGUMENT", `the model ${what} "${s}" is longer than ${n - 1} bytes`, { expected: n - 1, actual: b.length });
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

export function encodeBegin(imageBytes: number, sha256: Uint8Array, name: string, version: string): Uint8Array {
  const p = new Uint8Array(4 + HASH_BYTES + NAME_BYTES + VERSION_BYTES);
  new DataView(p.buffer).setUint32(0, imageBytes, true);
  p.set(sha256, 4);
  p.set(fixedString(name, NAME_BYTES, "name"), 4 + HASH_BYTES);
  p.set(fixedString(version, VERSION_BYTES, "version"), 4 + HASH_BYTES + NAME_BYTES);
  return p;
}

export function encodeWrite(offset: number, data: Uint8Array): Uint8Array {
  const p = new Uint8Array(4 + data.length);
  new DataView(p.buffer).setUint32(0, offset, true);
  p.set(data, 4);
  return p;
}

export function u32At(p: Uint8Array, offset = 0): number {
  if (p.length < offset + 4) throw new EdgerunError("SERIAL_BAD_REPLY", "reply payload too short", { expected: offset + 4, actual: p.length });
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(offset, true);
}

export interface LatencyLog {
  inferences: number;
  latenciesUs: number[];
}

export function decodeLogs(p: Uint8Array): LatencyLog {
  const n = u32At(p, 4);
  if (p.length !== 8 + 4 * n) throw new EdgerunError("SERIAL_BAD_REPLY", "LOGS reply length does not match its count", { expected: 8 + 4 * n, actual: p.length });
  const latenciesUs: number[] = [];
  for (let i = 0; i < n; i++) latenciesUs.push(u32At(p, 8 + 4 * i));
  return { inferences: u32At(p, 0), latenciesUs };
}
