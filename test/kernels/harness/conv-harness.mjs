// Builds and drives test/kernels/harness/conv-harness.ts from JavaScript: compiles it with the
// asc API for the SIMD or the MVP configuration, lays out conv-family arguments in linear
// memory and runs the kernels. Shared by test/kernels/conv-family.test.ts and
// bench/kernels-conv.mjs so both exercise exactly the same setup.

import asc from "assemblyscript/asc";
import { readFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../../..");
export const FAMILY = { conv2d: 0, depthwise: 1, fc: 2 };

// Field order of the harness's *FieldOffset switches.
const CONV_FIELDS = ("input inH inW inC filter kH kW bias output outH outW outC strideH strideW dilH dilW " +
  "padTop padLeft inputOffset outputOffset mult shift multStride actMin actMax depthMultiplier residual add " +
  "scratch scratchBytes packed").split(" ");
const FC_FIELDS = ("input batches depth filter bias output outC inputOffset outputOffset mult shift multStride " +
  "actMin actMax scratch scratchBytes packed").split(" ");
const ADD_FIELDS = ("in1Offset in2Offset leftShift in1Mult in1Shift in2Mult in2Shift outMult outShift outOffset " +
  "actMin actMax").split(" ");

/** Compiles the harness; simd selects `--enable simd`, else the MVP configuration. Returns the .wasm path. */
export async function buildHarness(simd) {
  const outDir = path.join(repoRoot, "build/test");
  await mkdir(outDir, { recursive: true });
  const outFile = path.join(outDir, simd ? "conv-harness-simd.wasm" : "conv-harness-mvp.wasm");
  const args = [path.join(repoRoot, "test/kernels/harness/conv-harness.ts"), "--runtime", "stub", "-O3",
    "--noAssert", "--outFile", outFile, ...(simd ? ["--enable", "simd"] : [])];
  let log = "";
  const sink = { write: (s) => { log += String(s); return true; } };
  const { error } = await asc.main(args, { stdout: sink, stderr: sink });
  if (error) throw new Error(`asc failed for ${path.basename(outFile)}: ${error.message}\n${log}`);
  return outFile;
}

function fieldMap(fn, names) {
  const map = {};
  names.forEach((n, i) => { map[n] = fn(i); });
  if (fn(names.length) !== -1) throw new Error("harness field list out of date");
  return map;
}

/** Instantiates a compiled harness and returns a small driver around it. */
export async function loadHarness(wasmPath) {
  const bytes = await readFile(wasmPath);
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: { abort: (msg, file, line, col) => { throw new Error(`abort at ${line}:${col}`); } },
  });
  const x = instance.exports;
  const h = {
    x, bytes,
    simd: x.isSimdBuild() === 1,
    u8: () => new Uint8Array(x.memory.buffer),
    i8: () => new Int8Array(x.memory.buffer),
    dv: () => new DataView(x.memory.buffer),
    conv: fieldMap(x.convFieldOffset, CONV_FIELDS),
    fc: fieldMap(x.fcFieldOffset, FC_FIELDS),
    add: fieldMap(x.addFieldOffset, ADD_FIELDS),
  };
  h.variants = {};
  for (const [fam, id] of Object.entries(FAMILY)) {
    const list = [];
    for (let i = 0; i < x.variantCount(id); i++) {
      const p = x.variantName(id, i);
      const len = h.dv().getUint32(p - 4, true);
      const name = String.fromCharCode(...new Uint16Array(x.memory.buffer.slice(p, p + len)));
      list.push({ name, tier: x.variantTier(id, i), build: ["any", "mvp", "simd"][x.variantBuild(id, i)] });
    }
    h.variants[fam] = list;
  }
  return h;
}

export const GUARD = 24; // bytes of 0xA5 after every buffer, checked after each run

/** Allocates n bytes (+ guard) and copies data (Int8Array/Int32Array/Uint8Array) or leaves zeros. */
export function allocBytes(h, n, data) {
  const p = h.x.alloc(n + GUARD);
  const u8 = h.u8();
  u8.fill(0, p, p + n);
  if (data) u8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), p);
  u8.fill(0xa5, p + n, p + n + GUARD);
  return p;
}

