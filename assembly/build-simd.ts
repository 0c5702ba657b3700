// SIMD128 build for V8 (Raspberry-Pi-class boards running Node).
export * from "./runtime";
