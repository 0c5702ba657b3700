import { describe, expect, it } from "vitest";
import { writeErm } from "../../../host/format/erm-writer.js";
import { readErm } from "../../../host/format/erm-reader.js";
import { HEADER_BYTES, LIMITS, SECTION, SectionName } from "../../../host/format/erm-types.js";
import { tinyModel } from "../../helpers/tiny-model.js";
import { patch, sectionSpan, tensorRecord, opRecord, fixCrc, tsCode } from "../../helpers/erm-patch.js";
import { RawRuntime } from "../../helpers/runtime-raw.js";
import { sparseHeader } from "../../../host/format/sparse-weights.js";
import { compileGraph } from "../../../firmware-tools/lib/compile/compile.js";
import { sparseLayerGraph } from "../../../firmware-tools/lib/bench/sparse-layer.js";
import { applyMask, magnitudeMask } from "../../../firmware-tools/lib/prune/mask.js";

const good = writeErm(tinyModel());

/** A pruned FC 24 -> 8 whose weights the compiler stores coded (kind 2), so mutations reach the range decoder. */
function codedSparseFile(): Uint8Array {
  const l = sparseLayerGraph({ kind: "fc", K: 24, N: 8, seed: 21 });
  applyMask(l.weights, magnitudeMask(l.weights, 0.7));
  const m = compileGraph(l.g, { sparse: "size" }).model;
  if (sparseHeader(m.tensors[m.ops[0].inputs[1]].data!).kind !== 2) throw new Error("the fuzz's sparse model is not coded");
  return writeErm(m);
}
const codedGood = codedSparseFile();


describe(".erm container", () => {
  it("round-trips every field", () => {
    const m = readErm(good);
    const src = tinyModel();
    expect(m.tensors.map((t) => t.shape)).toEqual(src.tensors.map((t) => t.shape));
    expect(m.tensors.map((t) => t.dtype)).toEqual(src.tensors.map((t) => t.dtype));
    expect(Array.from(m.tensors[1].data!)).toEqual(Array.from(src.tensors[1].data!));
    expect(Array.from(m.tensors[1].channelScales!)).toEqual(Array.from(src.tensors[1].channelScales!));
    expect(m.tensors[0].zeroPoint).toBe(3);
    expect(m.tensors[6].arenaOffset).toBe(0);
    expect(m.ops).toEqual(src.ops);
    expect(m.inputs).toEqual([0]);
    expect(m.outputs).toEqual([6]);
    expect(m.plan.arenaBytes).toBe(16);
    expect(m.meta).toMatchObject({ name: "tiny", version: "1.2.3", labels: ["a", "b", "c", "d"] });
    expect(Array.from(m.golden[0].input)).toEqual(Array(8).fill(5));
  });

  it("aligns sections and constant data to 16 bytes", () => {
    for (const s of ["TENS", "OPS", "IOIX", "PARM", "WGTS", "PLAN", "META", "GOLD"] as SectionName[]) {
      expect(sectionSpan(good, s).offset % 16).toBe(0);
    }
    const wgts = sectionSpan(good, "WGTS").offset;
    for (const t of readErm(good).tensors) if (t.data) expect((t.data.byteOffset - wgts) % 16).toBe(0);
  });

  it("loads and runs in both runtime builds", () => {
    for (const build of ["simd", "mvp"] as const) expect(new RawRuntime(build).load(good)).toBe("OK");
  });
});

