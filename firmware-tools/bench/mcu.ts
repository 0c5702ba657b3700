// Microcontroller benchmarks: flash throughput over a socat pty pair at 115200 and 921600 baud
// equivalent (lib/serial/pacer.ts emulates the rate; the peer is the line rate itself, baud/10
// bytes per second with 8N1), the MVP build's per-inference time in V8 for the MLPerf Tiny
// models (the peer: the SIMD build), and the WebAssembly component's overhead per call against
// the core SIMD module it wraps (transpiled with jco, run in Node).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { transpile } from "@bytecodealliance/jco";
import { Interpreter } from "../../host/runtime/runtime.js";
import { packageRoot } from "../../host/runtime/paths.js";
import { convertFile } from "../lib/model/convert.js";
import { median, timeCalls, timeInterleaved } from "../lib/model/bench.js";
import { sharedDir } from "../lib/demo/shared.js";
import { makePtyPair } from "../lib/serial/pty-pair.js";
import { SimulatedDevice } from "../lib/mcu-sim/sim-port.js";
import { DeviceClient } from "../lib/serial/client.js";
import { flashModel } from "../lib/serial/flash.js";

const MODELS = { kws: "kws_ref_model.tflite", ic: "pretrainedResnet_quant.tflite", ad: "ad01_int8.tflite" } as const;
type Name = keyof typeof MODELS;
const modelPath = (n: Name) => join(sharedDir(), "models", "mlperf-tiny", n, MODELS[n]);
const sample = (n: Name) => readFileSync(join(sharedDir(), "models", "mlperf-tiny", n, "golden", "sample", "input.bin"));

async function flashThroughput(say: (l: string) => void, work: string): Promise<void> {
  say("| model | baud (emulated) | image bytes | seconds | image B/s | line payload rate B/s | efficiency |");
  say("|---|---|---|---|---|---|---|");
  for (const [name, baud] of [["kws", 115200], ["kws", 921600], ["ad", 921600]] as const) {
    const pair = await makePtyPair(join(work, `op-${name}-${baud}`), join(work, `dev-${name}-${baud}`));
    const dev = await SimulatedDevice.start({ pty: pair.b, flashPath: join(work, `flash-${name}-${baud}.bin`), baud });
    const client = await DeviceClient.connect(pair.a, { baud });
    try {
      const r = await flashModel(client, convertFile(modelPath(name)).bytes);
      const line = baud / 10;
      say(`| ${name} | ${baud} | ${r.imageBytes} | ${(r.elapsedMs / 1000).toFixed(2)} | ${Math.round(r.bytesPerSec)} | ${line} | ${((100 * r.bytesPerSec) / line).toFixed(0)}% |`);
    } finally {
      await client.close();
      await dev.stop();
      await pair.close();
    }
  }
}

async function mvpTimes(say: (l: string) => void): Promise<void> {
  say("| model | MVP build in V8 (us) | SIMD build (us) | MVP / SIMD |");
  say("|---|---|---|---|");
  for (const name of Object.keys(MODELS) as Name[]) {
    const { bytes } = convertFile(modelPath(name));
    const runners = (["mvp", "simd"] as const).map((build) => {
      const it = Interpreter.load(bytes, { build });
      it.inputs[0].set(sample(name));
      return { name: build, run: () => it.invoke() };
    });
    const t = await timeInterleaved(runners, 10, 30, 50);
    const [mvp, simd] = (["mvp", "simd"] as const).map((b) => median(t.get(b)!));
    say(`| ${name} | ${mvp.toFixed(1)} | ${simd.toFixed(1)} | ${(mvp / simd).toFixed(1)}x |`);
  }
}

interface Inference { load(m: Uint8Array): void; run(i: Uint8Array): Uint8Array; describe(): unknown }

async function componentOverhead(say: (l: string) => void, work: string): Promise<void> {
  const { files } = await transpile(readFileSync(join(packageRoot(), "build", "runtime.component.wasm")), { name: "edgerun", outDir: join(work, "component") });
  for (const [p, b] of Object.entries(files)) {
    const target = p.startsWith("/") ? p : join(work, "component", p);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, b as Uint8Array);
  }
  say("| model | core SIMD module, run with copies (us) | component via jco (us) | overhead per call (us) | describe() per call (us) |");
  say("|---|---|---|---|---|");
  let n = 0;
  for (const name of Object.keys(MODELS) as Name[]) {
    const { bytes } = convertFile(modelPath(name));
    const rt = (await import(`${join(work, "component", "edgerun.js")}?i=${n++}`)).inference as Inference;
    rt.load(bytes);
    const core = Interpreter.load(bytes, { build: "simd" });
    const input = sample(name);
    const t = await timeInterleaved([{ name: "core", run: () => core.run(input)[0].slice() }, { name: "component", run: () => rt.run(input) }], 10, 30, 50);
    const c = median(t.get("core")!), k = median(t.get("component")!);
    const d = median(timeCalls(() => rt.describe(), 1000, 100));
    say(`| ${name} | ${c.toFixed(1)} | ${k.toFixed(1)} | ${(k - c).toFixed(1)} | ${d.toFixed(2)} |`);
  }
}

export async function benchMcu(say: (line: string) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "edgerun-bench-mcu-"));
  try {
    say("## Microcontroller: flash throughput over a pty (virtual MCU, emulated line rate)");
    say("");
    say("Image bytes per second during the WRITE phase (1 KiB frames, window of 8, COBS + CRC-32 framing, acknowledgements); efficiency against the line's payload rate (baud / 10 with 8N1).");
    say("");
    await flashThroughput(say, work);
    say("");
    say("## MVP build (the WASM3 build) per inference in V8");
    say("");
    say("Medians over 10 interleaved rounds of 30 runs (the two builds alternating) after 50 warm-up runs, sample input. WASM3 on this machine runs the same scalar code about 15x slower than V8 (docs FACTS).");
    say("");
    await mvpTimes(say);
    say("");
    say("## WebAssembly component (jco-transpiled, in Node) vs the core SIMD module");
    say("");
    say("Both copy the input in and the output out per call, timed in interleaved rounds (10 x 30 calls each); the difference is the canonical ABI lifting and lowering.");
    say("");
    await componentOverhead(say, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
