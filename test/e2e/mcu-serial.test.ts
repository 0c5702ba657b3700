// End to end over real pty pairs (socat) at an emulated 921600 baud: the virtual MCU is flashed
// with kws and ad by the operator client, runs the MLPerf Tiny golden inputs bit for bit; a noisy
// line (bit flips and dropped bytes both ways) still gets there; a line closed or power lost
// mid-transfer leaves the old model active and a re-flash succeeds (resuming when it can).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgerunError } from "../../host/format/errors.js";
import { DeviceClient } from "../../firmware-tools/lib/serial/client.js";
import { flashModel } from "../../firmware-tools/lib/serial/flash.js";
import { NoisyLine } from "../../firmware-tools/lib/mcu-sim/noisy-line.js";
import { convertFile } from "../../firmware-tools/lib/model/convert.js";
import { goldenCases, mlperfModelPath, MlperfName } from "../helpers/mlperf.js";
import { SerialFixture, socatOrSkip } from "../helpers/serial.js";

const fx = new SerialFixture();
afterAll(() => fx.close());
const erm = (name: MlperfName) => convertFile(mlperfModelPath(name), { meta: { name, version: "1.0.0" } }).bytes;
const kws = erm("kws"), ad = erm("ad");

async function expectGoldens(c: DeviceClient, name: MlperfName): Promise<void> {
  for (const g of goldenCases(name)) {
    const r = await c.run(g.input);
    expect(Buffer.compare(r.output, g.output), `${name} ${g.name}`).toBe(0);
    expect(r.latencyUs).toBeGreaterThanOrEqual(0);
  }
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "no error";
  } catch (e) {
    if (e instanceof EdgerunError) return e.code;
    throw e;
  }
}

describe("virtual MCU over a pty pair", () => {
  beforeAll((ctx) => socatOrSkip(ctx));

  it("flash kws then ad (weights streamed from flash), goldens bit for bit, latency log pulled", async () => {
    const { port } = await fx.device();
    const c = await DeviceClient.connect(port);
    const k = await flashModel(c, kws);
    expect([k.mode, k.generation, k.alreadyActive]).toEqual(["resident", 1, false]);
    await expectGoldens(c, "kws");
    expect((await flashModel(c, kws)).alreadyActive).toBe(true);
    const a = await flashModel(c, ad);
    expect([a.mode, a.generation]).toEqual(["streamed", 2]);
    expect(a.bytesPerSec, "close to 92,160 B/s, the payload rate of 921600 baud").toBeGreaterThan(50_000);
    expect(a.bytesPerSec).toBeLessThan(92_160);
    await expectGoldens(c, "ad");
    const info = await c.hello();
    expect(info.model).toMatchObject({ name: "ad", version: "1.0.0", mode: "streamed" });
    expect(info.model!.ramBytes).toBeLessThan(128 * 1024);
    const log = await c.logs();
    expect(log.latenciesUs).toHaveLength(goldenCases("kws").length + goldenCases("ad").length);
    await c.close();
  });

  it("a noisy line (bit flips and dropped bytes both ways) still flashes and runs bit-exact", async () => {
    const line = await NoisyLine.start(fx.dir, { flipPerByte: 1.5e-4, dropPerByte: 1e-4, seed: 12345 });
    try {
      await fx.sim({ pty: line.deviceEnd });
      const c = await DeviceClient.connect(line.operatorEnd, { replyTimeoutMs: 250, retries: 12 });
      const r = await flashModel(c, kws);
      expect(r.generation).toBe(1);
      await expectGoldens(c, "kws");
      expect(line.stats.flipped + line.stats.dropped, "the line really was noisy").toBeGreaterThan(5);
      expect(c.link.stats.retransmits).toBeGreaterThan(0);
      await c.close();
    } finally {
      await line.stop();
    }
  });

  it("the line closed mid-transfer: old model active; the next flash resumes where the device is and succeeds", async () => {
    const { port } = await fx.device();
    const c = await DeviceClient.connect(port);
    await flashModel(c, kws);
    const err = await errorCode(flashModel(c, ad, { resumeAttempts: 0, onProgress: (done) => { if (done >= 100_000) c.link.cut(); } }));
    expect(err).toBe("SERIAL_PORT_CLOSED");
    const c2 = await DeviceClient.connect(port);
    expect(c2.info.model?.name).toBe("kws");
    expect(c2.info.transfer!.receivedBytes).toBeGreaterThanOrEqual(100_000);
    await expectGoldens(c2, "kws");
    const r = await flashModel(c2, ad);
    expect(r.startedAtBytes).toBeGreaterThanOrEqual(100_000);
    await expectGoldens(c2, "ad");
    await c2.close();
  });

  it("an interruption inside one flash call is resumed by that call", async () => {
    const { port } = await fx.device();
    const c = await DeviceClient.connect(port);
    let cuts = 0;
    const r = await flashModel(c, ad, { onProgress: (done) => { if (done >= 150_000 && cuts++ === 0) c.link.cut(); } });
    expect(r.resumes).toBe(1);
    await expectGoldens(c, "ad");
    await c.close();
  });

  it("power lost mid-transfer: after power returns the old model is active and a re-flash succeeds", async () => {
    const p = await fx.pair();
    const flashPath = `${fx.dir}/power.bin`;
    const first = await fx.sim({ pty: p.b, flashPath });
    const c = await DeviceClient.connect(p.a, { replyTimeoutMs: 200, retries: 2 });
    await flashModel(c, kws);
    await first.stop();
    const dying = await fx.sim({ pty: p.b, flashPath, power: { cutAtFlashOp: 40 } });
    await c.hello().catch(() => undefined);
    expect(await errorCode(flashModel(c, ad, { resumeAttempts: 0 }))).toBe("SERIAL_TIMEOUT");
    expect(dying.dead).toBe(true);
    await fx.sim({ pty: p.b, flashPath });
    await c.hello();
    expect(c.info.model?.name).toBe("kws");
    expect(c.info.transfer, "RAM state is gone: the transfer starts over").toBeUndefined();
    await expectGoldens(c, "kws");
    expect((await flashModel(c, ad)).startedAtBytes).toBe(0);
    await expectGoldens(c, "ad");
    await c.close();
  });
});
