// Helpers to damage .erm files on purpose: locate sections and fields, patch, fix the CRC.

import { crc32 } from "../../host/format/crc32.js";
import { readErm } from "../../host/format/erm-reader.js";
import { EdgerunError } from "../../host/format/errors.js";
import { HEADER_BYTES, SECTION, SECTION_ENTRY_BYTES, SectionName, TENSOR_RECORD_BYTES, OP_RECORD_BYTES } from "../../host/format/erm-types.js";

export function sectionSpan(file: Uint8Array, name: SectionName): { entry: number; offset: number; length: number } {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = dv.getUint32(12, true);
  for (let i = 0; i < n; i++) {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    if (dv.getUint32(e, true) === SECTION[name]) return { entry: e, offset: dv.getUint32(e + 4, true), length: dv.getUint32(e + 8, true) };
  }
  throw new Error(`no section ${name}`);
}

export function fixCrc(file: Uint8Array): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  dv.setUint32(16, crc32(file, HEADER_BYTES, Math.min(file.length, dv.getUint32(8, true))), true);
  return file;
}

export function patch(file: Uint8Array, fn: (dv: DataView, f: Uint8Array) => void, fix = true): Uint8Array {
  const copy = file.slice();
  fn(new DataView(copy.buffer), copy);
  return fix ? fixCrc(copy) : copy;
}

export function tensorRecord(file: Uint8Array, t: number): number {
  return sectionSpan(file, "TENS").offset + 4 + t * TENSOR_RECORD_BYTES;
}

export function opRecord(file: Uint8Array, op: number): number {
  return sectionSpan(file, "OPS").offset + 4 + op * OP_RECORD_BYTES;
}

/** The TypeScript reader's verdict on a file: "OK" or the EdgerunError code (anything else is rethrown). */
export function tsCode(bytes: Uint8Array, skipChecksum = false): string {
  try {
    readErm(bytes, { skipChecksum });
    return "OK";
  } catch (e) {
    if (e instanceof EdgerunError) return e.code;
    throw e;
  }
}