export function guardIntact(h, p, n) {
  const u8 = h.u8();
  for (let i = 0; i < GUARD; i++) if (u8[p + n + i] !== 0xa5) return false;
  return true;
}

function setFields(h, ptr, map, obj) {
  const dv = h.dv();
  for (const [k, v] of Object.entries(obj)) {
    if (!(k in map)) throw new Error(`unknown field ${k}`);
    dv.setInt32(ptr + map[k], v | 0, true);
  }
}

/** TFLite output size and leading padding for SAME / VALID. */
export function outputGeometry(inSize, k, stride, dil, padding) {
  const eff = (k - 1) * dil + 1;
  if (padding === "valid") return { out: Math.floor((inSize - eff) / stride) + 1, pad: 0 };
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + eff - inSize, 0);
  return { out, pad: Math.floor(total / 2) };
}

/**
 * Lays out one case in memory (after a heap reset) and runs prepare. `c` is a plain object made
 * by the test's case generator: shapes, data arrays and quantization parameters.
 * Returns { args, output, outBytes, run(tier) -> Uint8Array copy of the output }.
 */
export function setupCase(h, family, c) {
  h.x.resetHeap();
  const x = h.x;
  const input = allocBytes(h, c.input.length, c.input);
  const filter = allocBytes(h, c.filter.length, c.filter);
  const bias = c.bias ? allocBytes(h, c.bias.byteLength, c.bias) : 0;
  const mult = allocBytes(h, c.mult.byteLength, c.mult);
  const shift = allocBytes(h, c.shift.byteLength, c.shift);
  const outBytes = c.outBytes;
  const output = allocBytes(h, outBytes);
  let residual = 0, addPtr = 0;
  if (c.residual) {
    residual = c.residualAliases ? output : allocBytes(h, outBytes, c.residual);
    addPtr = x.newAddParams();
    setFields(h, addPtr, h.add, c.addParams);
  }
  let args, scratch = 0, scratchBytes = 0;
  if (family === FAMILY.fc) {
    args = x.newFcArgs();
    setFields(h, args, h.fc, { input, batches: c.batches, depth: c.depth, filter, bias, output, outC: c.outC,
      inputOffset: c.inputOffset, outputOffset: c.outputOffset, mult, shift, multStride: c.multStride,
      actMin: c.actMin, actMax: c.actMax });
  } else {
    args = x.newConvArgs();
    setFields(h, args, h.conv, { input, inH: c.inH, inW: c.inW, inC: c.inC, filter, kH: c.kH, kW: c.kW, bias,
      output, outH: c.outH, outW: c.outW, outC: c.outC, strideH: c.strideH, strideW: c.strideW, dilH: c.dilH,
      dilW: c.dilW, padTop: c.padTop, padLeft: c.padLeft, inputOffset: c.inputOffset, outputOffset: c.outputOffset,
      mult, shift, multStride: c.multStride, actMin: c.actMin, actMax: c.actMax,
      depthMultiplier: c.depthMultiplier ?? 1, residual, add: addPtr });
  }
  scratchBytes = x.scratchBytes(family, args);
  if (scratchBytes > 0) {
    scratch = allocBytes(h, scratchBytes);
    setFields(h, args, family === FAMILY.fc ? h.fc : h.conv, { scratch, scratchBytes });
  }
  x.prepare(family, args);
  const initial = c.residual && c.residualAliases ? c.residual : c.outputFill;
  return {
    args, output, outBytes, scratchBytes,
    selected: (tier) => x.variantSelected(family, args, tier),
    /** Resets the output (residual when aliased) and runs one tier; returns a copy of the output. */
    run(tier) {
      h.u8().set(initial, output);
      x.run(family, args, tier);
      return h.u8().slice(output, output + outBytes);
    },
    guardsIntact: () => guardIntact(h, output, outBytes) && (scratch === 0 || guardIntact(h, scratch, scratchBytes)) &&
      guardIntact(h, input, c.input.length),
  };
}
