// Pruning: magnitude masks over plain arrays (float or int8), in-place pruning of an int8 Graph,
// structured channel removal, and the per-layer sensitivity scan.
export { checkSparsity, magnitudeMask, nmMask, globalMasks, applyMask } from "./mask.js";
export type { MaskOptions, Weights } from "./mask.js";
export { pruneGraph, prunableOps, weightMatrix } from "./prune-graph.js";
export type { PruneOptions, PrunePattern, PrunedLayer } from "./prune-graph.js";
export { pruneChannels } from "./channels.js";
export type { ChannelPruneOptions, ChannelPruneResult } from "./channels.js";
export { chooseSparsities, DEFAULT_CANDIDATES } from "./sensitivity.js";
export type { EvalFn, SensitivityResult } from "./sensitivity.js";