// Each damaged file, the code the TypeScript reader gives, and the code the runtime gives.
// The runtime also checks op semantics (shapes), so some rows only it catches ("OK" for the reader).
const TENS = (f: Uint8Array) => tensorRecord(f, 0);
const damaged: [string, Uint8Array, string, string][] = [
  ["empty file", new Uint8Array(0), "ERM_TRUNCATED", "ERM_TRUNCATED"],
  ["header cut short", good.slice(0, 20), "ERM_TRUNCATED", "ERM_TRUNCATED"],
  ["bad magic", patch(good, (dv) => dv.setUint32(0, 0x12345678, true)), "ERM_BAD_MAGIC", "ERM_BAD_MAGIC"],
  ["future version", patch(good, (dv) => dv.setUint16(4, 3, true)), "ERM_BAD_VERSION", "ERM_BAD_VERSION"],
  ["version 1 (int32 shifts)", patch(good, (dv) => dv.setUint16(4, 1, true)), "ERM_BAD_VERSION", "ERM_BAD_VERSION"],
  ["one flipped weight bit", patch(good, (_dv, f) => (f[sectionSpan(good, "WGTS").offset + 3] ^= 0x10), false), "ERM_CHECKSUM", "ERM_CHECKSUM"],
  ["file size field above the file", patch(good, (dv) => dv.setUint32(8, good.length + 16, true)), "ERM_TRUNCATED", "ERM_TRUNCATED"],
  ["section count huge", patch(good, (dv) => dv.setUint32(12, 0xffffffff, true)), "ERM_LIMIT", "ERM_LIMIT"],
  ["section table past the end", patch(good, (dv) => { dv.setUint32(12, 60, true); dv.setUint32(8, 400, true); }).slice(0, 400), "ERM_TRUNCATED", "ERM_TRUNCATED"],
  ["section offset past the end", patch(good, (dv) => dv.setUint32(sectionSpan(good, "WGTS").entry + 4, 0x7ffffff0, true)), "ERM_BAD_SECTION", "ERM_BAD_SECTION"],
  ["section length past the end", patch(good, (dv) => dv.setUint32(sectionSpan(good, "TENS").entry + 8, 0xfffffff0, true)), "ERM_BAD_SECTION", "ERM_BAD_SECTION"],
  ["misaligned section", patch(good, (dv) => dv.setUint32(sectionSpan(good, "PARM").entry + 4, sectionSpan(good, "PARM").offset + 4, true)), "ERM_BAD_SECTION", "ERM_BAD_SECTION"],
  ["duplicate section", patch(good, (dv) => dv.setUint32(sectionSpan(good, "META").entry, dv.getUint32(sectionSpan(good, "GOLD").entry, true), true)), "ERM_BAD_SECTION", "ERM_BAD_SECTION"],
  ["weights section missing", patch(good, (dv) => dv.setUint32(sectionSpan(good, "WGTS").entry, 0x58585858, true)), "ERM_MISSING_SECTION", "ERM_MISSING_SECTION"],
  ["tensor count huge", patch(good, (dv) => dv.setUint32(sectionSpan(good, "TENS").offset, 0x7fffffff, true)), "ERM_LIMIT", "ERM_LIMIT"],
  ["tensor count past the section", patch(good, (dv) => dv.setUint32(sectionSpan(good, "TENS").offset, 5000, true)), "ERM_TRUNCATED", "ERM_TRUNCATED"],
  ["op count past the section", patch(good, (dv) => dv.setUint32(sectionSpan(good, "OPS").offset, 900, true)), "ERM_TRUNCATED", "ERM_TRUNCATED"],
  ["unknown dtype", patch(good, (dv) => dv.setUint8(TENS(good), 99)), "ERM_BAD_TENSOR", "ERM_BAD_TENSOR"],
  ["rank 9", patch(good, (dv) => dv.setUint8(TENS(good) + 1, 9)), "ERM_BAD_TENSOR", "ERM_BAD_TENSOR"],
  ["huge dimension", patch(good, (dv) => dv.setUint32(TENS(good) + 4, 0x7fffffff, true)), "ERM_LIMIT", "ERM_LIMIT"],
  ["dimensions overflow 32 bits", patch(good, (dv) => { dv.setUint32(TENS(good) + 4, 0x10000, true); dv.setUint32(TENS(good) + 8, 0x10000, true); }), "ERM_LIMIT", "ERM_LIMIT"],
  ["byte length not matching shape", patch(good, (dv) => dv.setUint32(TENS(good) + 32, 9, true)), "ERM_BAD_TENSOR", "ERM_BAD_TENSOR"],
  ["constant data past the weights", patch(good, (dv) => dv.setUint32(tensorRecord(good, 1) + 28, 0x100000, true)), "ERM_BAD_OFFSET", "ERM_BAD_OFFSET"],
  ["activation past the arena", patch(good, (dv) => dv.setUint32(tensorRecord(good, 5) + 28, 64, true)), "ERM_BAD_OFFSET", "ERM_BAD_OFFSET"],
  ["unknown opcode", patch(good, (dv) => dv.setUint16(opRecord(good, 1), 999, true)), "ERM_UNSUPPORTED_OP", "ERM_UNSUPPORTED_OP"],
  ["op input index out of range", patch(good, (dv) => dv.setInt32(sectionSpan(good, "IOIX").offset + 4, 77, true)), "ERM_BAD_OFFSET", "ERM_BAD_OFFSET"],
  ["op io past IOIX", patch(good, (dv) => dv.setUint32(opRecord(good, 1) + 4, 1000, true)), "ERM_BAD_OFFSET", "ERM_BAD_OFFSET"],
  ["op params past PARM", patch(good, (dv) => dv.setUint32(opRecord(good, 0) + 8, 1000, true)), "ERM_BAD_OFFSET", "ERM_BAD_OFFSET"],
  ["wrong param count", patch(good, (dv) => dv.setUint32(opRecord(good, 1) + 12, 2, true)), "ERM_BAD_PARAMS", "ERM_BAD_PARAMS"],
  ["wrong input count", patch(good, (dv) => dv.setUint8(opRecord(good, 0) + 2, 3)), "ERM_BAD_OP", "ERM_BAD_OP"],
  ["graph input index out of range", patch(good, (dv) => dv.setInt32(sectionSpan(good, "PLAN").offset + 12, 50, true)), "ERM_BAD_OFFSET", "ERM_BAD_OFFSET"],
  ["arena size huge", patch(good, (dv) => dv.setUint32(sectionSpan(good, "PLAN").offset, 0xfffffff0, true)), "ERM_LIMIT", "ERM_LIMIT"],
  ["metadata not JSON", patch(good, (_dv, f) => f.set([0x7b, 0x7b], sectionSpan(good, "META").offset)), "ERM_BAD_META", "OK"],
  ["golden vector past its section", patch(good, (dv) => dv.setUint32(sectionSpan(good, "GOLD").offset + 4, 4096, true)), "ERM_TRUNCATED", "OK"],
  ["FC output of the wrong size", patch(good, (dv) => dv.setUint32(tensorRecord(good, 5) + 8, 3, true) || dv.setUint32(tensorRecord(good, 5) + 32, 3, true)), "OK", "ERM_SHAPE_MISMATCH"],
  ["weights not constant", patch(good, (dv) => { dv.setUint8(tensorRecord(good, 1) + 2, 0); dv.setUint32(tensorRecord(good, 1) + 28, 16, true); dv.setUint32(sectionSpan(good, "PLAN").offset, 64, true); }), "OK", "ERM_BAD_TENSOR"],
  ["shift out of range", patch(good, (dv) => dv.setInt8(sectionSpan(good, "WGTS").offset + dv.getUint32(tensorRecord(good, 4) + 28, true), 40)), "OK", "ERM_BAD_PARAMS"],
  // The sparse twin takes one more parameter word (its run bits), so the op record is refused before its weights.
  ["sparse opcode on dense weights", patch(good, (dv) => dv.setUint16(opRecord(good, 0), 32, true)), "ERM_BAD_PARAMS", "ERM_BAD_PARAMS"],
  ["activation range inverted", patch(good, (dv) => dv.setInt32(sectionSpan(good, "PARM").offset + 4 + 8, 100, true) || dv.setInt32(sectionSpan(good, "PARM").offset + 4 + 12, 50, true)), "OK", "ERM_BAD_PARAMS"],
];

