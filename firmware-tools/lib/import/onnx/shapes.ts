// Spatial shape rules of ONNX Conv and pooling: explicit pads or auto_pad, output sizes with
// floor or ceil mode.

/** ONNX pads [top, left, bottom, right] for 2-D, from `pads` or `auto_pad`. */
export function resolvePads(autoPad: string, pads: number[] | undefined, inSize: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const nd = inSize.length;
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const begin: number[] = [], end: number[] = [];
    for (let i = 0; i < nd; i++) {
      const out = Math.ceil(inSize[i] / strides[i]);
      const eff = (kernel[i] - 1) * dilations[i] + 1;
      const total = Math.max(0, (out - 1) * strides[i] + eff - inSize[i]);
      // SAME_UPPER puts the odd pad at the end, SAME_LOWER at the beginning.
      const small = Math.floor(total / 2);
      begin.push(autoPad === "SAME_UPPER" ? small : total - small);
      end.push(autoPad === "SAME_UPPER" ? total - small : small);
    }
    return [...begin, ...end];
  }
  if (autoPad === "VALID") return new Array(2 * nd).fill(0);
  return pads ?? new Array(2 * nd).fill(0);
}

export function convOutSize(inSize: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, ceil: boolean): number {
  const eff = (kernel - 1) * dilation + 1;
  const span = inSize + padBegin + padEnd - eff;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // ceil mode: a last window that starts inside the end padding is dropped (as ORT and PyTorch do).
  if (ceil && (out - 1) * stride >= inSize + padBegin) out--;
  return out;
}
