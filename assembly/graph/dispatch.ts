// Op dispatch: opcode -> kernel family entry. One switch for run, one for load-time packing.

import * as OP from "./opcodes";
import { ConvArgs, FcArgs, PoolArgs, AddArgs, SoftmaxArgs, QuantArgs, MeanArgs, ConcatArgs, PadArgs } from "../kernels/args";
import { conv2dRun, conv2dPrepare } from "../kernels/conv2d/index";
import { depthwiseRun, depthwisePrepare } from "../kernels/depthwise/index";
import { fcRun, fcPrepare } from "../kernels/fc/index";
import { avgPoolRun, maxPoolRun } from "../kernels/pool/index";
import { addRun } from "../kernels/add/index";
import { softmaxRun } from "../kernels/softmax/index";
import { quantizeRun } from "../kernels/quantize/index";
import { meanRun } from "../kernels/mean/index";
import { concatRun } from "../kernels/concat/index";
import { padRun } from "../kernels/pad/index";
import { SparseArgs } from "../kernels/sparse/args";
import { sparseRun, sparsePrepare } from "../kernels/sparse/index";
import { MulArgs } from "../kernels/mul/args";
import { mulRun } from "../kernels/mul/index";
import { ActArgs } from "../kernels/activation/args";
import { activationRun } from "../kernels/activation/index";
import * as S from "../format/status";

export function runOp(code: i32, args: usize, tier: i32): void {
  switch (code) {
    case OP.OP_CONV_2D: conv2dRun(changetype<ConvArgs>(args), tier); break;
    case OP.OP_DEPTHWISE_CONV_2D: depthwiseRun(changetype<ConvArgs>(args), tier); break;
    case OP.OP_FULLY_CONNECTED: fcRun(changetype<FcArgs>(args), tier); break;
    case OP.OP_AVERAGE_POOL_2D: avgPoolRun(changetype<PoolArgs>(args), tier); break;
    case OP.OP_MAX_POOL_2D: maxPoolRun(changetype<PoolArgs>(args), tier); break;
    case OP.OP_ADD: addRun(changetype<AddArgs>(args), tier); break;
    case OP.OP_RESHAPE: {
      const src = load<usize>(args), dst = load<usize>(args, sizeof<usize>());
      if (src != dst) memory.copy(dst, src, load<usize>(args, 2 * sizeof<usize>()));
      break;
    }
    case OP.OP_SOFTMAX: softmaxRun(changetype<SoftmaxArgs>(args), tier); break;
    case OP.OP_QUANTIZE:
    case OP.OP_DEQUANTIZE: quantizeRun(changetype<QuantArgs>(args), tier); break;
    case OP.OP_MEAN: meanRun(changetype<MeanArgs>(args), tier); break;
    case OP.OP_CONCATENATION: concatRun(changetype<ConcatArgs>(args), tier); break;
    case OP.OP_PAD: padRun(changetype<PadArgs>(args), tier); break;
    case OP.OP_MUL: mulRun(changetype<MulArgs>(args), tier); break;
    case OP.OP_LOGISTIC:
    case OP.OP_TANH:
    case OP.OP_HARD_SWISH:
    case OP.OP_LEAKY_RELU: activationRun(changetype<ActArgs>(args), tier); break;
    case OP.OP_FULLY_CONNECTED_SPARSE:
    case OP.OP_CONV_2D_SPARSE: sparseRun(changetype<SparseArgs>(args), tier); break;
    default: break; // unreachable: prepare rejected unknown opcodes
  }
}

/** Load-time weight packing (SIMD build); the MVP build allocates nothing here. */
export function prepareKernels(code: i32, args: usize): i32 {
  if (code == OP.OP_CONV_2D) conv2dPrepare(changetype<ConvArgs>(args));
  else if (code == OP.OP_DEPTHWISE_CONV_2D) depthwisePrepare(changetype<ConvArgs>(args));
  else if (code == OP.OP_FULLY_CONNECTED) fcPrepare(changetype<FcArgs>(args));
  else if (code == OP.OP_FULLY_CONNECTED_SPARSE || code == OP.OP_CONV_2D_SPARSE) sparsePrepare(changetype<SparseArgs>(args));
  return S.OK;
}
