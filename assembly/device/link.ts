// Sequencing (docs/mcu-abi.md, "Sequence numbers and acknowledgements"). The operator sends
// requests with 16-bit sequence numbers, up to a window of them in flight; every request is
// answered with the same number. The device runs requests strictly in order:
//   seq == expected       run it, answer, expected + 1 (the answer is kept for a resend)
//   seq ahead of expected a frame was lost: answer DEV_SEQ_GAP with the expected number, once
//                         per expected number (the operator rewinds; its timer covers a lost gap)
//   seq behind expected   already run: resend the kept answer if it is that frame's, else
//                         DEV_DUPLICATE with the expected number (never run twice)
// HELLO always resynchronises (expected = its seq); after boot or RESET the first frame does.

import { feedByte, FEED_FRAME, FLAG_RESPONSE, rxFlags, rxSeq, rxCommand, rxPayload, rxPayloadBytes,
  sendResponse, sendSmall, resendCached, cachedSeq, resetFrames, framesBad, framesTooLong, FEED_BAD, FEED_TOO_LONG } from "./frame";
import { dispatch, commandStatus, CMD_HELLO, CMD_RESET, clearLog } from "./commands";
import { cancelTransfer } from "./transfer";
import { boot } from "./model";
import { logEvent, EV_FRAME_DROPPED } from "./abi";
import * as D from "./status";

let synced = false;
let expected: u32 = 0;
let gapReportedFor: i32 = -1;

export function resetLink(): void {
  synced = false;
  expected = 0;
  gapReportedFor = -1;
  resetFrames();
}

/** Feeds received bytes; returns the number of complete, valid frames among them. */
export function receive(p: usize, n: u32): i32 {
  let frames: i32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const r = feedByte(load<u8>(p + i));
    if (r == FEED_FRAME) {
      frames++;
      onFrame();
    } else if (r == FEED_BAD) logEvent(EV_FRAME_DROPPED, 1, framesBad);
    else if (r == FEED_TOO_LONG) logEvent(EV_FRAME_DROPPED, 2, framesTooLong);
  }
  return frames;
}

function onFrame(): void {
  if ((rxFlags() & FLAG_RESPONSE) != 0) return; // our own kind of frame echoed back: ignore
  const seq = rxSeq(), cmd = rxCommand();
  if (cmd == CMD_HELLO || !synced) {
    synced = true;
    expected = seq;
    gapReportedFor = -1;
  }
  const d = (seq - expected) & 0xffff;
  if (d == 0) {
    expected = (expected + 1) & 0xffff;
    gapReportedFor = -1;
    const n = dispatch(cmd, rxPayload(), rxPayloadBytes());
    sendResponse(seq, cmd, commandStatus(), n);
    if (cmd == CMD_RESET) softReset();
  } else if (d < 0x8000) {
    if (gapReportedFor != <i32>expected) sendSmall(seq, cmd, D.DEV_SEQ_GAP, expected);
    gapReportedFor = <i32>expected;
  } else if (<i32>seq == cachedSeq) {
    resendCached();
  } else {
    sendSmall(seq, cmd, D.DEV_DUPLICATE, expected);
  }
}

/** RESET: the same state as after device_init (the transfer and the latency log are dropped). */
export function softReset(): void {
  cancelTransfer();
  clearLog();
  resetLink();
  boot();
}
