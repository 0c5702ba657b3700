// The device entry points of the MVP build (docs/mcu-abi.md, "Exports"). The C host calls
// device_init once, then for every chunk of received serial bytes copies them to
// device_rx_buffer() (at most device_rx_capacity() bytes) and calls device_rx(n).

import { rtReserve } from "../graph/alloc";
import { configureFlash, placeWorkBuffer, WORK_BUFFER_BYTES } from "./store";
import { placeStreamBuffers, STREAM_BUFFER_BYTES } from "./stream";
import { placeShaBuffers, SHA_BUFFER_BYTES } from "./sha256";
import { placeModelBuffers, MODEL_BUFFER_BYTES } from "./model";
import { placeTransferBuffers, TRANSFER_BUFFER_BYTES } from "./transfer";
import { placeLogBuffer, LOG_BUFFER_BYTES } from "./commands";
import { placeFrameBuffers, FRAME_BUFFER_BYTES } from "./frame";
import { setResidentMax, boot } from "./model";
import { setDeviceId, clearLog } from "./commands";
import { resetLink, receive } from "./link";
import { cancelTransfer } from "./transfer";

const RX_CAPACITY: u32 = 1024;
let rxBuffer: usize = 0;

/** Claims the protocol's buffers (about 15 KiB) below the model region, once. */
function reserveBuffers(): bool {
  if (rxBuffer != 0) return true;
  // Each block is 16-aligned; all of them sit below the model region for good.
  const frames = rtReserve(FRAME_BUFFER_BYTES), work = rtReserve(WORK_BUFFER_BYTES), rx = rtReserve(RX_CAPACITY);
  const stream = rtReserve(STREAM_BUFFER_BYTES), sha = rtReserve(SHA_BUFFER_BYTES), model = rtReserve(MODEL_BUFFER_BYTES);
  const xfer = rtReserve(TRANSFER_BUFFER_BYTES), logs = rtReserve(LOG_BUFFER_BYTES);
  if (frames == 0 || work == 0 || rx == 0 || stream == 0 || sha == 0 || model == 0 || xfer == 0 || logs == 0) return false;
  placeFrameBuffers(frames);
  placeWorkBuffer(work);
  placeStreamBuffers(stream);
  placeShaBuffers(sha);
  placeModelBuffers(model);
  placeTransferBuffers(xfer);
  placeLogBuffer(logs);
  rxBuffer = rx;
  return true;
}

/**
 * Returns 0; 1 when the flash geometry is unusable (sector not a power of two >= 256, fewer than
 * 4 sectors); 2 when the buffers cannot be claimed (a model was loaded through the runtime API first).
 */
export function device_init(flash_bytes: u32, sector_bytes: u32, resident_max_bytes: u32, device_id: i64): i32 {
  if (!configureFlash(flash_bytes, sector_bytes)) return 1;
  if (!reserveBuffers()) return 2;
  setResidentMax(resident_max_bytes);
  setDeviceId(device_id);
  cancelTransfer();
  clearLog();
  resetLink();
  boot();
  return 0;
}

export function device_rx_buffer(): usize {
  return rxBuffer;
}

export function device_rx_capacity(): u32 {
  return RX_CAPACITY;
}

/** Processes n bytes from device_rx_buffer(); returns the number of valid frames among them, or -1 if n is too big. */
export function device_rx(n: u32): i32 {
  if (n > RX_CAPACITY) return -1;
  return receive(rxBuffer, n);
}
