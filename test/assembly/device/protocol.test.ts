// The device side of the protocol (assembly/device/), driven directly: no serial line.
// Goldens through resident and streamed weights, SHA-256 verification, and the bad-input list:
// garbage, too-long frames, wrong CRCs, out-of-order and repeated sequence numbers, misuse.

import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { COMMAND, encodeFrame, encodeRawFrame, cobsEncode, MAX_ENCODED_FRAME_BYTES } from "../../../host/format/serial-frame.js";
import { DEVICE_STATUS as D, decodeHello, decodeLogs, encodeBegin, encodeWrite, u32At } from "../../../host/format/device-protocol.js";
import { deviceImage } from "../../../host/format/erm-device.js";
import { convertFile } from "../../../firmware-tools/lib/model/convert.js";
import { SIM_MEMORY_CAP_BYTES } from "../../../firmware-tools/lib/mcu-sim/device.js";
import { goldenCases, mlperfModelPath, MlperfName } from "../../helpers/mlperf.js";
import { tinyModel } from "../../helpers/tiny-model.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { DirectDevice, tempDir } from "./harness.js";

const tmp = tempDir("edgerun-device-");
afterAll(() => tmp.remove());
let n = 0;
const device = (residentMaxBytes = 128 * 1024, flashBytes = 1 << 20) => new DirectDevice({ flashPath: join(tmp.dir, `flash-${n++}.bin`), residentMaxBytes, flashBytes });
const images = new Map<string, Uint8Array>();
const image = (name: MlperfName) => images.get(name) ?? images.set(name, deviceImage(convertFile(mlperfModelPath(name)).bytes)).get(name)!;

describe("goldens on the device", () => {
  it.each([
    ["kws", "resident", 128 * 1024],
    ["kws", "streamed", 1024],
    ["ic", "streamed", 1024],
    ["ad", "streamed", 128 * 1024],
  ] as const)("%s, %s weights: every golden output bit for bit, memory within 320 KiB", (name, mode, residentMax) => {
    const d = device(residentMax);
    const c = d.flash(image(name), name, "1.0");
    expect(c.status, `commit: status ${c.status}`).toBe(D.DEV_OK);
    const info = decodeHello(d.req(COMMAND.HELLO).payload);
    expect(info.model).toMatchObject({ name, version: "1.0", mode, imageBytes: image(name).length, generation: 1 });
    expect(info.model!.sha256).toBe(createHash("sha256").update(image(name)).digest("hex"));
    for (const g of goldenCases(name)) {
      const r = d.req(COMMAND.RUN, g.input);
      expect(r.status).toBe(D.DEV_OK);
      expect(Buffer.compare(r.payload.subarray(4), g.output), `${name} ${g.name}`).toBe(0);
    }
    expect(d.mcu.memoryBytes).toBeLessThanOrEqual(SIM_MEMORY_CAP_BYTES);
    if (name === "ad") expect(info.model!.ramBytes, "ad streams: far less RAM than its 274 KB image").toBeLessThan(128 * 1024);
    const log = decodeLogs(d.req(COMMAND.LOGS).payload);
    expect(log.inferences).toBe(goldenCases(name).length);
    expect(log.latenciesUs).toHaveLength(goldenCases(name).length);
  });

  it("the active model survives a reboot (a new instance on the same flash) and RESET", () => {
    const path = join(tmp.dir, "reboot.bin");
    const a = new DirectDevice({ flashPath: path });
    expect(a.flash(image("kws"), "kws", "2").status).toBe(D.DEV_OK);
    a.mcu.close();
    const b = new DirectDevice({ flashPath: path });
    expect(decodeHello(b.req(COMMAND.HELLO).payload).model).toMatchObject({ name: "kws", version: "2", generation: 1 });
    expect(b.req(COMMAND.RESET).status).toBe(D.DEV_OK);
    const g = goldenCases("kws")[0];
    expect(Buffer.compare(b.req(COMMAND.RUN, g.input).payload.subarray(4), g.output)).toBe(0);
  });

  it("A/B: a second model goes to the other slot with the next generation", () => {
    const d = device();
    expect(d.flash(image("kws")).status).toBe(D.DEV_OK);
    expect(d.flash(image("ad")).status).toBe(D.DEV_OK);
    const m = decodeHello(d.req(COMMAND.HELLO).payload).model!;
    expect([m.slot, m.generation]).toEqual([1, 2]);
    expect(d.flash(image("kws")).status).toBe(D.DEV_OK);
    expect(decodeHello(d.req(COMMAND.HELLO).payload).model).toMatchObject({ slot: 0, generation: 3 });
  });
});

