// CONCATENATION dispatch: the reference is memory.copy per slice already; tier 1 reuses it.

import { ConcatArgs } from "../args";
import { qs8_concat__ref } from "./ref";

export const CONCAT_VARIANTS: StaticArray<string> = ["qs8_concat__ref"];

export function concatRun(a: ConcatArgs, tier: i32): void {
  qs8_concat__ref(a);
}
