// Flashing a model: check the fit, BEGIN (the device says how much of this same image it already
// has: a broken transfer resumes there), WRITE the rest through the window, COMMIT (the device
// hashes the slot, loads the model, then records it). A broken line or a silent device during the
// transfer is retried from the device's count, a bounded number of times.

import { createHash } from "node:crypto";
import { EdgerunError } from "../../../host/format/errors.js";
import { readErm } from "../../../host/format/erm-reader.js";
import { deviceImage } from "../../../host/format/erm-device.js";
import { COMMAND } from "../../../host/format/serial-frame.js";
import { DEVICE_STATUS, deviceStatusName, encodeBegin, encodeWrite, u32At, MODE_NAMES } from "../../../host/format/device-protocol.js";
import { statusName } from "../../../host/format/status.js";
import { DeviceClient } from "./client.js";
import { estimateFit, checkFit, FitEstimate } from "./fit.js";

export interface FlashOptions {
  /** Model name and version recorded on the device (default: the .erm metadata). */
  name?: string;
  version?: string;
  /** Send even when the device already runs this exact image. */
  force?: boolean;
  /** Image bytes per WRITE frame. Default 1024. */
  chunkBytes?: number;
  /** WRITE frames in flight. Default: the device's advertised window. */
  window?: number;
  /** Times a broken transfer is resumed within this call. Default 3. */
  resumeAttempts?: number;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Called once per resume, with the error that interrupted the transfer. */
  onResume?: (error: EdgerunError, fromBytes: number) => void;
}

export interface FlashResult {
  imageBytes: number;
  sha256: string;
  alreadyActive: boolean;
  /** Where the first BEGIN said the device already was (a resumed earlier transfer). */
  startedAtBytes: number;
  resumes: number;
  retransmits: number;
  elapsedMs: number;
  /** Image bytes sent per second over the transfer (WRITE phase only). */
  bytesPerSec: number;
  generation: number;
  mode: string;
  fit: FitEstimate;
}

const RESUMABLE = new Set(["SERIAL_TIMEOUT", "SERIAL_PORT_CLOSED", "SERIAL_PORT_ERROR"]);

export async function flashModel(client: DeviceClient, erm: Uint8Array, opts: FlashOptions = {}): Promise<FlashResult> {
  const model = readErm(erm);
  const image = deviceImage(erm);
  const sha = createHash("sha256").update(image).digest();
  await client.hello(); // current model, transfer in progress and free figures, not those of connect time
  const fit = estimateFit(erm, model, image, client.info.residentMaxBytes);
  checkFit(client.info, fit);
  const base = { imageBytes: image.length, sha256: sha.toString("hex"), fit, resumes: 0, retransmits: 0 };
  if (!opts.force && client.info.model?.sha256 === base.sha256) {
    return { ...base, alreadyActive: true, startedAtBytes: image.length, elapsedMs: 0, bytesPerSec: 0, generation: client.info.model.generation, mode: client.info.model.mode };
  }
  const begin = encodeBegin(image.length, sha, opts.name ?? model.meta.name ?? "model", opts.version ?? model.meta.version ?? "0");
  const t0 = performance.now();
  let startedAtBytes = -1, sendMs = 0, sentBytes = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const from = await beginTransfer(client, begin);
      if (startedAtBytes < 0) startedAtBytes = from;
      const t1 = performance.now();
      await sendImage(client, image, from, opts);
      sendMs += performance.now() - t1;
      sentBytes += image.length - from;
      break;
    } catch (e) {
      if (!(e instanceof EdgerunError) || !RESUMABLE.has(e.code) || attempt >= (opts.resumeAttempts ?? 3)) throw e;
      base.resumes++;
      opts.onResume?.(e, client.info.transfer?.receivedBytes ?? 0);
      await client.reconnect();
    }
  }
  base.retransmits = client.link.stats.retransmits;
  const done = await commit(client);
  return { ...base, ...done, alreadyActive: false, startedAtBytes, elapsedMs: performance.now() - t0, bytesPerSec: sendMs > 0 ? (sentBytes * 1000) / sendMs : 0 };
}

async function beginTransfer(client: DeviceClient, begin: Uint8Array): Promise<number> {
  const f = await client.link.request(COMMAND.BEGIN, begin);
  if (f.status === DEVICE_STATUS.DEV_MODEL_TOO_BIG) {
    throw new EdgerunError("DEVICE_TOO_SMALL", "the device refused the image: larger than its flash slot", { expected: u32At(f.payload), what: "flash" });
  }
  if (f.status !== DEVICE_STATUS.DEV_OK) throw new EdgerunError("FLASH_REFUSED", `BEGIN failed: ${deviceStatusName(f.status)}`, { status: deviceStatusName(f.status) });
  return u32At(f.payload);
}

async function sendImage(client: DeviceClient, image: Uint8Array, from: number, opts: FlashOptions): Promise<void> {
  const chunk = Math.min(opts.chunkBytes ?? 1024, client.info.maxPayloadBytes - 4);
  const count = Math.ceil((image.length - from) / chunk);
  opts.onProgress?.(from, image.length);
  if (count === 0) return;
  const payload = (i: number) => {
    const at = from + i * chunk;
    return encodeWrite(at, image.subarray(at, Math.min(at + chunk, image.length)));
  };
  await client.link.writeWindow(count, payload, opts.window ?? Math.max(1, client.info.windowFrames), (reply) => opts.onProgress?.(u32At(reply.payload), image.length));
}

async function commit(client: DeviceClient): Promise<{ generation: number; mode: string }> {
  const f = await client.link.request(COMMAND.COMMIT, new Uint8Array(0), client.opts.commitTimeoutMs ?? 20_000);
  switch (f.status) {
    case DEVICE_STATUS.DEV_OK:
      return { generation: u32At(f.payload), mode: MODE_NAMES[f.payload[8]] ?? "resident" };
    case DEVICE_STATUS.DEV_HASH_MISMATCH:
      throw new EdgerunError("FLASH_HASH_MISMATCH", "the image in the device's flash does not hash to what was sent; the previous model stays active", { actual: Buffer.from(f.payload).toString("hex") });
    case DEVICE_STATUS.DEV_OUT_OF_MEMORY:
      throw new EdgerunError("DEVICE_TOO_SMALL", "the device ran out of RAM loading the model; the previous model stays active", { what: "ram" });
    case DEVICE_STATUS.DEV_MODEL_REJECTED:
      throw new EdgerunError("FLASH_MODEL_REJECTED", `the device's runtime refused the model: ${statusName(u32At(f.payload))}; the previous model stays active`, { status: statusName(u32At(f.payload)), offset: new DataView(f.payload.buffer, f.payload.byteOffset).getInt32(4, true) });
    case DEVICE_STATUS.DEV_INCOMPLETE:
      throw new EdgerunError("FLASH_INCOMPLETE", "COMMIT before the whole image arrived", { actual: u32At(f.payload) });
    default:
      throw new EdgerunError("FLASH_FAILED", `COMMIT failed: ${deviceStatusName(f.status)}; the previous model stays active`, { status: deviceStatusName(f.status) });
  }
}
