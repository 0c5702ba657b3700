// The compress report: what compression cost and bought, per layer and for the whole model.
// One data structure, rendered as a text table (CLI), JSON and a self-contained HTML page.

export interface LayerRow {
  name: string;
  type: string;
  shape: number[];
  sparsity: number;
  floatWeightBytes: number;
  ermWeightBytes: number;
  macs: number;
  effectiveMacs: number;
  sqnrDb?: number;
  encoding: string;
}

export interface ModelFigures {
  fileBytes: number;
  accuracy?: number;
  agreementWithFloat?: number;
  latencyUs?: { simd: number; mvp: number };
  arenaBytes?: number;
}

export interface CompressReport {
  model: string;
  calibration: { method: string; samples: number };
  pruning?: { mode: string; sparsities?: number[]; channelsRemoved?: number; totalSparsity?: number };
  layers: LayerRow[];
  float: ModelFigures;
  int8: ModelFigures;
  pruned?: ModelFigures;
  evalSamples?: number;
}

const pct = (v?: number) => (v === undefined ? "-" : `${(v * 100).toFixed(2)}%`);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function formatReport(r: CompressReport): string[] {
  const pruning = r.pruning ? `, pruning ${r.pruning.mode}${r.pruning.totalSparsity !== undefined ? ` (weights pruned overall: ${pct(r.pruning.totalSparsity)})` : ""}` : "";
  const lines = [`compress ${r.model}: calibration ${r.calibration.method} on ${r.calibration.samples} samples${pruning}`, ""];
  const head = ["layer", "type", "shape", "sparsity", "float bytes", ".erm bytes", "MACs", "eff. MACs", "SQNR dB", "encoding"];
  const rows = r.layers.map((l) => [l.name.slice(0, 28), l.type, `[${l.shape.join(",")}]`, pct(l.sparsity), String(l.floatWeightBytes), String(l.ermWeightBytes), String(l.macs), String(l.effectiveMacs), l.sqnrDb === undefined || !Number.isFinite(l.sqnrDb) ? "-" : l.sqnrDb.toFixed(1), l.encoding]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < 3 || i === 9 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  lines.push(fmt(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt), "");
  lines.push("model        file size     accuracy   agrees with float   SIMD us   MVP us   arena bytes");
  const model = (name: string, m?: ModelFigures) => {
    if (!m) return;
    lines.push(`${name.padEnd(12)} ${kb(m.fileBytes).padStart(10)}   ${pct(m.accuracy).padStart(8)}   ${pct(m.agreementWithFloat).padStart(17)}   ${m.latencyUs ? m.latencyUs.simd.toFixed(1).padStart(7) : "      -"}  ${m.latencyUs ? m.latencyUs.mvp.toFixed(1).padStart(7) : "      -"}   ${m.arenaBytes ?? "-"}`);
  };
  model("float ONNX", r.float);
  model("int8", r.int8);
  model("pruned+int8", r.pruned);
  const best = r.pruned ?? r.int8;
  lines.push("", `size: ${(r.float.fileBytes / best.fileBytes).toFixed(1)}x smaller than the float ONNX file${r.evalSamples ? `; accuracy on ${r.evalSamples} held-out samples` : ""}`);
  return lines;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

export function reportHtml(r: CompressReport): string {
  const rows = r.layers.map((l) => `<tr><td>${esc(l.name)}</td><td>${esc(l.type)}</td><td>[${l.shape.join(",")}]</td><td>${pct(l.sparsity)}</td><td>${l.floatWeightBytes}</td><td>${l.ermWeightBytes}</td><td>${l.macs}</td><td>${l.effectiveMacs}</td><td>${l.sqnrDb === undefined || !Number.isFinite(l.sqnrDb) ? "-" : l.sqnrDb.toFixed(1)}</td><td>${esc(l.encoding)}</td></tr>`).join("\n");
  const model = (name: string, m?: ModelFigures) => (m ? `<tr><td>${name}</td><td>${m.fileBytes}</td><td>${pct(m.accuracy)}</td><td>${pct(m.agreementWithFloat)}</td><td>${m.latencyUs?.simd.toFixed(1) ?? "-"}</td><td>${m.latencyUs?.mvp.toFixed(1) ?? "-"}</td><td>${m.arenaBytes ?? "-"}</td></tr>` : "");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgerun compress report: ${esc(r.model)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child,td:nth-child(2){text-align:left}th{background:#f3f3f3}</style>
</head><body>
<h1>Compression report: ${esc(r.model)}</h1>
<p>Calibration: ${esc(r.calibration.method)} on ${r.calibration.samples} samples.${r.pruning ? ` Pruning: ${esc(r.pruning.mode)}.` : ""}${r.evalSamples ? ` Accuracy on ${r.evalSamples} held-out samples.` : ""}</p>
<h2>Model</h2>
<table><tr><th>model</th><th>file bytes</th><th>top-1</th><th>agrees with float</th><th>SIMD us</th><th>MVP us</th><th>arena bytes</th></tr>
${model("float ONNX", r.float)}${model("int8", r.int8)}${model("pruned + int8", r.pruned)}
</table>
<h2>Layers</h2>
<table><tr><th>layer</th><th>type</th><th>shape</th><th>sparsity</th><th>float bytes</th><th>.erm bytes</th><th>MACs</th><th>effective MACs</th><th>SQNR dB</th><th>encoding</th></tr>
${rows}
</table>
</body></html>
`;
}