describe("verification before activation", () => {
  it("a wrong hash is refused and the previous model stays active", () => {
    const d = device();
    expect(d.flash(image("kws"), "old").status).toBe(D.DEV_OK);
    const c = d.flash(image("ad"), "new", "1", 1024, new Uint8Array(32).fill(7));
    expect(c.status).toBe(D.DEV_HASH_MISMATCH);
    expect(Buffer.from(c.payload).toString("hex")).toBe(createHash("sha256").update(image("ad")).digest("hex"));
    expect(decodeHello(d.req(COMMAND.HELLO).payload).model).toMatchObject({ name: "old", generation: 1 });
    expect(d.req(COMMAND.COMMIT).status, "the failed transfer is gone").toBe(D.DEV_NO_TRANSFER);
  });

  it("a model the runtime refuses is not activated (the old one still runs)", () => {
    const d = device();
    expect(d.flash(image("kws"), "old").status).toBe(D.DEV_OK);
    const bad = deviceImage(writeErm(tinyModel())).slice();
    bad[bad.length - 40] ^= 0xff; // the CRC inside the image no longer matches (the SHA-256 of what was sent does)
    const c = d.flash(bad);
    expect([c.status, u32At(c.payload)]).toEqual([D.DEV_MODEL_REJECTED, 4 /* ERM_CHECKSUM */]);
    expect(decodeHello(d.req(COMMAND.HELLO).payload).model?.name).toBe("old");
    const g = goldenCases("kws")[0];
    expect(Buffer.compare(d.req(COMMAND.RUN, g.input).payload.subarray(4), g.output)).toBe(0);
  });
});

