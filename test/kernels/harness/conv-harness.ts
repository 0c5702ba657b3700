// Test and benchmark root for the conv-family kernels (CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED): lets JavaScript build argument structs in linear memory and call each
// family's prepare / scratch / run, in whichever build (SIMD or MVP) this root is compiled to.

import { rtAlloc, resetHeap as rtReset } from "../../../assembly/graph/alloc";
import { AddParams, ConvArgs, FcArgs } from "../../../assembly/kernels/args";
import { conv2dPrepare, conv2dRun, conv2dScratchBytes } from "../../../assembly/kernels/conv2d/index";
import { depthwisePrepare, depthwiseRun, depthwiseScratchBytes } from "../../../assembly/kernels/depthwise/index";
import { fcPrepare, fcRun, fcScratchBytes } from "../../../assembly/kernels/fc/index";
import { conv2dVariants, KernelVariant, conv2dSelect } from "../../../assembly/kernels/conv2d/variants";
import { depthwiseVariants, depthwiseSelect } from "../../../assembly/kernels/depthwise/variants";
import { fcVariants, fcSelect } from "../../../assembly/kernels/fc/variants";

// Built once at module start, before the first rtAlloc claims the heap region.
const CONV2D_VARIANTS = conv2dVariants();
const DWCONV_VARIANTS = depthwiseVariants();
const FC_VARIANTS = fcVariants();

