// A single-op model of one convolution layer with seeded random weights, for GMAC/s figures
// through the real interpreter (not a kernel harness).

import { DType, Opcode, TensorKind } from "../../../host/format/opcodes.js";
import { quantizeMultiplier, requantBytes } from "../../../host/format/quant-params.js";
import { Graph } from "../compile/graph.js";
import { compileGraph } from "../compile/compile.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { seededBytes } from "../model/golden.js";

export interface ConvLayerSpec { h: number; w: number; inC: number; outC: number; k: number; stride: number }

export function convLayerModel(s: ConvLayerSpec): { bytes: Uint8Array; macs: number } {
  const g = new Graph(`conv${s.k}x${s.k}_${s.h}x${s.w}x${s.inC}_${s.outC}`);
  const outH = Math.ceil(s.h / s.stride), outW = Math.ceil(s.w / s.stride);
  const x = g.addArena("input", DType.INT8, [1, s.h, s.w, s.inC]);
  g.tensors[x].scale = 0.05;
  g.tensors[x].zeroPoint = -3;
  const w = g.addConstant("filter", DType.INT8, [s.outC, s.k, s.k, s.inC], seededBytes(s.outC * s.k * s.k * s.inC, 7));
  const bias = g.addConstant("bias", DType.INT32, [s.outC], new Uint8Array(Int32Array.from({ length: s.outC }, (_, i) => (i * 97) % 2000 - 1000).buffer));
  const m = quantizeMultiplier(0.05 * 0.01 / 0.2);
  const q = requantBytes(new Array(s.outC).fill(m));
  const mult = g.addConstant("mult", DType.INT32, [s.outC], q.mult);
  const shift = g.addConstant("shift", DType.INT8, [s.outC], q.shift);
  const y = g.addArena("output", DType.INT8, [1, outH, outW, s.outC]);
  const pad = Math.floor(Math.max(0, (outH - 1) * s.stride + s.k - s.h) / 2);
  g.ops.push({ opcode: Opcode.CONV_2D, inputs: [x, w, bias, mult, shift], outputs: [y], params: [s.stride, s.stride, 1, 1, pad, pad, 3, 0, -128, 127, 1], scratch: -1, source: [0] });
  g.inputs = [x];
  g.outputs = [y];
  void TensorKind;
  const { model } = compileGraph(g);
  return { bytes: writeErm(model), macs: outH * outW * s.outC * s.k * s.k * s.inC };
}
