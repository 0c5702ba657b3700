// The dashboard page: one HTML document with a small script that reads the JSON API and draws
// with Chart.js (served from node_modules, no CDN: the dashboard works offline). Text from the
// database is only ever set as textContent, never as HTML. Refreshes every REFRESH_MS.

export const REFRESH_MS = 5000;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgerun fleet</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
header{background:#1d232b;color:#fff;padding:12px 20px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}
main{display:grid;grid-template-columns:1fr 1fr;gap:16px;padding:16px}
section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002}
section.wide{grid-column:1 / span 2}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
td,th{padding:4px 8px;border-bottom:1px solid #e4e7eb;text-align:left;font-variant-numeric:tabular-nums}
.online{color:#0a7d32;font-weight:600}.offline{color:#b3261e;font-weight:600}.unknown{color:#777}
.drifted{color:#b3261e}.moderate{color:#a86b00}
.chart{position:relative;height:280px}
.muted{color:#777}
</style></head>
<body>
<header><h1>edgerun fleet</h1><span id="summary" class="muted">loading...</span><span id="updated" class="muted"></span></header>
<main>
<section class="wide"><h2>Devices</h2><table id="devices"><thead><tr><th>device</th><th>kind</th><th>state</th><th>groups</th><th>model version</th><th>windows</th><th>inferences</th><th>p99</th><th>last seen</th></tr></thead><tbody></tbody></table></section>
<section><h2>p50 latency over time (per device and version)</h2><div class="chart"><canvas id="p50"></canvas></div></section>
<section><h2>p99 latency over time (per device and version)</h2><div class="chart"><canvas id="p99"></canvas></div></section>
<section><h2>Versions in use</h2><table id="versions"><thead><tr><th>version</th><th>devices</th></tr></thead><tbody></tbody></table>
<h2 style="margin-top:16px">Drift alarms (PSI &gt; 0.1 over at least 200 sampled input values)</h2><table id="alarms"><thead><tr><th>device</th><th>version</th><th>level</th><th>latest PSI</th><th>max PSI</th><th>windows</th></tr></thead><tbody></tbody></table></section>
<section><h2>Recent failures, rollbacks and installs</h2><table id="events"><thead><tr><th>time</th><th>device</th><th>outcome</th><th>version</th><th>code</th></tr></thead><tbody></tbody></table>
<p id="drops" class="muted"></p></section>
</main>
<script src="/static/chart.umd.js"></script>
<script>
"use strict";
const COLORS = ["#1f77b4","#d62728","#2ca02c","#9467bd","#ff7f0e","#17becf","#8c564b","#e377c2","#7f7f7f","#bcbd22"];
const charts = {};
const us = (v) => v >= 10000 ? (v / 1000).toFixed(1) + " ms" : Math.round(v) + " us";
function fill(id, rows) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement("td");
      if (c && typeof c === "object") { td.textContent = c.text; td.className = c.cls; } else td.textContent = String(c);
      tr.appendChild(td);
    }
    return tr;
  }));
  if (!rows.length) { const tr = document.createElement("tr"); const td = document.createElement("td"); td.colSpan = 9; td.className = "muted"; td.textContent = "none"; tr.appendChild(td); body.appendChild(tr); }
}
function draw(id, series, key) {
  const datasets = series.map((s, i) => ({ label: s.label, data: s.points.map((p) => ({ x: p.t, y: p[key] })), borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length], borderWidth: 2, pointRadius: 2, tension: 0.2 }));
  if (charts[id]) { charts[id].data.datasets = datasets; charts[id].update("none"); return; }
  charts[id] = new Chart(document.getElementById(id), { type: "line", data: { datasets }, options: {
    animation: false, maintainAspectRatio: false, parsing: true,
    scales: { x: { type: "linear", ticks: { callback: (v) => new Date(v).toLocaleTimeString() } }, y: { beginAtZero: true, title: { display: true, text: "microseconds" } } },
    plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { title: (items) => new Date(items[0].parsed.x).toLocaleTimeString() } } } } });
}
async function refresh() {
  const get = (p) => fetch(p).then((r) => r.json());
  const [ov, lat, alarms, events] = await Promise.all([get("/api/overview"), get("/api/latency"), get("/api/alarms"), get("/api/events")]);
  document.getElementById("summary").textContent = ov.counts.devices + " devices: " + ov.counts.online + " online, " + ov.counts.offline + " offline; " + ov.total.inferences + " inferences, p50 " + us(ov.total.p50Us) + ", p99 " + us(ov.total.p99Us);
  document.getElementById("updated").textContent = "updated " + new Date(ov.generatedAt).toLocaleTimeString();
  fill("devices", ov.devices.map((d) => [d.deviceId, d.kind, { text: d.state, cls: d.state }, d.groups.join(", "), d.version || "-", d.windows, d.inferences, us(d.p99Us), new Date(d.lastSeen).toLocaleTimeString()]));
  fill("versions", ov.versions.map((v) => [v.version, v.devices]));
  fill("alarms", alarms.map((a) => [a.deviceId, a.version, { text: a.level, cls: a.level }, a.latestPsi.toFixed(3), a.maxPsi.toFixed(3), a.windowsAbove]));
  fill("events", events.map((e) => [new Date(e.at).toLocaleTimeString(), e.deviceId, { text: e.kind, cls: e.kind === "installed" ? "" : "offline" }, e.version || "-", e.code || ""]));
  document.getElementById("drops").textContent = ov.drops.length ? "dropped telemetry: " + ov.drops.map((d) => d.reason + " " + d.count).join(", ") : "no dropped telemetry";
  draw("p50", lat.series, "p50Us");
  draw("p99", lat.series, "p99Us");
  document.body.dataset.ready = "1";
}
refresh().catch((e) => { document.getElementById("summary").textContent = "cannot load: " + e; });
setInterval(() => refresh().catch(() => {}), ${REFRESH_MS});
</script>
</body></html>
`;
}
