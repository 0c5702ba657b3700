// Activation family dispatch: tier 0 = reference, tier 1 = the load-time table (both builds).

import { ActArgs } from "./args";
import { qs8_act__ref } from "./ref";
import { qs8_act_lut } from "./lut";

export const ACT_VARIANTS: StaticArray<string> = ["qs8_act__ref", "qs8_act_lut"];

export function activationRun(a: ActArgs, tier: i32): void {
  if (tier == 0 || a.lut == 0) qs8_act__ref(a);
  else qs8_act_lut(a);
}
