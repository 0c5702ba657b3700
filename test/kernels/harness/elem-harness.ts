// Test harness root for the elementwise-family kernels (pool, add, softmax, quantize, mean,
// concat, pad). Compiled twice by test/kernels/elementwise-family.test.ts: with SIMD and as
// the MVP build. The test writes each op's arguments as an i32 block (field order below,
// f32 fields as their bits) and calls a variant by id or the family's dispatch by tier.

import { AddArgs, AddParams, ConcatArgs, ConcatInput, MeanArgs, PadArgs, PoolArgs, QuantArgs, SoftmaxArgs } from "../../../assembly/kernels/args";
import { ADD_VARIANTS, runAddVariant } from "../../../assembly/kernels/add/variants";
import { addRun } from "../../../assembly/kernels/add/index";
import { srdhmByShift } from "../../../assembly/kernels/add/mvp";
import { roundingDivideByPotV, srdhmV } from "../../../assembly/kernels/add/simd";
import { roundingDivideByPot, srdhm } from "../../../assembly/kernels/common/fixedpoint";
import { AVGPOOL_VARIANTS, MAXPOOL_VARIANTS, runAvgPoolVariant, runMaxPoolVariant } from "../../../assembly/kernels/pool/variants";
import { poolRun } from "../../../assembly/kernels/pool/index";
import { softmaxRun } from "../../../assembly/kernels/softmax/index";
import { quantizeRun } from "../../../assembly/kernels/quantize/index";
import { meanRun } from "../../../assembly/kernels/mean/index";
import { concatRun } from "../../../assembly/kernels/concat/index";
import { padRun } from "../../../assembly/kernels/pad/index";

export function alloc(bytes: i32): usize {
  return heap.alloc(<usize>bytes);
}

export function hasSimd(): bool {
  return ASC_FEATURE_SIMD;
}

