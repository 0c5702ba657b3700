// A minimal read-only view of a .tflite flatbuffer, enough for the elementwise-family tests
// to replay single ops of the MLPerf Tiny models against TFLite Micro's per-layer goldens:
// operator codes, tensors (shape, scale, zero point), operators (inputs, outputs, options).
// Field ids follow TFLite's schema.fbs; no validation beyond what the tests need.

export const BuiltinOp = { ADD: 0, AVERAGE_POOL_2D: 1, MAX_POOL_2D: 17, SOFTMAX: 25, MEAN: 40 } as const;

export interface TfTensor { shape: number[]; scale: number; zeroPoint: number }
export interface TfOperator { code: number; inputs: number[]; outputs: number[]; options: number | null }

export class TfliteView {
  private readonly v: DataView;
  readonly tensors: TfTensor[];
  readonly operators: TfOperator[];
  readonly inputs: number[];

  constructor(bytes: Uint8Array) {
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const model = this.v.getUint32(0, true);
    const codes = this.tables(model, 1).map((c) => {
      const deprecated = this.scalar(c, 0, 1, true);
      const code = this.scalar(c, 3, 4, true);
      return Math.max(deprecated, code); // builtin_code supersedes the deprecated byte past 127
    });
    const subgraph = this.tables(model, 2)[0];
    this.tensors = this.tables(subgraph, 0).map((t) => {
      const q = this.table(t, 4);
      const scales = q === null ? [] : this.floats(q, 2);
      const zps = q === null ? [] : this.longs(q, 3);
      return { shape: this.ints(t, 0), scale: scales[0] ?? 0, zeroPoint: zps[0] ?? 0 };
    });
    this.inputs = this.ints(subgraph, 1);
    this.operators = this.tables(subgraph, 3).map((o) => ({
      code: codes[this.scalar(o, 0, 4, false)],
      inputs: this.ints(o, 1),
      outputs: this.ints(o, 2),
      options: this.table(o, 4),
    }));
  }

  private field(table: number, id: number): number {
    const vt = table - this.v.getInt32(table, true);
    const vtSize = this.v.getUint16(vt, true);
    const at = 4 + 2 * id;
    return at < vtSize ? this.v.getUint16(vt + at, true) : 0;
  }

  /** Integer field of `bytes` width (1 or 4), 0 when absent. */
  scalar(table: number, id: number, bytes: 1 | 4, signed: boolean): number {
    const off = this.field(table, id);
    if (off === 0) return 0;
    if (bytes === 1) return signed ? this.v.getInt8(table + off) : this.v.getUint8(table + off);
    return signed ? this.v.getInt32(table + off, true) : this.v.getUint32(table + off, true);
  }

  float(table: number, id: number, dflt: number): number {
    const off = this.field(table, id);
    return off === 0 ? dflt : this.v.getFloat32(table + off, true);
  }

  table(table: number, id: number): number | null {
    const off = this.field(table, id);
    return off === 0 ? null : table + off + this.v.getUint32(table + off, true);
  }

  private vector(table: number, id: number): { start: number; length: number } | null {
    const at = this.table(table, id);
    return at === null ? null : { start: at + 4, length: this.v.getUint32(at, true) };
  }

  private tables(table: number, id: number): number[] {
    const vec = this.vector(table, id);
    if (vec === null) return [];
    return Array.from({ length: vec.length }, (_, i) => {
      const p = vec.start + 4 * i;
      return p + this.v.getUint32(p, true);
    });
  }

  private ints(table: number, id: number): number[] {
    const vec = this.vector(table, id);
    return vec === null ? [] : Array.from({ length: vec.length }, (_, i) => this.v.getInt32(vec.start + 4 * i, true));
  }

  private floats(table: number, id: number): number[] {
    const vec = this.vector(table, id);
    return vec === null ? [] : Array.from({ length: vec.length }, (_, i) => this.v.getFloat32(vec.start + 4 * i, true));
  }

  private longs(table: number, id: number): number[] {
    const vec = this.vector(table, id);
    return vec === null ? [] : Array.from({ length: vec.length }, (_, i) => Number(this.v.getBigInt64(vec.start + 8 * i, true)));
  }
}
