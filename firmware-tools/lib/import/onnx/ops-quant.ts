// Pre-quantized ONNX operators (QDQ and QOperator forms) -> float-graph nodes that carry the
// model's own quantization (FixedQuant). Quantized constants are dequantized to floats but keep
// their integer values (centered on the zero point), so lowering reproduces them exactly.
// uint8 is converted to int8 by moving the zero point down by 128: (q - zp) is unchanged, so the
// real values and every integer product stay the same.

import { FixedQuant, numel } from "./float-graph.js";
import { addFloatConst, constValues, Ctx, emit, fail, input, output, shapeOf, Translator } from "./import.js";
import { ODT, attrInt } from "./proto.js";
import { binaryNode, convNode, need, weightsNK } from "./ops-float.js";

interface QParams { scale: number[]; zp: number[]; sourceType: "int8" | "uint8" | "int32" }

/** Scale and zero point inputs of a Q/DQ/QLinear op; zero points shifted to int8. */
function qparams(ctx: Ctx, scaleIn: string | undefined, zpIn: string | undefined, dflt: "int8" | "uint8" = "uint8"): QParams {
  const scale = constValues(ctx, scaleIn, "scale").map(Math.fround);
  if (scale.some((s) => !(s > 0) || !Number.isFinite(s))) fail(ctx, "scales must be positive and finite", { actual: scale });
  let type: number = dflt === "uint8" ? ODT.UINT8 : ODT.INT8;
  let zp = scale.map(() => 0);
  if (zpIn) {
    zp = constValues(ctx, zpIn, "zero point");
    type = ctx.dtypes.get(zpIn) ?? type;
  }
  if (type === ODT.INT32) return { scale, zp, sourceType: "int32" };
  if (type !== ODT.UINT8 && type !== ODT.INT8) fail(ctx, `zero point type ${type} is not supported (uint8, int8)`);
  const u8 = type === ODT.UINT8;
  return { scale, zp: zp.map((z) => (u8 ? z - 128 : z)), sourceType: u8 ? "uint8" : "int8" };
}

function sameQuant(a: FixedQuant, b: QParams): boolean {
  return a.scale.length === b.scale.length && a.scale.every((s, i) => s === b.scale[i] && a.zeroPoint[i] === b.zp[i]);
}

/** Gives an activation its quantization, or checks it against what it already has. */
function setActQuant(ctx: Ctx, name: string, q: QParams): void {
  if (q.scale.length !== 1) fail(ctx, "per-axis quantization of activations is not supported");
  const t = ctx.g.tensor(name);
  if (t.quant && !sameQuant(t.quant, q)) fail(ctx, `tensor ${name} is quantized twice with different parameters`, { expected: t.quant.scale, actual: q.scale });
  t.quant ??= { scale: q.scale, zeroPoint: q.zp, sourceType: q.sourceType };
}

/** A quantized constant -> float constant keeping (q - zp) per element along `axis`. */
function dequantConst(ctx: Ctx, name: string, q: QParams, axis: number, outName: string): string {
  const rawValues = ctx.raw.get(name)?.values ?? Array.from(ctx.g.tensor(name).data!);
  const shape = shapeOf(ctx, name);
  const dtype = ctx.dtypes.get(name);
  const shift = dtype === ODT.UINT8 ? 128 : 0;
  const inner = numel(shape.slice(axis + 1)), n = shape[axis] ?? 1;
  const ch = (i: number) => (q.scale.length === 1 ? 0 : Math.floor(i / inner) % n);
  const ints = Int32Array.from(rawValues, (v, i) => v - shift - q.zp[ch(i)]);
  const data = Float32Array.from(ints, (v, i) => Math.fround(v * q.scale[ch(i)]));
  return addFloatConst(ctx, outName, shape, data, { scale: q.scale, zeroPoint: q.zp, axis: q.scale.length > 1 ? axis : undefined, ints, sourceType: q.sourceType });
}

const quantizeLinear: Translator = (ctx) => {
  const x = need(ctx, 0, "x");
  const q = qparams(ctx, input(ctx, 1), input(ctx, 2));
  if (q.scale.length !== 1) fail(ctx, "per-axis QuantizeLinear of activations is not supported");
  emit(ctx, { kind: "requant", inputs: [x], output: output(ctx) }, shapeOf(ctx, x).slice(), { scale: q.scale, zeroPoint: q.zp, sourceType: q.sourceType });
};

const dequantizeLinear: Translator = (ctx) => {
  const x = need(ctx, 0, "x");
  const xType = ctx.dtypes.get(x);
  const q = qparams(ctx, input(ctx, 1), input(ctx, 2), xType === ODT.INT8 ? "int8" : "uint8");
  if (xType === ODT.INT32) q.sourceType = "int32";
  let axis = attrInt(ctx.node, "axis", 1);
  if (axis < 0) axis += shapeOf(ctx, x).length;
  if (ctx.g.isConstant(x)) {
    const name = dequantConst(ctx, x, q, axis, output(ctx));
    ctx.g.tensor(name).quant!.sourceType = xType === ODT.INT32 ? "int32" : q.sourceType;
    return;
  }
  setActQuant(ctx, x, q);
  // The dequantized value is the same real value: a copy that cleanup removes.
  emit(ctx, { kind: "reshape", inputs: [x], output: output(ctx) }, shapeOf(ctx, x).slice());
};

/** Operand k of a QLinear op: quantizes an activation's metadata, or dequantizes a constant. */
function operand(ctx: Ctx, k: number, q: QParams, axis = 0): string {
  const x = need(ctx, k, `input ${k}`);
  if (ctx.g.isConstant(x)) return dequantConst(ctx, x, q, axis, `${output(ctx)}/in${k}`);
  setActQuant(ctx, x, q);
  return x;
}

