// Loads one ONNX backend node test case (libonnx-testdata layout): model.onnx plus
// test_data_set_N/{input_i,output_i}.pb. Weight-like inputs (anything but the data operands)
// are bound as constants, because edgerun compiles weights into the model file.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeModel, decodeTensor, ModelProto, TensorProto, tensorDims, tensorValues } from "../../firmware-tools/lib/import/onnx/proto.js";

export const NODE_DIR = process.env.ONNX_NODE_DIR ?? "/usr/share/libonnx-testdata/data/node";

export interface CaseData { inputs: TensorProto[]; outputs: TensorProto[] }
export interface OnnxCase { name: string; model: ModelProto; sets: CaseData[]; dataInputs: string[]; bind: Record<string, TensorProto> }

/** Ops whose every input is data (the others take weights, scales, shapes after input 0). */
const ALL_DATA = new Set(["Add", "Mul", "Concat", "QLinearAdd"]);
/** Operand positions that are data for the quantized binary ops. */
const DATA_POS: Record<string, number[]> = { QLinearAdd: [0, 3], QLinearMatMul: [0], MatMulInteger: [0] };

export function loadCase(name: string): OnnxCase {
  const dir = join(NODE_DIR, name);
  const model = decodeModel(readFileSync(join(dir, "model.onnx")));
  const sets: CaseData[] = readdirSync(dir).filter((d) => d.startsWith("test_data_set_")).sort().map((d) => {
    const read = (prefix: string) => {
      const out: TensorProto[] = [];
      for (let i = 0; existsSync(join(dir, d, `${prefix}_${i}.pb`)); i++) out.push(decodeTensor(readFileSync(join(dir, d, `${prefix}_${i}.pb`))));
      return out;
    };
    return { inputs: read("input"), outputs: read("output") };
  });
  const graphInputs = (model.graph?.input ?? []).map((v) => v.name ?? "").filter((n) => !(model.graph?.initializer ?? []).some((t) => t.name === n));
  const data = new Set<string>();
  for (const node of model.graph?.node ?? []) {
    (node.input ?? []).forEach((inp, k) => {
      const op = node.opType ?? "";
      const isData = DATA_POS[op] ? DATA_POS[op].includes(k) : ALL_DATA.has(op) || k === 0;
      if (isData && graphInputs.includes(inp)) data.add(inp);
    });
  }
  const dataInputs = graphInputs.filter((n) => data.has(n));
  const bind: Record<string, TensorProto> = {};
  graphInputs.forEach((n, i) => { if (!data.has(n)) bind[n] = sets[0].inputs[i]; });
  return { name, model, sets, dataInputs, bind };
}

export function inputOf(c: OnnxCase, set: CaseData, name: string): TensorProto {
  const graphInputs = (c.model.graph?.input ?? []).map((v) => v.name ?? "").filter((n) => !(c.model.graph?.initializer ?? []).some((t) => t.name === n));
  return set.inputs[graphInputs.indexOf(name)];
}

export { tensorDims, tensorValues };
