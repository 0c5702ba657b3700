import { ConvArgs, shiftAt } from "../args";
import { requantize, storeOutput } from "../common/fused-add";

/**
 * qs8_conv2d__ref: CONV_2D int8, the specification (TFLM reference_integer_ops::ConvPerChannel).
 * out[oy][ox][oc] = requant(sum_{kh,kw,ic} (in[iy][ix][ic] + inputOffset) * w[oc][kh][kw][ic] + bias[oc])
 * with iy = oy*strideH - padTop + kh*dilH (same for x); taps outside the image are skipped.
 * Layouts: input NHWC (one batch item), filter OHWI, output NHWC, bias int32 or 0.
 * With residual != 0 each requantized value q becomes ADD(q, residual[i]) (see storeOutput).
 */
export function qs8_conv2d__ref(a: ConvArgs): void {
  for (let oy = 0; oy < a.outH; oy++) {
    for (let ox = 0; ox < a.outW; ox++) {
      for (let oc = 0; oc < a.outC; oc++) {
        let acc = 0;
        for (let kh = 0; kh < a.kH; kh++) {
          const iy = oy * a.strideH - a.padTop + kh * a.dilH;
          if (iy < 0 || iy >= a.inH) continue;
          for (let kw = 0; kw < a.kW; kw++) {
            const ix = ox * a.strideW - a.padLeft + kw * a.dilW;
            if (ix < 0 || ix >= a.inW) continue;
            for (let ic = 0; ic < a.inC; ic++) {
              const x = <i32>load<i8>(a.input + <usize>((iy * a.inW + ix) * a.inC + ic));
              const w = <i32>load<i8>(a.filter + <usize>(((oc * a.kH + kh) * a.kW + kw) * a.inC + ic));
              acc += (x + a.inputOffset) * w;
            }
          }
        }
        if (a.bias != 0) acc += load<i32>(a.bias + (<usize>oc << 2));
        const q = requantize(acc, load<i32>(a.mult + <usize>(oc * a.multStride)),
          shiftAt(a.shift, oc, a.multStride), a.outputOffset, a.actMin, a.actMax);
        storeOutput(a.output, <usize>((oy * a.outW + ox) * a.outC + oc), q, a.residual, a.add);
      }
    }
  }
}
