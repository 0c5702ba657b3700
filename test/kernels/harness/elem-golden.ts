// Replays one op of a .tflite model through the harness on TFLite Micro's per-layer goldens
// (<case>/input.bin and <case>/layers/opNN.bin): inputs are the producing layers' outputs,
// constants come from host/format/quant-params.ts. Used by elementwise-family.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { activationRange, addParams, FusedActivation, softmaxParams } from "../../../host/format/quant-params.js";
import { addParamFields, ElemHarness } from "./elem-loader.js";
import { BuiltinOp, TfliteView } from "./elem-tflite.js";

/** TFLite ActivationFunctionType by value (TANH and SIGN_BIT are not fused into these ops). */
const activations: FusedActivation[] = ["none", "relu", "relu_n1_to_1", "relu6"];

export function goldenTensor(dir: string, model: TfliteView, tensor: number): Int8Array {
  const producer = model.operators.findIndex((o) => o.outputs.includes(tensor));
  const file = producer < 0 ? join(dir, "input.bin") : join(dir, "layers", `op${String(producer).padStart(2, "0")}.bin`);
  return new Int8Array(readFileSync(file));
}

export const dims4 = (shape: number[]): number[] => [...Array(4 - shape.length).fill(1), ...shape];

export function replayOp(h: ElemHarness, model: TfliteView, k: number, dir: string, tier: number): Int8Array | null {
  const op = model.operators[k];
  const y = model.tensors[op.outputs[0]];
  const yd = dims4(y.shape);
  const count = yd.reduce((a, b) => a * b, 1);
  const out = h.alloc(count);
  if (op.code === BuiltinOp.AVERAGE_POOL_2D || op.code === BuiltinOp.MAX_POOL_2D) {
    const xd = dims4(model.tensors[op.inputs[0]].shape);
    const o = op.options!;
    const [sW, sH, fW, fH] = [model.scalar(o, 1, 4, true), model.scalar(o, 2, 4, true), model.scalar(o, 3, 4, true), model.scalar(o, 4, 4, true)];
    const act = activationRange(activations[model.scalar(o, 5, 1, true)], y.scale, y.zeroPoint);
    // TFLM ComputePadding: ((out - 1) * stride + filter - in) / 2, at least 0 (SAME and VALID alike)
    const padT = Math.max(0, Math.trunc(((yd[1] - 1) * sH + fH - xd[1]) / 2));
    const padL = Math.max(0, Math.trunc(((yd[2] - 1) * sW + fW - xd[2]) / 2));
    const x = h.putI8(goldenTensor(dir, model, op.inputs[0]));
    const opId = op.code === BuiltinOp.AVERAGE_POOL_2D ? 0 : 1;
    h.x.dispatchPool(opId, tier, h.block([x, xd[1], xd[2], xd[3], out, yd[1], yd[2], sH, sW, fH, fW, padT, padL, act.actMin, act.actMax]));
  } else if (op.code === BuiltinOp.ADD) {
    const [a, b] = op.inputs.map((t) => model.tensors[t]);
    const act = activationRange(activations[op.options === null ? 0 : model.scalar(op.options, 0, 1, true)], y.scale, y.zeroPoint);
    const p = addParams(a.scale, a.zeroPoint, b.scale, b.zeroPoint, y.scale, y.zeroPoint, act.actMin, act.actMax);
    const strides = (shape: number[]): number[] => {
      const d = dims4(shape);
      const dense = [d[1] * d[2] * d[3], d[2] * d[3], d[3], 1];
      return dense.map((s, i) => (d[i] === 1 && yd[i] > 1 ? 0 : s));
    };
    const same = a.shape.join() === b.shape.join();
    const in1 = h.putI8(goldenTensor(dir, model, op.inputs[0])), in2 = h.putI8(goldenTensor(dir, model, op.inputs[1]));
    h.x.dispatchAdd(tier, h.block([in1, in2, out, count, same ? 0 : 1, ...yd, ...strides(a.shape), ...strides(b.shape), ...addParamFields(p)]));
  } else if (op.code === BuiltinOp.SOFTMAX) {
    const x = model.tensors[op.inputs[0]];
    const s = softmaxParams(model.float(op.options!, 0, 0), x.scale);
    const depth = yd[3];
    h.x.dispatchSoftmax(tier, h.block([h.putI8(goldenTensor(dir, model, op.inputs[0])), out, count / depth, depth, s.inputMult, s.inputLeftShift, s.diffMin]));
  } else {
    return null;
  }
  return h.readI8(out, count);
}
