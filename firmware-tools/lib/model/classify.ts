// Reading a classifier's output: the top class, with its label when the model has labels.

export interface TopClass { index: number; label: string; score: number }

export function topClass(out: Uint8Array, dtype: string, labels?: string[]): TopClass | undefined {
  if (!labels?.length && out.length > 1000) return undefined;
  let vals: ArrayLike<number>;
  if (dtype === "int8") vals = new Int8Array(out.buffer, out.byteOffset, out.length);
  else if (dtype === "float32") vals = new Float32Array(out.slice().buffer);
  else vals = out;
  if (vals.length === 0) return undefined;
  let best = 0;
  for (let i = 1; i < vals.length; i++) if (vals[i] > vals[best]) best = i;
  return { index: best, label: labels?.[best] ?? `class ${best}`, score: vals[best] };
}
