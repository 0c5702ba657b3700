// MEAN dispatch. Tier 1 is the reference in both builds for now: in the models we run, MEAN
// reduces a small final feature map once per inference.

import { MeanArgs } from "../args";
import { qs8_mean__ref } from "./ref";

export const MEAN_VARIANTS: StaticArray<string> = ["qs8_mean__ref"];

export function meanRun(a: MeanArgs, tier: i32): void {
  qs8_mean__ref(a);
}
