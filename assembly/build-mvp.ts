// Scalar MVP build for the WASM3 interpreter on microcontrollers: no SIMD, no imports,
// module-owned bounded memory (asconfig.json target "mvp").
export * from "./runtime";
