import { FcArgs, shiftAt } from "../args";
import { requantizeScalar } from "../common/fused-add";

/** Requantizes outputs o..o+3 (bias added here); the argument fields are read once into locals. */
function finish4(a: FcArgs, out: usize, o: i32, a0: i32, a1: i32, a2: i32, a3: i32): void {
  if (a.bias != 0) {
    const b = a.bias + (<usize>o << 2);
    a0 += load<i32>(b); a1 += load<i32>(b, 4); a2 += load<i32>(b, 8); a3 += load<i32>(b, 12);
  }
  const ms = <usize>a.multStride;
  const ss = ms >> 2; // shifts are int8
  const pm = a.mult + <usize>o * ms, ps = a.shift + <usize>o * ss;
  const outOff = a.outputOffset, lo = a.actMin, hi = a.actMax;
  const q = out + <usize>o;
  store<i8>(q, requantizeScalar(a0, load<i32>(pm), <i32>load<i8>(ps), outOff, lo, hi));
  store<i8>(q, requantizeScalar(a1, load<i32>(pm + ms), <i32>load<i8>(ps + ss), outOff, lo, hi), 1);
  store<i8>(q, requantizeScalar(a2, load<i32>(pm + 2 * ms), <i32>load<i8>(ps + 2 * ss), outOff, lo, hi), 2);
  store<i8>(q, requantizeScalar(a3, load<i32>(pm + 3 * ms), <i32>load<i8>(ps + 3 * ss), outOff, lo, hi), 3);
}

// @ts-ignore: decorator
@inline function finish(a: FcArgs, acc: i32, o: i32, out: usize): void {
  if (a.bias != 0) acc += load<i32>(a.bias + (<usize>o << 2));
  store<i8>(out + <usize>o, requantizeScalar(acc, load<i32>(a.mult + <usize>(o * a.multStride)),
    shiftAt(a.shift, o, a.multStride), a.outputOffset, a.actMin, a.actMax));
}

/**
 * qs8_fc_1x4__mvp: FULLY_CONNECTED int8 as qs8_fc__ref, scalar for the MVP build: 4 output
 * channels share each input load, depth unrolled by 8 through immediate offsets; the last
 * outC % 4 channels one by one. The 4-output epilogue (finish4) is out of line: V8 allocates
 * registers per function, and the smaller loop function measured about 12% faster. Layouts as
 * the reference; no scratch, no allocation; plain i32 arithmetic (see conv2d/mvp.ts).
 */
export function qs8_fc_1x4__mvp(a: FcArgs): void {
  const D = a.depth, off = a.inputOffset;
  const o4 = a.outC & ~3;
  for (let b = 0; b < a.batches; b++) {
    const x = a.input + <usize>(b * D);
    const out = a.output + <usize>(b * a.outC);
    for (let o = 0; o < o4; o += 4) {
      let w0 = a.filter + <usize>(o * D), w1 = w0 + <usize>D, w2 = w1 + <usize>D, w3 = w2 + <usize>D;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let px = x;
      const end8 = x + <usize>(D & ~7), end = x + <usize>D;
      let v = 0;
      // Eight inputs per iteration through immediate offsets: one pointer update per row.
      while (px < end8) {
        v = <i32>load<i8>(px, 0) + off;
        a0 += v * <i32>load<i8>(w0, 0); a1 += v * <i32>load<i8>(w1, 0);
        a2 += v * <i32>load<i8>(w2, 0); a3 += v * <i32>load<i8>(w3, 0);
        v = <i32>load<i8>(px, 1) + off;
        a0 += v * <i32>load<i8>(w0, 1); a1 += v * <i32>load<i8>(w1, 1);
        a2 += v * <i32>load<i8>(w2, 1); a3 += v * <i32>load<i8>(w3, 1);
        v = <i32>load<i8>(px, 2) + off;
        a0 += v * <i32>load<i8>(w0, 2); a1 += v * <i32>load<i8>(w1, 2);
        a2 += v * <i32>load<i8>(w2, 2); a3 += v * <i32>load<i8>(w3, 2);
        v = <i32>load<i8>(px, 3) + off;
        a0 += v * <i32>load<i8>(w0, 3); a1 += v * <i32>load<i8>(w1, 3);
        a2 += v * <i32>load<i8>(w2, 3); a3 += v * <i32>load<i8>(w3, 3);
        v = <i32>load<i8>(px, 4) + off;
        a0 += v * <i32>load<i8>(w0, 4); a1 += v * <i32>load<i8>(w1, 4);
        a2 += v * <i32>load<i8>(w2, 4); a3 += v * <i32>load<i8>(w3, 4);
        v = <i32>load<i8>(px, 5) + off;
        a0 += v * <i32>load<i8>(w0, 5); a1 += v * <i32>load<i8>(w1, 5);
        a2 += v * <i32>load<i8>(w2, 5); a3 += v * <i32>load<i8>(w3, 5);
        v = <i32>load<i8>(px, 6) + off;
        a0 += v * <i32>load<i8>(w0, 6); a1 += v * <i32>load<i8>(w1, 6);
        a2 += v * <i32>load<i8>(w2, 6); a3 += v * <i32>load<i8>(w3, 6);
        v = <i32>load<i8>(px, 7) + off;
        a0 += v * <i32>load<i8>(w0, 7); a1 += v * <i32>load<i8>(w1, 7);
        a2 += v * <i32>load<i8>(w2, 7); a3 += v * <i32>load<i8>(w3, 7);
        px += 8; w0 += 8; w1 += 8; w2 += 8; w3 += 8;
      }
      while (px < end) {
        v = <i32>load<i8>(px, 0) + off;
        a0 += v * <i32>load<i8>(w0, 0); a1 += v * <i32>load<i8>(w1, 0);
        a2 += v * <i32>load<i8>(w2, 0); a3 += v * <i32>load<i8>(w3, 0);
        px++; w0++; w1++; w2++; w3++;
      }
      finish4(a, out, o, a0, a1, a2, a3);
    }
    for (let o = o4; o < a.outC; o++) {
      const w = a.filter + <usize>(o * D);
      let acc = 0;
      for (let d = 0; d < D; d++) acc += (<i32>load<i8>(x + <usize>d) + off) * <i32>load<i8>(w + <usize>d);
      finish(a, acc, o, out);
    }
  }
}