describe("bad input", () => {
  it("garbage bytes and too-long frames get no reply and change nothing", () => {
    const d = device();
    expect(d.raw(Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff))).toHaveLength(0);
    expect(d.raw(Uint8Array.from([0, ...new Uint8Array(MAX_ENCODED_FRAME_BYTES + 100).fill(0x41), 0]))).toHaveLength(0);
    const info = decodeHello(d.req(COMMAND.HELLO).payload);
    expect(info.framesTooLong).toBeGreaterThanOrEqual(1);
    expect(info.framesBad).toBeGreaterThanOrEqual(1);
    expect(info.model).toBeUndefined();
  });

  it("a wrong CRC gets no reply; the same frame intact is then answered", () => {
    const d = device();
    d.req(COMMAND.HELLO);
    const raw = encodeRawFrame({ seq: d.seq, command: COMMAND.LOGS, status: 0, response: false, payload: new Uint8Array(0) });
    raw[raw.length - 2] ^= 0x10;
    expect(d.raw(Uint8Array.from([0, ...cobsEncode(raw), 0]))).toHaveLength(0);
    expect(d.send(COMMAND.LOGS, undefined, d.seq)[0].status).toBe(D.DEV_OK);
  });

  it("out-of-order sequence numbers: one gap report, nothing run; a repeat is answered from the cache, not run twice", () => {
    const d = device();
    expect(d.flash(image("ad")).status).toBe(D.DEV_OK);
    const s = d.seq;
    const input = goldenCases("ad")[0].input;
    const ahead = d.send(COMMAND.RUN, input, s + 2);
    expect(ahead.map((f) => [f.status, u32At(Uint8Array.from([...f.payload, 0, 0]))])).toEqual([[D.DEV_SEQ_GAP, s]]);
    expect(d.send(COMMAND.RUN, input, s + 3), "gap reported once per expected number").toHaveLength(0);
    const first = d.send(COMMAND.RUN, input, s);
    const again = d.send(COMMAND.RUN, input, s);
    expect(Buffer.compare(again[0].payload, first[0].payload)).toBe(0);
    d.seq = s + 1;
    expect(d.send(COMMAND.HELLO)[0].status).toBe(D.DEV_OK);
    const older = d.send(COMMAND.RUN, input, s);
    expect(older[0].status).toBe(D.DEV_DUPLICATE);
    expect(decodeLogs(d.req(COMMAND.LOGS).payload).inferences, "ran exactly once").toBe(1);
  });

  it("misuse: unknown command, WRITE without BEGIN, gaps in offsets, early COMMIT, wrong input size, no model", () => {
    const d = device();
    expect(d.req(99).status).toBe(D.DEV_BAD_COMMAND);
    expect(d.req(COMMAND.RUN, new Uint8Array(10)).status).toBe(D.DEV_NO_MODEL);
    expect(d.req(COMMAND.WRITE, encodeWrite(0, new Uint8Array(8))).status).toBe(D.DEV_NO_TRANSFER);
    const img = image("kws");
    expect(d.req(COMMAND.BEGIN, new Uint8Array(3)).status).toBe(D.DEV_BAD_PAYLOAD);
    expect(d.req(COMMAND.BEGIN, encodeBegin(img.length, createHash("sha256").update(img).digest(), "k", "1")).status).toBe(D.DEV_OK);
    expect(d.req(COMMAND.WRITE, encodeWrite(1024, img.subarray(1024, 2048))).status).toBe(D.DEV_BAD_OFFSET);
    expect(d.req(COMMAND.WRITE, encodeWrite(img.length - 4, new Uint8Array(8))).status).toBe(D.DEV_BAD_OFFSET);
    expect(d.req(COMMAND.WRITE, encodeWrite(0, img.subarray(0, 1024))).status).toBe(D.DEV_OK);
    const early = d.req(COMMAND.COMMIT);
    expect([early.status, u32At(early.payload)]).toEqual([D.DEV_INCOMPLETE, 1024]);
    expect(d.flash(img).status).toBe(D.DEV_OK);
    const wrong = d.req(COMMAND.RUN, new Uint8Array(10));
    expect([wrong.status, u32At(wrong.payload)]).toEqual([D.DEV_BAD_INPUT, goldenCases("kws")[0].input.length]);
  });

  it("a model bigger than a flash slot is refused at BEGIN", () => {
    const d = device(128 * 1024, 256 * 1024);
    const info = decodeHello(d.req(COMMAND.HELLO).payload);
    const img = image("ad");
    expect(info.slotBytes).toBeLessThan(img.length);
    const r = d.req(COMMAND.BEGIN, encodeBegin(img.length, new Uint8Array(32), "ad", "1"));
    expect([r.status, u32At(r.payload)]).toEqual([D.DEV_MODEL_TOO_BIG, info.slotBytes]);
  });

  it("HELLO reports the geometry: slots, memory cap, RAM for a model", () => {
    const info = decodeHello(device().req(COMMAND.HELLO).payload);
    expect(info).toMatchObject({ protocolVersion: 1, memoryCapBytes: SIM_MEMORY_CAP_BYTES, flashBytes: 1 << 20, slotBytes: 520192, maxPayloadBytes: 4096, windowFrames: 8 });
    expect(info.modelRamBytes).toBeGreaterThan(250_000);
    expect(info.modelRamBytes).toBeLessThan(SIM_MEMORY_CAP_BYTES);
  });

  it("a frame that is a reply (response flag) is ignored", () => {
    const d = device();
    expect(d.raw(encodeFrame({ seq: 1, command: COMMAND.HELLO, status: 0, response: true, payload: new Uint8Array(0) }))).toHaveLength(0);
  });
});
