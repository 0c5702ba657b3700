// qs8 pooling, scalar variants for the MVP build (WASM3 interprets every instruction, so
// fewer instructions per tap is what counts). Bit-exact to pool/ref.ts.
//
// qs8_avgpool_4c__mvp sums 4 channels per 32-bit load (SWAR): each byte is biased to
// unsigned (x ^ 0x80 = x + 128) and bytes 0/2 and 1/3 accumulate in the two 16-bit halves of
// two i32 accumulators; 256 taps of 255 stay below 2^16, so halves never carry into each
// other. The bias (128 * count) is removed per channel afterwards.
// Layout and preconditions as in ref.ts. Windows over 256 taps and the channel tail (C % 4)
// take the plain per-channel loop.

import { PoolArgs } from "../args";
import { clampI32 } from "../common/fixedpoint";
import { roundedAverage } from "./ref";

const SWAR_MAX_TAPS: i32 = 256;

// @ts-ignore: decorator
@inline function finish(sumBiased: i32, bias: i32, count: i32, a: PoolArgs): i8 {
  return <i8>clampI32(roundedAverage(sumBiased - bias, count), a.actMin, a.actMax);
}

export function qs8_avgpool_4c__mvp(a: PoolArgs): void {
  const C = a.channels;
  const rowBytes = a.inW * C;
  for (let oy = 0; oy < a.outH; oy++) {
    const y0 = oy * a.strideH - a.padTop;
    const fyStart = max(0, -y0);
    const rows = min(a.filterH, a.inH - y0) - fyStart;
    for (let ox = 0; ox < a.outW; ox++) {
      const x0 = ox * a.strideW - a.padLeft;
      const fxStart = max(0, -x0);
      const cols = min(a.filterW, a.inW - x0) - fxStart;
      const out = a.output + <usize>((oy * a.outW + ox) * C);
      if (rows <= 0 || cols <= 0) {
        memory.fill(out, <u8>clampI32(0, a.actMin, a.actMax), <usize>C);
        continue;
      }
      const count = rows * cols;
      const base = a.input + <usize>((y0 + fyStart) * rowBytes + (x0 + fxStart) * C);
      let c = 0;
      if (count <= SWAR_MAX_TAPS) {
        const bias = count << 7;
        for (; c + 4 <= C; c += 4) {
          let even: u32 = 0;
          let odd: u32 = 0;
          let row = base + <usize>c;
          for (let fy = 0; fy < rows; fy++) {
            let p = row;
            for (let fx = 0; fx < cols; fx++) {
              const v = load<u32>(p) ^ 0x80808080;
              even += v & 0x00ff00ff;
              odd += (v >>> 8) & 0x00ff00ff;
              p += <usize>C;
            }
            row += <usize>rowBytes;
          }
          store<i8>(out + <usize>c, finish(<i32>(even & 0xffff), bias, count, a));
          store<i8>(out + <usize>(c + 1), finish(<i32>(odd & 0xffff), bias, count, a));
          store<i8>(out + <usize>(c + 2), finish(<i32>(even >>> 16), bias, count, a));
          store<i8>(out + <usize>(c + 3), finish(<i32>(odd >>> 16), bias, count, a));
        }
      }
      for (; c < C; c++) {
        let sum = 0;
        let row = base + <usize>c;
        for (let fy = 0; fy < rows; fy++) {
          let p = row;
          for (let fx = 0; fx < cols; fx++) {
            sum += <i32>load<i8>(p);
            p += <usize>C;
          }
          row += <usize>rowBytes;
        }
        store<i8>(out + <usize>c, finish(sum, 0, count, a));
      }
    }
  }
}

/**
 * MAX_POOL_2D, scalar: window bounds hoisted per output pixel, pointers stepped instead of
 * indices multiplied, four channels per pass in four registers. Bit-exact to the reference.
 */
export function qs8_maxpool_4c__mvp(a: PoolArgs): void {
  const C = a.channels;
  const rowBytes = a.inW * C;
  for (let oy = 0; oy < a.outH; oy++) {
    const y0 = oy * a.strideH - a.padTop;
    const fyStart = max(0, -y0);
    const rows = min(a.filterH, a.inH - y0) - fyStart;
    for (let ox = 0; ox < a.outW; ox++) {
      const x0 = ox * a.strideW - a.padLeft;
      const fxStart = max(0, -x0);
      const cols = min(a.filterW, a.inW - x0) - fxStart;
      const out = a.output + <usize>((oy * a.outW + ox) * C);
      const base = a.input + <usize>((y0 + fyStart) * rowBytes + (x0 + fxStart) * C);
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        let m0: i32 = -128;
        let m1: i32 = -128;
        let m2: i32 = -128;
        let m3: i32 = -128;
        let row = base + <usize>c;
        for (let fy = 0; fy < rows; fy++) {
          let p = row;
          for (let fx = 0; fx < cols; fx++) {
            m0 = max(m0, <i32>load<i8>(p));
            m1 = max(m1, <i32>load<i8>(p, 1));
            m2 = max(m2, <i32>load<i8>(p, 2));
            m3 = max(m3, <i32>load<i8>(p, 3));
            p += <usize>C;
          }
          row += <usize>rowBytes;
        }
        store<i8>(out + <usize>c, <i8>clampI32(m0, a.actMin, a.actMax));
        store<i8>(out + <usize>c, <i8>clampI32(m1, a.actMin, a.actMax), 1);
        store<i8>(out + <usize>c, <i8>clampI32(m2, a.actMin, a.actMax), 2);
        store<i8>(out + <usize>c, <i8>clampI32(m3, a.actMin, a.actMax), 3);
      }
      for (; c < C; c++) {
        let m: i32 = -128;
        let row = base + <usize>c;
        for (let fy = 0; fy < rows; fy++) {
          let p = row;
          for (let fx = 0; fx < cols; fx++) {
            m = max(m, <i32>load<i8>(p));
            p += <usize>C;
          }
          row += <usize>rowBytes;
        }
        store<i8>(out + <usize>c, <i8>clampI32(m, a.actMin, a.actMax));
      }
    }
  }
}
