// Arguments of the int8 -> int8 activation family (LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU):
// the op's parameter words as prepare read them, plus a 256-entry table built at load.

export const ACT_LOGISTIC: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_HARD_SWISH: i32 = 2;
export const ACT_LEAKY_RELU: i32 = 3;

@unmanaged export class ActArgs {
  input: usize = 0;
  output: usize = 0;
  count: i32 = 0;
  kind: i32 = 0;
  /** Parameter words in the opcode's order (docs/model-format.md); unused ones are 0. */
  p0: i32 = 0;
  p1: i32 = 0;
  p2: i32 = 0;
  p3: i32 = 0;
  p4: i32 = 0;
  p5: i32 = 0;
  p6: i32 = 0;
  p7: i32 = 0;
  /** int8 table indexed by input + 128 (256 bytes), or 0 before it is built. */
  lut: usize = 0;
}