// @ts-ignore: decorator
@inline function P(block: usize, i: i32): i32 {
  return load<i32>(block + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function PF(block: usize, i: i32): f32 {
  return load<f32>(block + (<usize>i << 2));
}

/**
 * Fixed-point helper probe over n i32 pairs at a and b: kind 0 srdhm (common/fixedpoint),
 * 1 srdhmByShift (add/mvp), 2 srdhmV (add/simd), 3 roundingDivideByPot (b = exponent),
 * 4 roundingDivideByPotV. Returns false for a SIMD helper in the MVP build.
 */
export function probeFixedPoint(kind: i32, a: usize, b: usize, out: usize, n: i32): bool {
  if (kind == 2 || kind == 4) {
    if (ASC_FEATURE_SIMD) {
      for (let i = 0; i < n; i += 4) {
        const o = <usize>i << 2;
        if (kind == 2) {
          v128.store(out + o, srdhmV(v128.load(a + o), v128.load(b + o)));
        } else {
          // one exponent for all four lanes, as the kernels use it
          v128.store(out + o, roundingDivideByPotV(v128.load(a + o), load<i32>(b + o)));
        }
      }
      return true;
    }
    return false;
  }
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<i32>(a + o);
    const y = load<i32>(b + o);
    store<i32>(out + o, kind == 0 ? srdhm(x, y) : kind == 1 ? srdhmByShift(x, y) : roundingDivideByPot(x, y));
  }
  return true;
}

/** Variant name of family 0 = avgpool, 1 = maxpool, 2 = add; 0 when id is past the list. */
export function variantName(family: i32, id: i32): usize {
  const list = family == 0 ? AVGPOOL_VARIANTS : family == 1 ? MAXPOOL_VARIANTS : ADD_VARIANTS;
  return id < list.length ? changetype<usize>(list[id]) : 0;
}

// Pool block: input inH inW channels output outH outW strideH strideW filterH filterW
//             padTop padLeft actMin actMax
function poolArgs(b: usize): PoolArgs {
  const a = new PoolArgs();
  a.input = P(b, 0);
  a.inH = P(b, 1);
  a.inW = P(b, 2);
  a.channels = P(b, 3);
  a.output = P(b, 4);
  a.outH = P(b, 5);
  a.outW = P(b, 6);
  a.strideH = P(b, 7);
  a.strideW = P(b, 8);
  a.filterH = P(b, 9);
  a.filterW = P(b, 10);
  a.padTop = P(b, 11);
  a.padLeft = P(b, 12);
  a.actMin = P(b, 13);
  a.actMax = P(b, 14);
  return a;
}

/** op 0 = average, 1 = max; false when the variant is not in this build. */
export function runPool(op: i32, variant: i32, b: usize): bool {
  const a = poolArgs(b);
  return op == 0 ? runAvgPoolVariant(a, variant) : runMaxPoolVariant(a, variant);
}

export function dispatchPool(op: i32, tier: i32, b: usize): void {
  poolRun(poolArgs(b), op, tier);
}

// Add block: in1 in2 output count broadcast d0 d1 d2 d3 s1_0..s1_3 s2_0..s2_3, then
//            in1Offset in2Offset leftShift in1Mult in1Shift in2Mult in2Shift outMult
//            outShift outOffset actMin actMax
function addArgs(b: usize): AddArgs {
  const a = new AddArgs();
  a.in1 = P(b, 0);
  a.in2 = P(b, 1);
  a.output = P(b, 2);
  a.count = P(b, 3);
  a.broadcast = P(b, 4);
  a.d0 = P(b, 5);
  a.d1 = P(b, 6);
  a.d2 = P(b, 7);
  a.d3 = P(b, 8);
  a.s1_0 = P(b, 9);
  a.s1_1 = P(b, 10);
  a.s1_2 = P(b, 11);
  a.s1_3 = P(b, 12);
  a.s2_0 = P(b, 13);
  a.s2_1 = P(b, 14);
  a.s2_2 = P(b, 15);
  a.s2_3 = P(b, 16);
  const p = new AddParams();
  p.in1Offset = P(b, 17);
  p.in2Offset = P(b, 18);
  p.leftShift = P(b, 19);
  p.in1Mult = P(b, 20);
  p.in1Shift = P(b, 21);
  p.in2Mult = P(b, 22);
  p.in2Shift = P(b, 23);
  p.outMult = P(b, 24);
  p.outShift = P(b, 25);
  p.outOffset = P(b, 26);
  p.actMin = P(b, 27);
  p.actMax = P(b, 28);
  a.p = p;
  a.scratch = addScratch;
  return a;
}

// The LUT kernel's tables (the interpreter gives it planned arena scratch).
const addScratch: usize = memory.data(2048, 16);

export function runAdd(variant: i32, b: usize): bool {
  return runAddVariant(addArgs(b), variant);
}

export function dispatchAdd(tier: i32, b: usize): void {
  addRun(addArgs(b), tier);
}

// Softmax block: input output outer depth inputMult inputLeftShift diffMin
export function dispatchSoftmax(tier: i32, b: usize): void {
  const a = new SoftmaxArgs();
  a.input = P(b, 0);
  a.output = P(b, 1);
  a.outer = P(b, 2);
  a.depth = P(b, 3);
  a.inputMult = P(b, 4);
  a.inputLeftShift = P(b, 5);
  a.diffMin = P(b, 6);
  softmaxRun(a, tier);
}

// Quant block: input output count mode scale(f32) inZp outZp mult shift
export function dispatchQuantize(tier: i32, b: usize): void {
  const a = new QuantArgs();
  a.input = P(b, 0);
  a.output = P(b, 1);
  a.count = P(b, 2);
  a.mode = P(b, 3);
  a.scale = PF(b, 4);
  a.inZp = P(b, 5);
  a.outZp = P(b, 6);
  a.mult = P(b, 7);
  a.shift = P(b, 8);
  quantizeRun(a, tier);
}

// Mean block: input output d0 d1 d2 d3 axesMask inZp outZp mult shift
export function dispatchMean(tier: i32, b: usize): void {
  const a = new MeanArgs();
  a.input = P(b, 0);
  a.output = P(b, 1);
  a.d0 = P(b, 2);
  a.d1 = P(b, 3);
  a.d2 = P(b, 4);
  a.d3 = P(b, 5);
  a.axesMask = P(b, 6);
  a.inZp = P(b, 7);
  a.outZp = P(b, 8);
  a.mult = P(b, 9);
  a.shift = P(b, 10);
  meanRun(a, tier);
}

/** Byte offset of ConcatInput field k (data axisBytes requant scale bias outZp), k = 6: size. */
export function concatInputLayout(k: i32): i32 {
  if (k == 0) return <i32>offsetof<ConcatInput>("data");
  if (k == 1) return <i32>offsetof<ConcatInput>("axisBytes");
  if (k == 2) return <i32>offsetof<ConcatInput>("requant");
  if (k == 3) return <i32>offsetof<ConcatInput>("scale");
  if (k == 4) return <i32>offsetof<ConcatInput>("bias");
  if (k == 5) return <i32>offsetof<ConcatInput>("outZp");
  return <i32>offsetof<ConcatInput>();
}

// Concat block: output outer outAxisBytes numInputs inputs (records written by the test)
export function dispatchConcat(tier: i32, b: usize): void {
  const a = new ConcatArgs();
  a.output = P(b, 0);
  a.outer = P(b, 1);
  a.outAxisBytes = P(b, 2);
  a.numInputs = P(b, 3);
  a.inputs = P(b, 4);
  concatRun(a, tier);
}

// Pad block: input output in0..in3 before0..before3 out0..out3 padValue
export function dispatchPad(tier: i32, b: usize): void {
  const a = new PadArgs();
  a.input = P(b, 0);
  a.output = P(b, 1);
  a.in0 = P(b, 2);
  a.in1 = P(b, 3);
  a.in2 = P(b, 4);
  a.in3 = P(b, 5);
  a.before0 = P(b, 6);
  a.before1 = P(b, 7);
  a.before2 = P(b, 8);
  a.before3 = P(b, 9);
  a.out0 = P(b, 10);
  a.out1 = P(b, 11);
  a.out2 = P(b, 12);
  a.out3 = P(b, 13);
  a.padValue = P(b, 14);
  padRun(a, tier);
}