// Metadata big enough that the writer deflates it (the tiny model's stays plain META).
const bigMeta = () => ({ ...tinyModel().meta!, tensorNames: Array.from({ length: 64 }, (_, i) => `/net/block.${i >> 2}/conv.${i & 3}/Relu_output_0`) });
const zipped = writeErm({ ...tinyModel(), meta: bigMeta() });

describe("deflated metadata (METZ)", () => {
  const runtimes = { simd: new RawRuntime("simd"), mvp: new RawRuntime("mvp") };
  it("is written when smaller, reads back equal, and the runtime skips it", () => {
    const z = sectionSpan(zipped, "METZ");
    expect(() => sectionSpan(zipped, "META")).toThrow();
    expect(z.length).toBeLessThan(new TextEncoder().encode(JSON.stringify(bigMeta())).length / 2);
    expect(readErm(zipped).meta).toEqual(bigMeta());
    expect(runtimes.simd.load(zipped)).toBe("OK");
    expect(runtimes.mvp.load(zipped)).toBe("OK");
  });
  it("a damaged deflate stream is ERM_BAD_META", () => {
    const bad = patch(zipped, (_dv, f) => (f[sectionSpan(zipped, "METZ").offset] = 0xff)); // BTYPE 3: reserved
    expect(tsCode(bad)).toBe("ERM_BAD_META");
    expect(runtimes.mvp.load(bad)).toBe("OK");
  });
  it("META and METZ together are ERM_BAD_SECTION", () => {
    const both = patch(zipped, (dv) => dv.setUint32(sectionSpan(zipped, "GOLD").entry, SECTION.META, true));
    expect(tsCode(both)).toBe("ERM_BAD_SECTION");
  });
  it("metadata inflating past the limit is ERM_BAD_META (no deflate bomb)", () => {
    const bomb = writeErm({ ...tinyModel(), meta: { name: "bomb", version: "1.0.0", pad: " ".repeat(LIMITS.maxMetaBytes) } });
    expect(sectionSpan(bomb, "METZ").length).toBeLessThan(64 * 1024);
    expect(tsCode(bomb)).toBe("ERM_BAD_META");
  });
});

