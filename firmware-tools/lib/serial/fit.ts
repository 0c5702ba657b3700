// Will this model fit that device? Checked before a byte is sent, from HELLO's figures. Flash:
// the device image against a slot. RAM: what the device will allocate: the image itself when it
// is resident (at most residentMaxBytes), else the tables, the small constants and a window for
// the largest layer's streamed weights (the rule of assembly/device/stream.ts), plus the arena
// and runtime tables, measured by loading the model into the same MVP build here.
// The device checks again when it activates the model (DEV_OUT_OF_MEMORY).

import { EdgerunError } from "../../../host/format/errors.js";
import type { ErmModel } from "../../../host/format/erm-types.js";
import type { DeviceInfo } from "../../../host/format/device-protocol.js";
import { DType, TensorKind } from "../../../host/format/opcodes.js";
import { Interpreter } from "../../../host/runtime/runtime.js";

const STREAM_MIN_BYTES = 1024;
const align16 = (x: number) => (x + 15) & ~15;

export interface FitEstimate {
  imageBytes: number;
  mode: "resident" | "streamed";
  /** Bytes of the model image kept in RAM (all of it when resident). */
  imageRamBytes: number;
  /** Arena, tensor and op tables, argument blocks: from the MVP build. */
  workingRamBytes: number;
  ramBytes: number;
}

export function estimateFit(erm: Uint8Array, model: ErmModel, image: Uint8Array, residentMaxBytes: number): FitEstimate {
  const workingRamBytes = Interpreter.load(erm, { build: "mvp", trusted: true }).memory.workingRamBytes;
  if (image.length <= residentMaxBytes) {
    return { imageBytes: image.length, mode: "resident", imageRamBytes: image.length, workingRamBytes, ramBytes: image.length + workingRamBytes };
  }
  const uses = new Map<number, number>();
  const streamable = (t: number) => {
    const x = model.tensors[t];
    return x && x.kind === TensorKind.CONSTANT && (x.dtype === DType.INT8 || x.dtype === DType.UINT8) && (x.data?.length ?? 0) >= STREAM_MIN_BYTES;
  };
  for (const op of model.ops) for (const t of op.inputs) if (t >= 0 && streamable(t)) uses.set(t, (uses.get(t) ?? 0) + 1);
  let windowBytes = 0, residentBytes = 0, weightBytes = 0;
  for (const op of model.ops) {
    let pos = 0;
    for (const t of op.inputs) if (uses.get(t) === 1) pos = align16(pos + model.tensors[t].data!.length);
    windowBytes = Math.max(windowBytes, pos);
  }
  model.tensors.forEach((x, t) => {
    if (x.kind !== TensorKind.CONSTANT) return;
    weightBytes = align16(weightBytes + (x.data?.length ?? 0));
    if (uses.get(t) !== 1) residentBytes = align16(residentBytes + (x.data?.length ?? 0));
  });
  const imageRamBytes = Math.max(0, image.length - weightBytes) + windowBytes + residentBytes + model.tensors.length * 8;
  return { imageBytes: image.length, mode: "streamed", imageRamBytes, workingRamBytes, ramBytes: imageRamBytes + workingRamBytes };
}

/** Throws DEVICE_TOO_SMALL naming what does not fit. */
export function checkFit(info: DeviceInfo, fit: FitEstimate): void {
  if (fit.imageBytes > info.slotBytes) {
    throw new EdgerunError("DEVICE_TOO_SMALL", `the model image (${fit.imageBytes} bytes) does not fit the device's flash slot`, { expected: info.slotBytes, actual: fit.imageBytes, what: "flash" });
  }
  if (fit.ramBytes > info.modelRamBytes) {
    throw new EdgerunError("DEVICE_TOO_SMALL", `the model needs about ${fit.ramBytes} bytes of RAM (${fit.mode}), the device has ${info.modelRamBytes}`, { expected: info.modelRamBytes, actual: fit.ramBytes, what: "ram" });
  }
}
