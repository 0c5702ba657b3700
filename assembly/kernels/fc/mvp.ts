import { FcArgs } from "../args";
import { requantizeScalar } from "../common/fused-add";

// @ts-ignore: decorator
@inline function finish(a: FcArgs, acc: i32, o: i32, out: usize): void {
  if (a.bias != 0) acc += load<i32>(a.bias + (<usize>o << 2));
  store<i8>(out + <usize>o, requantizeScalar(acc, load<i32>(a.mult + <usize>(o * a.multStride)),
    load<i32>(a.shift + <usize>(o * a.multStride)), a.outputOffset, a.actMin, a.actMax));
}

/**
 * qs8_fc_1x4__mvp: FULLY_CONNECTED int8 as qs8_fc__ref, scalar for the MVP build: 4 output
 * channels share each input load, depth unrolled by 2; the last outC % 4 channels one by one.
 * Layouts as the reference; no scratch, no allocation.
 */
export function qs8_fc_1x4__mvp(a: FcArgs): void {
  const D = a.depth, off = a.inputOffset;
  const o4 = a.outC & ~3;
  for (let b = 0; b < a.batches; b++) {
    const x = a.input + <usize>(b * D);
    const out = a.output + <usize>(b * a.outC);
    for (let o = 0; o < o4; o += 4) {
      const w0 = a.filter + <usize>(o * D), w1 = w0 + <usize>D, w2 = w1 + <usize>D, w3 = w2 + <usize>D;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let d = 0;
      for (; d + 2 <= D; d += 2) {
        const j = <usize>d;
        let v = <i32>load<i8>(x + j) + off;
        a0 += v * <i32>load<i8>(w0 + j); a1 += v * <i32>load<i8>(w1 + j);
        a2 += v * <i32>load<i8>(w2 + j); a3 += v * <i32>load<i8>(w3 + j);
        v = <i32>load<i8>(x + j, 1) + off;
        a0 += v * <i32>load<i8>(w0 + j, 1); a1 += v * <i32>load<i8>(w1 + j, 1);
        a2 += v * <i32>load<i8>(w2 + j, 1); a3 += v * <i32>load<i8>(w3 + j, 1);
      }
      if (d < D) {
        const j = <usize>d;
        const v = <i32>load<i8>(x + j) + off;
        a0 += v * <i32>load<i8>(w0 + j); a1 += v * <i32>load<i8>(w1 + j);
        a2 += v * <i32>load<i8>(w2 + j); a3 += v * <i32>load<i8>(w3 + j);
      }
      finish(a, a0, o, out); finish(a, a1, o + 1, out); finish(a, a2, o + 2, out); finish(a, a3, o + 3, out);
    }
    for (let o = o4; o < a.outC; o++) {
      const w = a.filter + <usize>(o * D);
      let acc = 0;
      for (let d = 0; d < D; d++) acc += (<i32>load<i8>(x + <usize>d) + off) * <i32>load<i8>(w + <usize>d);
      finish(a, acc, o, out);
    }
  }
}
