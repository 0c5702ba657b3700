// The demo's microcontroller step: a virtual MCU (runtime-mvp.wasm, 320 KiB, flash in a file) on
// a socat pty pair; flash the kws model over the serial protocol, run the benchmark's sample on
// the device, pull its latency log; everything is removed afterwards.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readErm } from "../../../host/format/erm-reader.js";
import { makePtyPair } from "../serial/pty-pair.js";
import { SimulatedDevice } from "../mcu-sim/sim-port.js";
import { DeviceClient } from "../serial/client.js";
import { flashModel } from "../serial/flash.js";
import { topClass } from "../model/classify.js";
import { sharedDir } from "./shared.js";

export async function runMcuDemo(log: (l: string) => void, ermPath: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "edgerun-mcu-demo-"));
  const pair = await makePtyPair(join(work, "operator"), join(work, "device"));
  let device: SimulatedDevice | undefined;
  let client: DeviceClient | undefined;
  try {
    const erm = readFileSync(ermPath);
    const model = readErm(erm);
    device = await SimulatedDevice.start({ pty: pair.b, flashPath: join(work, "flash.bin"), baud: 921600 });
    client = await DeviceClient.connect(pair.a);
    log(`4. virtual microcontroller on a pty pair (socat): ${client.info.memoryCapBytes / 1024} KiB memory, ${client.info.flashBytes / 1024} KiB flash, 921600 baud emulated`);
    const r = await flashModel(client, erm);
    log(`   flashed ${model.meta.name} (${r.imageBytes} bytes) in ${(r.elapsedMs / 1000).toFixed(2)} s, ${Math.round(r.bytesPerSec)} B/s; SHA-256 verified on the device, generation ${r.generation}, ${r.mode}`);
    const sample = readFileSync(join(sharedDir(), "models", "mlperf-tiny", "kws", "golden", "sample", "input.bin"));
    const expected = readFileSync(join(sharedDir(), "models", "mlperf-tiny", "kws", "golden", "sample", "output.bin"));
    for (let i = 0; i < 5; i++) await client.run(sample);
    const run = await client.run(sample);
    const top = topClass(run.output, "int8", model.meta.labels);
    log(`   ran the sample on the device: "${top?.label}" in ${run.latencyUs} us (MVP build in V8), ${Buffer.compare(Buffer.from(run.output), expected) === 0 ? "bit-exact with TFLite Micro" : "DIFFERS from TFLite Micro"}`);
    const pulled = await client.logs();
    const xs = pulled.latenciesUs;
    log(`   latency log pulled: ${pulled.inferences} inferences, ${xs.join(", ")} us`);
  } finally {
    await client?.close();
    await device?.stop();
    await pair.close();
    rmSync(work, { recursive: true, force: true });
  }
}