export function isSimdBuild(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

// Everything goes through the runtime's allocator (the one prepare packs weights with). Argument
// structs are zeroed blocks, not `new` objects (the stub heap would overlap the region); the
// JavaScript side sets every field.
export function alloc(bytes: i32): usize {
  return rtAlloc(<usize>bytes);
}

/** Frees everything allocated through alloc / prepare. */
export function resetHeap(): void {
  rtReset();
}

export function newConvArgs(): usize {
  return rtAlloc(offsetof<ConvArgs>());
}
export function newFcArgs(): usize {
  return rtAlloc(offsetof<FcArgs>());
}
export function newAddParams(): usize {
  return rtAlloc(offsetof<AddParams>());
}

/** Byte offset of field i of ConvArgs in the order of CONVARGS_FIELDS in conv-harness.mjs, -1 past the end. */
export function convFieldOffset(i: i32): i32 {
  switch (i) {
    case 0: return offsetof<ConvArgs>("input");
    case 1: return offsetof<ConvArgs>("inH");
    case 2: return offsetof<ConvArgs>("inW");
    case 3: return offsetof<ConvArgs>("inC");
    case 4: return offsetof<ConvArgs>("filter");
    case 5: return offsetof<ConvArgs>("kH");
    case 6: return offsetof<ConvArgs>("kW");
    case 7: return offsetof<ConvArgs>("bias");
    case 8: return offsetof<ConvArgs>("output");
    case 9: return offsetof<ConvArgs>("outH");
    case 10: return offsetof<ConvArgs>("outW");
    case 11: return offsetof<ConvArgs>("outC");
    case 12: return offsetof<ConvArgs>("strideH");
    case 13: return offsetof<ConvArgs>("strideW");
    case 14: return offsetof<ConvArgs>("dilH");
    case 15: return offsetof<ConvArgs>("dilW");
    case 16: return offsetof<ConvArgs>("padTop");
    case 17: return offsetof<ConvArgs>("padLeft");
    case 18: return offsetof<ConvArgs>("inputOffset");
    case 19: return offsetof<ConvArgs>("outputOffset");
    case 20: return offsetof<ConvArgs>("mult");
    case 21: return offsetof<ConvArgs>("shift");
    case 22: return offsetof<ConvArgs>("multStride");
    case 23: return offsetof<ConvArgs>("actMin");
    case 24: return offsetof<ConvArgs>("actMax");
    case 25: return offsetof<ConvArgs>("depthMultiplier");
    case 26: return offsetof<ConvArgs>("residual");
    case 27: return offsetof<ConvArgs>("add");
    case 28: return offsetof<ConvArgs>("scratch");
    case 29: return offsetof<ConvArgs>("scratchBytes");
    case 30: return offsetof<ConvArgs>("packed");
  }
  return -1;
}

/** Byte offset of field i of FcArgs in the order of FCARGS_FIELDS in conv-harness.mjs, -1 past the end. */
export function fcFieldOffset(i: i32): i32 {
  switch (i) {
    case 0: return offsetof<FcArgs>("input");
    case 1: return offsetof<FcArgs>("batches");
    case 2: return offsetof<FcArgs>("depth");
    case 3: return offsetof<FcArgs>("filter");
    case 4: return offsetof<FcArgs>("bias");
    case 5: return offsetof<FcArgs>("output");
    case 6: return offsetof<FcArgs>("outC");
    case 7: return offsetof<FcArgs>("inputOffset");
    case 8: return offsetof<FcArgs>("outputOffset");
    case 9: return offsetof<FcArgs>("mult");
    case 10: return offsetof<FcArgs>("shift");
    case 11: return offsetof<FcArgs>("multStride");
    case 12: return offsetof<FcArgs>("actMin");
    case 13: return offsetof<FcArgs>("actMax");
    case 14: return offsetof<FcArgs>("scratch");
    case 15: return offsetof<FcArgs>("scratchBytes");
    case 16: return offsetof<FcArgs>("packed");
  }
  return -1;
}

/** Byte offset of field i of AddParams in the order of ADDPARAMS_FIELDS in conv-harness.mjs, -1 past the end. */
export function addFieldOffset(i: i32): i32 {
  switch (i) {
    case 0: return offsetof<AddParams>("in1Offset");
    case 1: return offsetof<AddParams>("in2Offset");
    case 2: return offsetof<AddParams>("leftShift");
    case 3: return offsetof<AddParams>("in1Mult");
    case 4: return offsetof<AddParams>("in1Shift");
    case 5: return offsetof<AddParams>("in2Mult");
    case 6: return offsetof<AddParams>("in2Shift");
    case 7: return offsetof<AddParams>("outMult");
    case 8: return offsetof<AddParams>("outShift");
    case 9: return offsetof<AddParams>("outOffset");
    case 10: return offsetof<AddParams>("actMin");
    case 11: return offsetof<AddParams>("actMax");
  }
  return -1;
}

// family: 0 conv2d, 1 depthwise, 2 fc
function variants(family: i32): KernelVariant[] {
  return family == 0 ? CONV2D_VARIANTS : family == 1 ? DWCONV_VARIANTS : FC_VARIANTS;
}
export function variantCount(family: i32): i32 {
  return variants(family).length;
}
/** Pointer to the UTF-16 name (length in bytes at ptr - 4). */
export function variantName(family: i32, i: i32): usize {
  return changetype<usize>(variants(family)[i].name);
}
export function variantTier(family: i32, i: i32): i32 {
  return variants(family)[i].tier;
}
export function variantBuild(family: i32, i: i32): i32 {
  return variants(family)[i].build;
}
export function variantSelected(family: i32, args: usize, tier: i32): i32 {
  if (family == 0) return conv2dSelect(changetype<ConvArgs>(args), tier);
  if (family == 1) return depthwiseSelect(changetype<ConvArgs>(args), tier);
  return fcSelect(changetype<FcArgs>(args), tier);
}

export function prepare(family: i32, args: usize): void {
  if (family == 0) conv2dPrepare(changetype<ConvArgs>(args));
  else if (family == 1) depthwisePrepare(changetype<ConvArgs>(args));
  else fcPrepare(changetype<FcArgs>(args));
}
export function scratchBytes(family: i32, args: usize): i32 {
  if (family == 0) return conv2dScratchBytes(changetype<ConvArgs>(args));
  if (family == 1) return depthwiseScratchBytes(changetype<ConvArgs>(args));
  return fcScratchBytes(changetype<FcArgs>(args));
}
export function run(family: i32, args: usize, tier: i32): void {
  if (family == 0) conv2dRun(changetype<ConvArgs>(args), tier);
  else if (family == 1) depthwiseRun(changetype<ConvArgs>(args), tier);
  else fcRun(changetype<FcArgs>(args), tier);
}
/** Runs `iterations` times (benchmark: one call from JavaScript per sample). */
export function runRepeated(family: i32, args: usize, tier: i32, iterations: i32): void {
  for (let i = 0; i < iterations; i++) run(family, args, tier);
}
