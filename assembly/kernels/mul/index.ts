// MUL dispatch. Elementwise MUL is rare in the models we run (squeeze-excite, gating) and small;
// tier 1 is the reference in both builds until a model needs more.

import { MulArgs } from "./args";
import { qs8_mul__ref } from "./ref";

export const MUL_VARIANTS: StaticArray<string> = ["qs8_mul__ref"];

export function mulRun(a: MulArgs, tier: i32): void {
  qs8_mul__ref(a);
}
