// The demo's microcontroller step: a virtual MCU (runtime-mvp.wasm, 320 KiB, flash in a file) on
// a socat pty pair; flash the model over the serial protocol, run inputs on the device, pull its
// latency log (and store it with the fleet's telemetry); everything is removed afterwards.
// Without samples it runs the MLPerf kws sample and checks it against TFLite Micro's output.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readErm } from "../../../host/format/erm-reader.js";
import { makePtyPair } from "../serial/pty-pair.js";
import { SimulatedDevice } from "../mcu-sim/sim-port.js";
import { DeviceClient } from "../serial/client.js";
import { flashModel } from "../serial/flash.js";
import { topClass } from "../model/classify.js";
import { importMcuLog } from "../collect/mcu-import.js";
import type { TelemetryStore } from "../collect/store.js";
import { sharedDir } from "./shared.js";

export interface McuDemoOptions {
  /** Inputs to run on the device, with their labels (accuracy is reported). */
  samples?: { input: Uint8Array; label: number }[];
  /** Store the pulled latency log here. */
  store?: TelemetryStore;
  /** Step heading. Default "4.". */
  step?: string;
}

export async function runMcuDemo(log: (l: string) => void, ermPath: string, o: McuDemoOptions = {}): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "edgerun-mcu-demo-"));
  const pair = await makePtyPair(join(work, "operator"), join(work, "device"));
  let device: SimulatedDevice | undefined;
  let client: DeviceClient | undefined;
  try {
    const erm = readFileSync(ermPath);
    const model = readErm(erm);
    device = await SimulatedDevice.start({ pty: pair.b, flashPath: join(work, "flash.bin"), baud: 921600 });
    client = await DeviceClient.connect(pair.a);
    log(`${o.step ?? "4."} virtual microcontroller on a pty pair (socat): ${client.info.memoryCapBytes / 1024} KiB memory, ${client.info.flashBytes / 1024} KiB flash, 921600 baud emulated`);
    const r = await flashModel(client, erm);
    log(`   flashed ${model.meta.name} ${model.meta.version ?? ""} (${r.imageBytes} bytes) in ${(r.elapsedMs / 1000).toFixed(2)} s, ${Math.round(r.bytesPerSec)} B/s; SHA-256 verified on the device, generation ${r.generation}, ${r.mode}`);
    if (o.samples) await runSamples(log, client, o.samples, model.meta.labels);
    else await runKwsSample(log, client, model.meta.labels);
    const pulled = await client.logs();
    const xs = pulled.latenciesUs;
    log(`   latency log pulled: ${pulled.inferences} inferences, last ${xs.length} kept${xs.length > 12 ? `, e.g. ${xs.slice(-8).join(", ")} us` : `: ${xs.join(", ")} us`}`);
    if (o.store) {
      const m = (await client.hello()).model; // the HELLO at connect predates the flash
      const stored = importMcuLog(o.store, { deviceId: client.info.deviceId, model: m ? { name: m.name, version: m.version } : null, ...pulled });
      log(`   stored ${stored.newInferences} latencies of device ${client.info.deviceId} with the fleet's telemetry (as edgerun logs pull --db does)`);
    }
  } finally {
    await client?.close();
    await device?.stop();
    await pair.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function runSamples(log: (l: string) => void, client: DeviceClient, samples: { input: Uint8Array; label: number }[], labels?: string[]): Promise<void> {
  let correct = 0, sumUs = 0;
  for (const s of samples) {
    const run = await client.run(s.input);
    const top = topClass(run.output, "int8", labels);
    if (top?.index === s.label) correct++;
    sumUs += run.latencyUs;
  }
  log(`   ran ${samples.length} held-out digits on the device: ${((100 * correct) / samples.length).toFixed(1)}% correct, mean ${(sumUs / samples.length).toFixed(0)} us (MVP build in V8)`);
}

async function runKwsSample(log: (l: string) => void, client: DeviceClient, labels?: string[]): Promise<void> {
  const sample = readFileSync(join(sharedDir(), "models", "mlperf-tiny", "kws", "golden", "sample", "input.bin"));
  const expected = readFileSync(join(sharedDir(), "models", "mlperf-tiny", "kws", "golden", "sample", "output.bin"));
  for (let i = 0; i < 5; i++) await client.run(sample);
  const run = await client.run(sample);
  const top = topClass(run.output, "int8", labels);
  log(`   ran the sample on the device: "${top?.label}" in ${run.latencyUs} us (MVP build in V8), ${Buffer.compare(Buffer.from(run.output), expected) === 0 ? "bit-exact with TFLite Micro" : "DIFFERS from TFLite Micro"}`);
}