describe("damaged .erm files", () => {
  const runtimes = { simd: new RawRuntime("simd"), mvp: new RawRuntime("mvp") };
  it.each(damaged)("%s", (_name, bytes, tsExpected, rtExpected) => {
    expect(tsCode(bytes)).toBe(tsExpected);
    expect(runtimes.simd.load(bytes)).toBe(rtExpected);
    expect(runtimes.mvp.load(bytes)).toBe(rtExpected);
  });

  it("a cut at every section boundary is ERM_TRUNCATED in both readers", () => {
    const cuts = new Set<number>();
    for (const s of ["TENS", "OPS", "IOIX", "PARM", "WGTS", "PLAN", "META", "GOLD"] as SectionName[]) {
      const sp = sectionSpan(good, s);
      cuts.add(sp.offset);
      cuts.add(sp.offset + sp.length - 1);
    }
    cuts.add(HEADER_BYTES);
    for (const c of cuts) {
      const cut = good.slice(0, c);
      expect(tsCode(cut), `cut at ${c}`).toBe("ERM_TRUNCATED");
      expect(runtimes.mvp.load(cut), `cut at ${c}`).toBe("ERM_TRUNCATED");
    }
  });
});

/** xorshift32 for reproducible mutations. */
function rng(seed: number) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const f = src.slice();
  const kind = rand();
  if (kind < 0.1) return f.slice(0, Math.floor(rand() * f.length));
  const n = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rand() * f.length);
    if (rand() < 0.5) f[at] ^= 1 << Math.floor(rand() * 8);
    else f[at] = [0, 0xff, 0x7f, 0x80, 1][Math.floor(rand() * 5)];
  }
  return rand() < 0.9 ? fixCrc(f) : f; // most keep a valid CRC, to reach the structural checks
}

describe("mutation fuzzing (short run; npm run fuzz runs more)", () => {
  const count = Number(process.env.EDGERUN_FUZZ_COUNT ?? 100000);
  it(`${count} mutated files (a dense model, a coded sparse one): typed errors or a clean run, never a trap`, () => {
    const rand = rng(12345);
    const runtimes = [new RawRuntime("simd"), new RawRuntime("mvp")];
    const seen = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const f = mutate((i >> 1) & 1 ? codedGood : good, rand);
      const ts = tsCode(f);
      const rt = runtimes[i & 1].load(f);
      expect(rt.startsWith("INVOKE_")).toBe(false);
      seen.set(rt, (seen.get(rt) ?? 0) + 1);
      if (ts !== "OK") expect(ts).toMatch(/^ERM_/);
    }
    expect(seen.size).toBeGreaterThan(6); // the mutations reach many different checks
  });
});
