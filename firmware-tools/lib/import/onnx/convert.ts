// `edgerun convert model.onnx`: a pre-quantized ONNX model (QDQ or QOperator, uint8 or int8) ->
// the int8 Graph, using only the model's own quantization. Tensors the model leaves
// unquantized (float ops, int32 outputs of MatMulInteger/ConvInteger) need calibration data:
// they fail with QUANT_MISSING_RANGE, pointing to `edgerun compress`.

import { EdgerunError } from "../../../../host/format/errors.js";
import type { ErmMeta } from "../../../../host/format/erm-types.js";
import type { Graph } from "../../compile/graph.js";
import { assignQuant } from "../../quantize/quantize.js";
import { lowerGraph } from "../../quantize/lower.js";
import { importOnnx } from "./import.js";

export function importOnnxQuantized(bytes: Uint8Array, name: string): { graph: Graph; meta: Partial<ErmMeta> } {
  const g = importOnnx(bytes, name);
  const q = assignQuant(g, undefined, () => "minmax");
  try {
    const lowered = lowerGraph(g, q);
    return { graph: lowered.graph, meta: { layouts: lowered.layouts, source: name } };
  } catch (e) {
    if (e instanceof EdgerunError && e.code === "QUANT_MISSING_RANGE") {
      throw new EdgerunError("CONVERT_NEEDS_CALIBRATION", `${e.message}; this is a float (or partly float) ONNX model: use edgerun compress with --calib data`, e.context);
    }
    throw e;
  }
}
