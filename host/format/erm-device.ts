// Device image: the same container with only the sections the runtime reads (TENS, OPS, IOIX,
// PARM, WGTS, PLAN), so metadata, golden vectors and per-channel scales cost no device RAM.
// Used when a model is copied into the runtime's memory and when it is flashed to a device.

import { crc32 } from "./crc32.js";
import { HEADER_BYTES, SECTION, SECTION_ENTRY_BYTES, alignUp } from "./erm-types.js";

export const DEVICE_SECTIONS: readonly number[] = [SECTION.TENS, SECTION.OPS, SECTION.IOIX, SECTION.PARM, SECTION.WGTS, SECTION.PLAN];

/**
 * Returns the device image of an .erm. A file whose header or section table cannot be read is
 * returned unchanged, so that the runtime's own checks report what is wrong with it.
 */
export function deviceImage(file: Uint8Array): Uint8Array {
  if (file.length < HEADER_BYTES) return file;
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const count = dv.getUint32(12, true);
  const fileBytes = dv.getUint32(8, true);
  if (count > 64 || HEADER_BYTES + count * SECTION_ENTRY_BYTES > file.length || fileBytes > file.length) return file;
  const keep: { id: number; offset: number; length: number }[] = [];
  for (let i = 0; i < count; i++) {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    const id = dv.getUint32(e, true), offset = dv.getUint32(e + 4, true), length = dv.getUint32(e + 8, true);
    if (offset + length > fileBytes) return file;
    if (DEVICE_SECTIONS.includes(id)) keep.push({ id, offset, length });
  }
  if (keep.length === count) return file;
  let cursor = alignUp(HEADER_BYTES + keep.length * SECTION_ENTRY_BYTES);
  const placed = keep.map((s) => {
    const at = cursor;
    cursor = alignUp(at + s.length);
    return { ...s, at };
  });
  const out = new Uint8Array(cursor);
  const ov = new DataView(out.buffer);
  out.set(file.subarray(0, HEADER_BYTES));
  ov.setUint32(8, out.length, true);
  ov.setUint32(12, placed.length, true);
  placed.forEach((s, i) => {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    ov.setUint32(e, s.id, true);
    ov.setUint32(e + 4, s.at, true);
    ov.setUint32(e + 8, s.length, true);
    out.set(file.subarray(s.offset, s.offset + s.length), s.at);
  });
  ov.setUint32(16, crc32(out, HEADER_BYTES), true);
  return out;
}
