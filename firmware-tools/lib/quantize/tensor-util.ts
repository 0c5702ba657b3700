// Small helpers over row-major shapes, shared by the float executor and the lowering.

/** Row-major strides of a shape (elements). */
export function strides(shape: number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}

/** Moves values from ONNX order into storage order: storage dim j is ONNX dim perm[j]. */
export function toStorage(x: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const out = new Array<number>(x.length);
  const xs = strides(shape), ss = strides(perm.map((p) => shape[p]));
  for (let i = 0; i < x.length; i++) {
    let k = 0;
    for (let j = 0; j < perm.length; j++) k += (Math.floor(i / ss[j]) % shape[perm[j]]) * xs[perm[j]];
    out[i] = x[k];
  }
  return out;
}

/** Inverse of toStorage: storage-order values back to ONNX order. */
export function fromStorage(x: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const out = new Array<number>(x.length);
  const xs = strides(shape), ss = strides(perm.map((p) => shape[p]));
  for (let i = 0; i < x.length; i++) {
    let k = 0;
    for (let j = 0; j < perm.length; j++) k += (Math.floor(i / ss[j]) % shape[perm[j]]) * xs[perm[j]];
    out[k] = x[i];
  }
  return out;
}
