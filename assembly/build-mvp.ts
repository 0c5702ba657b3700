// Scalar MVP build for the WASM3 interpreter on microcontrollers: no SIMD, module-owned bounded
// memory (asconfig.json target "mvp"), the runtime API plus the device protocol, whose six
// imports (module "edgerun") are the device ABI of docs/mcu-abi.md.
export * from "./runtime";
export * from "./device/exports";
