// One opcode list, proven complete on both sides: every opcode of host/format/opcodes.ts is
// known to both runtime builds, and anything else is ERM_UNSUPPORTED_OP.

import { describe, expect, it } from "vitest";
import { ALL_OPCODES, OPCODE_NAMES } from "../../../host/format/opcodes.js";
import { STATUS } from "../../../host/format/status.js";
import { writeErm } from "../../../host/format/erm-writer.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tinyModel } from "../../helpers/tiny-model.js";
import { patch, opRecord } from "../../helpers/erm-patch.js";
import { RawRuntime } from "../../helpers/runtime-raw.js";

const good = writeErm(tinyModel());

describe.each(["simd", "mvp"] as const)("%s build opcode table", (build) => {
  const rt = new RawRuntime(build);
  it("accepts exactly the TypeScript opcode list", () => {
    for (let code = 0; code < 64; code++) {
      const status = rt.load(patch(good, (dv) => dv.setUint16(opRecord(good, 1), code, true)));
      if (ALL_OPCODES.includes(code)) expect(status, `opcode ${code} (${OPCODE_NAMES[code as keyof typeof OPCODE_NAMES]})`).not.toBe("ERM_UNSUPPORTED_OP");
      else expect(status, `opcode ${code}`).toBe("ERM_UNSUPPORTED_OP");
    }
  });
});

it("status codes agree between TypeScript and AssemblyScript", () => {
  const src = readFileSync(join(__dirname, "../../../assembly/format/status.ts"), "utf8");
  const as = Object.fromEntries([...src.matchAll(/export const (\w+): i32 = (\d+);/g)].map((m) => [m[1], Number(m[2])]));
  expect(as).toEqual(STATUS);
});

it("the AssemblyScript opcode constants match the TypeScript list", () => {
  const src = readFileSync(join(__dirname, "../../../assembly/graph/opcodes.ts"), "utf8");
  const as = Object.fromEntries([...src.matchAll(/export const OP_(\w+): i32 = (\d+);/g)].map((m) => [Number(m[2]), m[1]]));
  expect(as).toEqual(OPCODE_NAMES);
});
