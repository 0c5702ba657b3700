// PAD dispatch: the reference is memory.fill plus one memory.copy per row; tier 1 reuses it.

import { PadArgs } from "../args";
import { qs8_pad__ref } from "./ref";

export const PAD_VARIANTS: StaticArray<string> = ["qs8_pad__ref"];

export function padRun(a: PadArgs, tier: i32): void {
  qs8_pad__ref(a);
}
