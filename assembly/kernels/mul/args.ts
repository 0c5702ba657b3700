// MUL arguments: ADD's broadcasting geometry (output dims, per-input element strides with 0 on
// broadcast dims) and TFLite's int8 MUL constants.

@unmanaged export class MulArgs {
  in1: usize = 0;
  in2: usize = 0;
  output: usize = 0;
  count: i32 = 0;
  broadcast: i32 = 0; // 0: same shapes, elementwise over count
  d0: i32 = 1;
  d1: i32 = 1;
  d2: i32 = 1;
  d3: i32 = 1;
  s1_0: i32 = 0;
  s1_1: i32 = 0;
  s1_2: i32 = 0;
  s1_3: i32 = 0;
  s2_0: i32 = 0;
  s2_1: i32 = 0;
  s2_2: i32 = 0;
  s2_3: i32 = 0;
  in1Offset: i32 = 0; // -zero point of input 1
  in2Offset: i32 = 0;
  outOffset: i32 = 0; // zero point of the output
  mult: i32 = 0;
  shift: i32 = 0;
  actMin: i32 = -128;
  actMax: i32 = 127;
}