function biasConst(ctx: Ctx, b: string | undefined, xs: number, ws: number[], channels: number): string | undefined {
  if (!b) return undefined;
  const v = constValues(ctx, b, "bias");
  if (v.length !== channels) fail(ctx, "bias length does not match the output channels", { expected: channels, actual: v.length });
  const scale = Array.from({ length: channels }, (_, c) => Math.fround(xs * ws[ws.length === 1 ? 0 : c]));
  return addFloatConst(ctx, `${output(ctx)}/bias`, [channels], Float32Array.from(v, (x, c) => x * scale[c]), { scale, zeroPoint: scale.map(() => 0), axis: 0, ints: Int32Array.from(v), sourceType: "int32" });
}

const qlinearConv: Translator = (ctx) => {
  const xq = qparams(ctx, input(ctx, 1), input(ctx, 2));
  const x = operand(ctx, 0, xq);
  const wq = qparams(ctx, input(ctx, 4), input(ctx, 5));
  const w = operand(ctx, 3, wq, 0);
  const yq = qparams(ctx, input(ctx, 6), input(ctx, 7));
  const b = biasConst(ctx, input(ctx, 8), xq.scale[0], wq.scale, shapeOf(ctx, w)[0]);
  convNode(ctx, x, w, b, { scale: yq.scale, zeroPoint: yq.zp, sourceType: yq.sourceType });
};

const qlinearMatMul: Translator = (ctx) => {
  const aq = qparams(ctx, input(ctx, 1), input(ctx, 2));
  const a = operand(ctx, 0, aq);
  const bName = need(ctx, 3, "b");
  if (!ctx.g.isConstant(bName)) fail(ctx, "b must be constant (a matrix of weights)");
  const bq = qparams(ctx, input(ctx, 4), input(ctx, 5));
  const yq = qparams(ctx, input(ctx, 6), input(ctx, 7));
  fcFromMatrix(ctx, a, bName, bq, { scale: yq.scale, zeroPoint: yq.zp, sourceType: yq.sourceType });
};

/** [K, N] quantized constant matrix -> fc node with [N, K] weights quantized per output column. */
function fcFromMatrix(ctx: Ctx, a: string, bName: string, bq: QParams, yQuant: FixedQuant | undefined): void {
  const as = shapeOf(ctx, a), bs = shapeOf(ctx, bName);
  if (bs.length !== 2 || as[as.length - 1] !== bs[0]) fail(ctx, "only [..., K] x [K, N] with a 2-D constant b is supported", { actual: [as, bs] });
  const [K, N] = bs;
  const deq = ctx.g.tensor(dequantConst(ctx, bName, bq, 1, `${output(ctx)}/b_deq`));
  const ints = deq.quant!.ints!;
  const wInts = new Int32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wInts[n * K + k] = ints[k * N + n];
  const w = addFloatConst(ctx, `${output(ctx)}/weights`, [N, K], weightsNK(deq.data!, K, N, false, 1), { ...deq.quant!, axis: bq.scale.length > 1 ? 0 : undefined, ints: wInts });
  emit(ctx, { kind: "fc", inputs: [a, w], output: output(ctx) }, [...as.slice(0, -1), N], yQuant);
}

const qlinearAdd: Translator = (ctx) => {
  const a = operand(ctx, 0, qparams(ctx, input(ctx, 1), input(ctx, 2)));
  const b = operand(ctx, 3, qparams(ctx, input(ctx, 4), input(ctx, 5)));
  const yq = qparams(ctx, input(ctx, 6), input(ctx, 7));
  binaryNode(ctx, "add", a, b, { scale: yq.scale, zeroPoint: yq.zp, sourceType: yq.sourceType });
};

/** Integer ops: scale 1, so the float graph computes the exact int32 sums; the output needs calibration. */
const matMulInteger: Translator = (ctx) => {
  const a = operand(ctx, 0, { scale: [1], ...zpOf(ctx, 2) });
  const bq = { scale: [1], ...zpOf(ctx, 3) };
  if (bq.zp.length > 1) bq.scale = bq.zp.map(() => 1);
  fcFromMatrix(ctx, a, need(ctx, 1, "B"), bq, undefined);
};

const convInteger: Translator = (ctx) => {
  const x = operand(ctx, 0, { scale: [1], ...zpOf(ctx, 2) });
  const wz = zpOf(ctx, 3);
  const w = operand(ctx, 1, { scale: wz.zp.map(() => 1), ...wz }, 0);
  convNode(ctx, x, w, undefined);
};

function zpOf(ctx: Ctx, k: number): { zp: number[]; sourceType: "int8" | "uint8" } {
  const z = input(ctx, k);
  const data = input(ctx, k === 2 ? 0 : 1)!;
  const type = z ? ctx.dtypes.get(z) : ctx.dtypes.get(data);
  const u8 = type !== ODT.INT8;
  const zp = z ? constValues(ctx, z, "zero point") : [0];
  return { zp: zp.map((v) => (u8 ? v - 128 : v)), sourceType: u8 ? "uint8" : "int8" };
}

export const QUANT_OPS: Record<string, Translator> = {
  QuantizeLinear: quantizeLinear, DequantizeLinear: dequantizeLinear,
  QLinearConv: qlinearConv, QLinearMatMul: qlinearMatMul, QLinearAdd: qlinearAdd,
  MatMulInteger: matMulInteger, ConvInteger: convInteger,
};
