// The operator side over real pty pairs made by socat: the clear errors (wrong port, no answer,
// garbage, a device that stops answering), the emulated line rate, port discovery, fit checks.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EdgerunError } from "../../../host/format/errors.js";
import { DeviceClient } from "../../../firmware-tools/lib/serial/client.js";
import { flashModel } from "../../../firmware-tools/lib/serial/flash.js";
import { checkFit, estimateFit } from "../../../firmware-tools/lib/serial/fit.js";
import { LinePacer } from "../../../firmware-tools/lib/serial/pacer.js";
import { listPorts, scanSysfs } from "../../../firmware-tools/lib/serial/discover.js";
import { openPort, closePort } from "../../../firmware-tools/lib/serial/port.js";
import { convertFile } from "../../../firmware-tools/lib/model/convert.js";
import { readErm } from "../../../host/format/erm-reader.js";
import { deviceImage } from "../../../host/format/erm-device.js";
import { mlperfModelPath } from "../../helpers/mlperf.js";
import { SerialFixture, socatOrSkip } from "../../helpers/serial.js";

const fx = new SerialFixture();
afterAll(() => fx.close());
const kws = convertFile(mlperfModelPath("kws")).bytes;
const ad = convertFile(mlperfModelPath("ad")).bytes;
const fast = { replyTimeoutMs: 150, retries: 2 };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EdgerunError) return e.code;
    throw e;
  }
  return "no error";
}

describe("clear errors", () => {
  beforeAll((ctx) => socatOrSkip(ctx));

  it("wrong port: SERIAL_PORT_NOT_FOUND; a file that is no tty: SERIAL_PORT_OPEN_FAILED", async () => {
    expect(await code(DeviceClient.connect(join(fx.dir, "no-such-port")))).toBe("SERIAL_PORT_NOT_FOUND");
    writeFileSync(join(fx.dir, "plain-file"), "x");
    expect(await code(DeviceClient.connect(join(fx.dir, "plain-file")))).toBe("SERIAL_PORT_OPEN_FAILED");
  });

  it("nothing on the other end: SERIAL_TIMEOUT after the bounded retries", async () => {
    const p = await fx.pair();
    const t0 = Date.now();
    expect(await code(DeviceClient.connect(p.a, fast))).toBe("SERIAL_TIMEOUT");
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("garbage on the line: SERIAL_BAD_FRAMES", async () => {
    const p = await fx.pair();
    const other = await openPort(p.b);
    const timer = setInterval(() => other.write(Buffer.from("\0AT+GARBAGE\r\n\0\x07\x01\x02\0")), 20);
    try {
      expect(await code(DeviceClient.connect(p.a, fast))).toBe("SERIAL_BAD_FRAMES");
    } finally {
      clearInterval(timer);
      await closePort(other);
    }
  });

  it("a device that stops answering mid-transfer: SERIAL_TIMEOUT, its model unchanged, a restarted device takes a re-flash", async () => {
    const { port, sim, flashPath } = await fx.device();
    const c = await DeviceClient.connect(port, fast);
    await flashModel(c, kws);
    let stopped = false;
    const err = await code(flashModel(c, ad, { resumeAttempts: 0, onProgress: (done) => { if (done > 60_000 && !stopped) { stopped = true; void sim.stop(); } } }));
    expect(err).toBe("SERIAL_TIMEOUT");
    await c.close();
    const p2 = await fx.pair();
    await fx.sim({ pty: p2.b, flashPath });
    const c2 = await DeviceClient.connect(p2.a, fast);
    expect(c2.info.model?.name).toBe("kws_ref_model");
    const r = await flashModel(c2, ad);
    expect(r.generation).toBe(2);
    await c2.close();
  });

  it("a model bigger than the device: DEVICE_TOO_SMALL before anything is sent", async () => {
    const { port } = await fx.device({ flashBytes: 256 * 1024 });
    const c = await DeviceClient.connect(port, fast);
    const sent = c.link.stats.sent;
    expect(await code(flashModel(c, ad))).toBe("DEVICE_TOO_SMALL");
    expect(c.link.stats.sent - sent, "only the HELLO that refreshes the device's figures").toBe(1);
    expect((await c.hello()).transfer).toBeUndefined();
    await c.close();
  });
});

describe("fit check", () => {
  it("flash and RAM, resident and streamed", () => {
    const model = readErm(ad), image = deviceImage(ad);
    const streamed = estimateFit(ad, model, image, 128 * 1024);
    expect(streamed.mode).toBe("streamed");
    expect(streamed.ramBytes).toBeLessThan(image.length / 2);
    const resident = estimateFit(ad, model, image, 1 << 20);
    expect(resident.ramBytes).toBeGreaterThan(image.length);
    const info = { slotBytes: 1 << 20, modelRamBytes: 200_000 } as Parameters<typeof checkFit>[0];
    expect(() => checkFit(info, streamed)).not.toThrow();
    expect(() => checkFit(info, resident)).toThrow(/DEVICE_TOO_SMALL.*ram/);
    expect(() => checkFit({ ...info, slotBytes: 1000 }, streamed)).toThrow(/DEVICE_TOO_SMALL.*flash slot/);
  });
});

describe("line rate emulation", () => {
  it("921600 baud: 46 KB take 0.5 s (10 bits per byte), within 20%", async () => {
    let bytes = 0;
    const pacer = new LinePacer((b) => (bytes += b.length), 921600);
    const t0 = performance.now();
    for (let i = 0; i < 45; i++) pacer.send(new Uint8Array(1024));
    await pacer.drained();
    const ms = performance.now() - t0 + pacer.wireMs(1024); // the last frame's own wire time
    expect(bytes).toBe(45 * 1024);
    expect(ms).toBeGreaterThan(0.8 * 500);
    expect(ms).toBeLessThan(1.2 * 500);
  });
});

describe("port discovery", () => {
  it("sysfs fallback: USB adapters with their ids; legacy ttyS without a UART skipped", () => {
    const root = join(fx.dir, "sys");
    const usb = join(root, "devices", "usb1", "1-1");
    mkdirSync(join(usb, "1-1:1.0", "ttyUSB0"), { recursive: true });
    writeFileSync(join(usb, "idVendor"), "10c4\n");
    writeFileSync(join(usb, "idProduct"), "ea60\n");
    writeFileSync(join(usb, "manufacturer"), "Silicon Labs\n");
    const tty = join(root, "class", "tty");
    mkdirSync(join(tty, "ttyUSB0"), { recursive: true });
    symlinkSync(join(usb, "1-1:1.0", "ttyUSB0"), join(tty, "ttyUSB0", "device"));
    mkdirSync(join(tty, "ttyS0", "device"), { recursive: true });
    writeFileSync(join(tty, "ttyS0", "type"), "0\n");
    mkdirSync(join(tty, "tty1"), { recursive: true });
    expect(scanSysfs(tty)).toEqual([{ path: "/dev/ttyUSB0", source: "sysfs", vendorId: "10c4", productId: "ea60", manufacturer: "Silicon Labs", serialNumber: undefined }]);
  });

  it("listPorts answers with or without udevadm", async () => {
    const r = await listPorts();
    expect(Array.isArray(r.ports)).toBe(true);
    if (r.fallbackReason) expect(r.ports.every((p) => p.source === "sysfs")).toBe(true);
  });
});
