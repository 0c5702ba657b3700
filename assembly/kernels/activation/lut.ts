// qs8_act_lut: every int8 activation is a function of one int8 value, so the fast kernel is a
// 256-entry table filled at load by the reference function itself (bit-exact by construction),
// then one load per element. Same code in both builds; the table costs 256 bytes per op.

import { ActArgs } from "./args";
import { activationOne } from "./ref";

/** Fills a.lut (256 bytes the caller allocated) from the reference. */
export function buildActLut(a: ActArgs): void {
  for (let x = -128; x < 128; x++) store<i8>(a.lut + <usize>(x + 128), <i8>activationOne(a, x));
}

export function qs8_act_lut(a: ActArgs): void {
  const lut = a.lut, n = a.count;
  for (let i = 0; i < n; i++) {
    store<u8>(a.output + <usize>i, load<u8>(lut + <usize>(<i32>load<i8>(a.input + <usize>i) + 128)));
  }
}
