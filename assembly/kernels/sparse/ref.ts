import { SparseArgs, channelMult, channelShift } from "./args";
import { requantize, storeOutput } from "../common/fused-add";

/**
 * qs8_spmm__ref: FULLY_CONNECTED_SPARSE / CONV_2D_SPARSE, the specification: the dense reference
 * (qs8_fc__ref, qs8_conv2d__ref on a 1x1 filter) summed over the stored weights only, walking the
 * blob exactly as it is written (see SparseArgs). Plain loops, no tiling.
 */
export function qs8_spmm__ref(a: SparseArgs): void {
  const R = a.R, C = a.C;
  for (let oy = 0; oy < a.outH; oy++) {
    for (let ox = 0; ox < a.outW; ox++) {
      const x = a.input + <usize>(oy * a.rowStride + ox * a.colStride);
      const pix = <usize>((oy * a.outW + ox) * a.N);
      let k = 0; // first block of the group
      for (let g = 0; g < a.N / R; g++) {
        const n = <i32>load<u16>(a.counts + (<usize>g << 1));
        for (let r = 0; r < R; r++) {
          const o = g * R + r;
          let acc = 0;
          let col = 0;
          for (let j = 0; j < n; j++) {
            col += <i32>load<u8>(a.steps + <usize>(k + j));
            for (let c = 0; c < C; c++) {
              const xv = <i32>load<i8>(x + <usize>(col * C + c));
              const w = <i32>load<i8>(a.values + <usize>(((k + j) * R + r) * C + c));
              acc += (xv + a.inputOffset) * w;
            }
          }
          if (a.bias != 0) acc += load<i32>(a.bias + (<usize>o << 2));
          const q = requantize(acc, channelMult(a, o), channelShift(a, o), a.outputOffset, a.actMin, a.actMax);
          storeOutput(a.output, pix + <usize>o, q, a.residual, a.add);
        }
        k += n;
      }
    }
  }
}
