// Batch inference: `edgerun run model.erm --batch inputs.jsonl -o out.jsonl`. One JSON object per
// input line ({"input": "<base64>" | [numbers], "inputs": [...], "id": anything}); one result per
// output line, in order ({"line", "id", "outputs": ["<base64>"], "top"} or {"line", "error"}).
// A bad line gets an error record and the batch goes on. The output is written to a temp file,
// fsynced and renamed at the end, so a crash never leaves half a result file.

import { closeSync, createReadStream, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { readErm } from "../../../host/format/erm-reader.js";
import { EdgerunError } from "../../../host/format/errors.js";
import { Interpreter } from "../../../host/runtime/runtime.js";
import { parseJsonRequest } from "../../../host/agent/handlers/infer-codec.js";
import { topClass } from "./classify.js";

export interface BatchOptions { build?: "simd" | "mvp" | "auto"; onProgress?: (done: number, total: number) => void }
export interface BatchSummary { lines: number; ok: number; errors: number; medianUs: number }

export async function runBatch(erm: Uint8Array, inputsPath: string, outPath: string, o: BatchOptions = {}): Promise<BatchSummary> {
  const model = readErm(erm);
  const it = Interpreter.load(erm, { build: o.build ?? "auto", trusted: true });
  const need = it.inputs.reduce((a, v) => a + v.length, 0);
  const total = await countLines(inputsPath);
  const tmp = `${outPath}.${process.pid}.tmp`;
  let fd = -1;
  const times: number[] = [];
  let lineNo = 0, ok = 0, errors = 0;
  try {
    fd = openSync(tmp, "w", 0o644);
    const rl = createInterface({ input: createReadStream(inputsPath), crlfDelay: Infinity });
    for await (const line of rl) {
      lineNo++;
      if (line.trim() === "") continue;
      const rec = runLine(it, model.meta.labels, model.meta.outputs?.[0]?.dtype ?? "int8", line, need, times);
      rec.line = lineNo;
      if (rec.error) errors++;
      else ok++;
      writeSync(fd, JSON.stringify(rec) + "\n");
      o.onProgress?.(lineNo, total);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, outPath);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* never created */ }
    if (e instanceof EdgerunError) throw e;
    throw new EdgerunError("BATCH_IO", `batch failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path: inputsPath });
  }
  times.sort((a, b) => a - b);
  return { lines: ok + errors, ok, errors, medianUs: times.length ? times[times.length >> 1] : 0 };
}

function runLine(it: Interpreter, labels: string[] | undefined, dtype: string, line: string, need: number, times: number[]): Record<string, unknown> {
  let id: unknown;
  try {
    let body: unknown;
    try {
      body = JSON.parse(line);
    } catch {
      throw new EdgerunError("INFER_BAD_INPUT", "the line is not JSON");
    }
    id = (body as { id?: unknown })?.id;
    const { input } = parseJsonRequest(Array.isArray(body) ? { input: body } : body);
    if (input.length !== need) throw new EdgerunError("INFER_BAD_INPUT", `the model takes ${need} input bytes, the line has ${input.length}`, { expected: need, actual: input.length });
    let off = 0;
    const parts = it.inputs.map((v) => input.subarray(off, (off += v.length)));
    const t0 = process.hrtime.bigint();
    const outs = it.run(...parts);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
    const top = topClass(outs[0], dtype, labels);
    return { line: 0, ...(id !== undefined ? { id } : {}), outputs: outs.map((x) => Buffer.from(x).toString("base64")), ...(top ? { top } : {}) };
  } catch (e) {
    const err = e as EdgerunError;
    return { line: 0, ...(id !== undefined ? { id } : {}), error: { code: err.code ?? "INFER_FAILED", message: err.message } };
  }
}

async function countLines(path: string): Promise<number> {
  try {
    statSync(path);
  } catch (e) {
    throw new EdgerunError("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`, { path });
  }
  let n = 0, last = 10;
  for await (const chunk of createReadStream(path)) {
    const b = chunk as Buffer;
    for (let i = 0; i < b.length; i++) if (b[i] === 10) n++;
    if (b.length) last = b[b.length - 1];
  }
  return last === 10 ? n : n + 1;
}
