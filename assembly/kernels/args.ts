// Resolved kernel arguments. The interpreter fills one of these per op at load time
// (pointers into the model and the arena, shapes, precomputed requantization constants);
// kernels read them and trust them: all validation happened in prepare.
// Layouts: activations NHWC int8 (batch handled by the caller: one call per batch item
// for conv/depthwise/pool), conv filters OHWI int8, depthwise filters 1HWO int8,
// fully-connected filters [outC][depth] int8, biases int32 (0 pointer: no bias),
// per-channel multipliers an int32 array indexed by output channel times multStride (multStride
// 4 = per channel, 0 = one value for the whole tensor), shifts an int8 array beside it (read
// with shiftAt: index times multStride / 4).

/** Requantization shift of output channel ch: shifts are int8, one per channel or one in all (multStride 0). */
// @ts-ignore: decorator
@inline export function shiftAt(shift: usize, ch: i32, multStride: i32): i32 {
  return <i32>load<i8>(shift + <usize>(ch * (multStride >> 2)));
}

/** Requantizing ADD parameters (TFLite spec, left shift 20). Also used when an ADD is fused into a conv. */
@unmanaged export class AddParams {
  in1Offset: i32 = 0; // -zero point of input 1
  in2Offset: i32 = 0; // -zero point of input 2
  leftShift: i32 = 20;
  in1Mult: i32 = 0;
  in1Shift: i32 = 0;
  in2Mult: i32 = 0;
  in2Shift: i32 = 0;
  outMult: i32 = 0;
  outShift: i32 = 0;
  outOffset: i32 = 0; // zero point of the output
  actMin: i32 = -128;
  actMax: i32 = 127;
}

/** CONV_2D and DEPTHWISE_CONV_2D. */
@unmanaged export class ConvArgs {
  input: usize = 0;
  inH: i32 = 0;
  inW: i32 = 0;
  inC: i32 = 0;
  filter: usize = 0;
  kH: i32 = 0;
  kW: i32 = 0;
  bias: usize = 0;
  output: usize = 0;
  outH: i32 = 0;
  outW: i32 = 0;
  outC: i32 = 0;
  strideH: i32 = 1;
  strideW: i32 = 1;
  dilH: i32 = 1;
  dilW: i32 = 1;
  padTop: i32 = 0;
  padLeft: i32 = 0;
  inputOffset: i32 = 0; // -zero point of the input
  outputOffset: i32 = 0; // zero point of the output
  mult: usize = 0;
  shift: usize = 0;
  multStride: i32 = 4;
  actMin: i32 = -128;
  actMax: i32 = 127;
  depthMultiplier: i32 = 1; // depthwise only: outC == inC * depthMultiplier
  /** Fused ADD: 0 = none. Otherwise output[i] = add(conv[i], residual[i]); residual may alias output. */
  residual: usize = 0;
  add: AddParams | null = null;
  /** Scratch memory planned for this op (bytes given by the kernel family's scratch formula). */
  scratch: usize = 0;
  scratchBytes: i32 = 0;
  /** Weights re-laid out at load by the family's prepare (SIMD build only; 0 = use filter). */
  packed: usize = 0;
}

/** FULLY_CONNECTED: output[b][o] = requant(sum_d (in[b][d] + inputOffset) * filter[o][d] + bias[o]). */
@unmanaged export class FcArgs {
  input: usize = 0;
  batches: i32 = 1;
  depth: i32 = 0;
  filter: usize = 0;
  bias: usize = 0;
  output: usize = 0;
  outC: i32 = 0;
  inputOffset: i32 = 0;
  outputOffset: i32 = 0;
  mult: usize = 0;
  shift: usize = 0;
  multStride: i32 = 4;
  actMin: i32 = -128;
  actMax: i32 = 127;
  scratch: usize = 0;
  scratchBytes: i32 = 0;
  /** Weights re-laid out at load by the family's prepare (SIMD build only; 0 = use filter). */
  packed: usize = 0;
}

