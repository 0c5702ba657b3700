// Calibration data loaders: .npy (NumPy, little-endian f4/f8/u1/i1/i4/i8), CSV (one sample per
// row, an optional header), JSON Lines (one array, nested or flat, or {"input": [...]} per line)
// and raw little-endian float32 (.bin/.raw/.f32). Every sample must hold exactly `elements` values.

import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";

export interface LoadOptions {
  /** Values per sample (the model input's element count). */
  elements: number;
  /** CSV: drop this column (a label), e.g. 0 or -1 for the last. */
  dropColumn?: number;
  /** At most this many samples (default all). */
  limit?: number;
}

export function loadCalibration(path: string, opts: LoadOptions): Float32Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EdgerunError("DATA_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path });
  }
  const ext = extname(path).toLowerCase().replace(/\.gz$/, "");
  let flat: ArrayLike<number>[];
  if (ext === ".npy") flat = splitRows(parseNpy(bytes, path), opts.elements, path);
  else if (ext === ".csv") flat = parseCsv(bytes.toString("utf8"), opts.dropColumn);
  else if (ext === ".jsonl" || ext === ".ndjson") flat = parseJsonl(bytes.toString("utf8"), path);
  else if (ext === ".bin" || ext === ".raw" || ext === ".f32") flat = splitRows(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 4))), opts.elements, path);
  else throw new EdgerunError("DATA_UNKNOWN_FORMAT", `cannot tell the format of ${path} (.npy, .csv, .jsonl, .bin/.raw)`, { path });
  const samples = flat.slice(0, opts.limit ?? flat.length).map((r, k) => {
    if (r.length !== opts.elements) throw new EdgerunError("DATA_SHAPE_MISMATCH", `sample ${k} of ${path} has ${r.length} values; the model input needs ${opts.elements}`, { path, sample: k, expected: opts.elements, actual: r.length });
    return Float32Array.from(r);
  });
  if (samples.length === 0) throw new EdgerunError("DATA_EMPTY", `${path} holds no samples`, { path });
  return samples;
}

function splitRows(v: ArrayLike<number>, elements: number, path: string): ArrayLike<number>[] {
  if (v.length % elements !== 0) throw new EdgerunError("DATA_SHAPE_MISMATCH", `${path} holds ${v.length} values, not a multiple of the input's ${elements}`, { path, expected: elements, actual: v.length });
  const rows: Float32Array[] = [];
  for (let i = 0; i < v.length; i += elements) rows.push(Float32Array.from({ length: elements }, (_, k) => v[i + k]));
  return rows;
}

/** NumPy .npy v1-v3: magic, version, header length, a Python dict literal, then C-order data. */
export function parseNpy(b: Buffer, path = "data.npy"): Float64Array {
  if (b.length < 10 || b.readUInt8(0) !== 0x93 || b.toString("latin1", 1, 6) !== "NUMPY") throw new EdgerunError("DATA_FORMAT", `${path} is not a .npy file`, { path });
  const major = b.readUInt8(6);
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString("latin1", start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new EdgerunError("DATA_FORMAT", `${path} is Fortran-ordered; save it C-ordered`, { path });
  const data = b.subarray(start + hlen);
  const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const view: Record<string, () => ArrayLike<number>> = {
    "<f4": () => new Float32Array(buf, 0, buf.byteLength >> 2), "<f8": () => new Float64Array(buf, 0, buf.byteLength >> 3),
    "|u1": () => new Uint8Array(buf), "|i1": () => new Int8Array(buf), "<i4": () => new Int32Array(buf, 0, buf.byteLength >> 2),
    "<i8": () => Array.from(new BigInt64Array(buf, 0, buf.byteLength >> 3), Number),
  };
  const make = descr ? view[descr] : undefined;
  if (!make) throw new EdgerunError("DATA_FORMAT", `${path} has dtype ${descr}; use float32, float64, uint8, int8, int32 or int64`, { path, actual: descr });
  return Float64Array.from(make());
}

function parseCsv(text: string, dropColumn?: number): number[][] {
  const rows = text.split(/\r?\n/).filter((l) => l.trim()).map((l) => l.split(/[,;\t]/).map((c) => c.trim()));
  if (rows.length && rows[0].some((c) => c !== "" && Number.isNaN(Number(c)))) rows.shift(); // header
  return rows.map((r, k) => {
    if (dropColumn !== undefined) r.splice(dropColumn < 0 ? r.length + dropColumn : dropColumn, 1);
    return r.map((c, j) => {
      const v = Number(c);
      if (c === "" || Number.isNaN(v)) throw new EdgerunError("DATA_FORMAT", `CSV row ${k + 1} column ${j + 1} is not a number: ${JSON.stringify(c)}`, { row: k + 1, column: j + 1 });
      return v;
    });
  });
}

function parseJsonl(text: string, path: string): number[][] {
  return text.split(/\r?\n/).filter((l) => l.trim()).map((l, k) => {
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch {
      throw new EdgerunError("DATA_FORMAT", `${path} line ${k + 1} is not JSON`, { path, line: k + 1 });
    }
    const arr = Array.isArray(v) ? v : (v as { input?: unknown })?.input;
    if (!Array.isArray(arr)) throw new EdgerunError("DATA_FORMAT", `${path} line ${k + 1} is neither an array nor {"input": [...]}`, { path, line: k + 1 });
    return (arr.flat(Infinity) as unknown[]).map(Number);
  });
}
