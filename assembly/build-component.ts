// Core module of the WebAssembly component (wit/edgerun-runtime.wit): the SIMD build of the
// runtime behind canonical-ABI exports only. Built and wrapped by scripts/build-component.mjs.
import "./graph/abort";
export { cabi_realloc, component_load, component_run, component_describe, component_unload } from "./component/exports";