/** AVERAGE_POOL_2D and MAX_POOL_2D (input and output share scale and zero point). */
@unmanaged export class PoolArgs {
  input: usize = 0;
  inH: i32 = 0;
  inW: i32 = 0;
  channels: i32 = 0;
  output: usize = 0;
  outH: i32 = 0;
  outW: i32 = 0;
  strideH: i32 = 1;
  strideW: i32 = 1;
  filterH: i32 = 1;
  filterW: i32 = 1;
  padTop: i32 = 0;
  padLeft: i32 = 0;
  actMin: i32 = -128;
  actMax: i32 = 127;
}

/**
 * ADD with broadcasting over up to 4 dims: out index (n,h,w,c) reads in1 at
 * sum(idx[d] * in1Strides[d]) (stride 0 on broadcast dims), same for in2.
 */
@unmanaged export class AddArgs {
  in1: usize = 0;
  in2: usize = 0;
  output: usize = 0;
  count: i32 = 0; // elements of the output
  broadcast: i32 = 0; // 0: same shapes, elementwise over count
  d0: i32 = 1;
  d1: i32 = 1;
  d2: i32 = 1;
  d3: i32 = 1; // output dims
  s1_0: i32 = 0;
  s1_1: i32 = 0;
  s1_2: i32 = 0;
  s1_3: i32 = 0; // in1 element strides
  s2_0: i32 = 0;
  s2_1: i32 = 0;
  s2_2: i32 = 0;
  s2_3: i32 = 0; // in2 element strides
  p: AddParams | null = null;
  /** Planned scratch (ADD_LUT_BYTES when count >= ADD_LUT_MIN_COUNT): the MVP kernel's tables. */
  scratch: usize = 0;
}

/** SOFTMAX int8 -> int8 (output scale 1/256, zero point -128), TFLite fixed-point exp. */
@unmanaged export class SoftmaxArgs {
  input: usize = 0;
  output: usize = 0;
  outer: i32 = 1;
  depth: i32 = 0;
  inputMult: i32 = 0;
  inputLeftShift: i32 = 0;
  diffMin: i32 = 0;
}

/** QUANTIZE and DEQUANTIZE. mode: 0 f32->i8, 1 i8->i8 (requantize), 2 i8->f32, 3 u8->i8, 4 i8->u8. */
@unmanaged export class QuantArgs {
  input: usize = 0;
  output: usize = 0;
  count: i32 = 0;
  mode: i32 = 0;
  scale: f32 = 1; // f32->i8: output scale; i8->f32: input scale
  inZp: i32 = 0;
  outZp: i32 = 0;
  mult: i32 = 0; // requantize
  shift: i32 = 0;
}

/** MEAN over a set of axes of a 4D int8 tensor (axes as a bit mask over dims 0..3). */
@unmanaged export class MeanArgs {
  input: usize = 0;
  output: usize = 0;
  d0: i32 = 1;
  d1: i32 = 1;
  d2: i32 = 1;
  d3: i32 = 1;
  axesMask: i32 = 0;
  inZp: i32 = 0;
  outZp: i32 = 0;
  mult: i32 = 0;
  shift: i32 = 0;
}

/** One input of a CONCATENATION. */
@unmanaged export class ConcatInput {
  data: usize = 0;
  axisBytes: i32 = 0; // size along the axis times inner size (elements == bytes for int8)
  requant: i32 = 0; // 0: copy; 1: requantize with scale/bias
  scale: f32 = 1;
  bias: f32 = 0;
  outZp: i32 = 0;
}

@unmanaged export class ConcatArgs {
  output: usize = 0;
  outer: i32 = 1;
  outAxisBytes: i32 = 0;
  numInputs: i32 = 0;
  inputs: usize = 0; // ConcatInput[numInputs], contiguous
}

/** PAD of a 4D int8 tensor with a constant value. */
@unmanaged export class PadArgs {
  input: usize = 0;
  output: usize = 0;
  in0: i32 = 1;
  in1: i32 = 1;
  in2: i32 = 1;
  in3: i32 = 1;
  before0: i32 = 0;
  before1: i32 = 0;
  before2: i32 = 0;
  before3: i32 = 0;
  out0: i32 = 1;
  out1: i32 = 1;
  out2: i32 = 1;
  out3: i32 = 1;
  padValue: i32 = 0;
}
