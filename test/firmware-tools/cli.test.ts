// The operator CLI as a user runs it: exact command forms, outputs, errors and exit codes.

import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { edgerun } from "../helpers/cli.js";
import { goldenCases, mlperfModelPath } from "../helpers/mlperf.js";
import { FbTable, MODEL, OPERATOR_CODE, rootTable } from "../../firmware-tools/lib/import/tflite-schema.js";

const dir = mkdtempSync(join(tmpdir(), "edgerun-cli-"));
const kws = join(dir, "kws.erm");
const labels = join(__dirname, "../../examples/kws/labels.txt");

beforeAll(() => {
  const r = edgerun("convert", mlperfModelPath("kws"), "-o", kws, "--labels", labels, "--name", "kws");
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/arena 16000 bytes/);
});

describe("edgerun CLI", () => {
  it("inspect --json includes arenaBytes, macs and ops", () => {
    const r = edgerun("inspect", kws, "--json");
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.arenaBytes).toBe(16000);
    expect(j.macs).toBe(2656768);
    expect(j.ops.map((o: { op: string }) => o.op)).toContain("DEPTHWISE_CONV_2D");
    expect(j.labels).toHaveLength(12);
  });

  it("inspect prints ops and the memory plan", () => {
    const r = edgerun("inspect", kws);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/memory plan \(arena 16,000 bytes\)/);
    expect(r.stdout).toMatch(/AVERAGE_POOL_2D/);
  });

  it.each(["simd", "mvp"])("run --build %s writes the golden output and prints class and latency", (build) => {
    const c = goldenCases("kws")[0];
    const input = join(dir, "in.bin"), output = join(dir, `out-${build}.bin`);
    writeFileSync(input, c.input);
    const r = edgerun("run", kws, "--input", input, "--output", output, "--build", build);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(output), c.output)).toBe(0);
    expect(r.stdout).toMatch(/top class: \w+ \(index \d+/);
    expect(r.stdout).toMatch(new RegExp(`${build} build: [\\d.]+ us`));
  });

  it("bench --json reports medianUs and per-layer times", () => {
    const r = edgerun("bench", kws, "--json", "--runs", "20", "--warmup", "5");
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.medianUs).toBeGreaterThan(0);
    expect(j.layers).toHaveLength(13);
  });

  it("every command has --help", () => {
    for (const cmd of ["convert", "inspect", "run", "bench", "demo"]) {
      const r = edgerun(cmd, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: edgerun/);
    }
  });
});

describe("edgerun CLI errors", () => {
  it("convert --max-ram fails clearly when the plan does not fit, leaving no file", () => {
    const out = join(dir, "small.erm");
    const r = edgerun("convert", mlperfModelPath("kws"), "-o", out, "--max-ram", "12000");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PLAN_TOO_LARGE: the memory plan needs 16\d{3} bytes of arena, more than the target's 12000/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a missing model file is exit 1 with the path", () => {
    const r = edgerun("inspect", join(dir, "nope.erm"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CLI_FILE_NOT_FOUND: cannot read .*nope\.erm: ENOENT/);
  });

  it("bad arguments are usage errors (exit 2)", () => {
    expect(edgerun("convert", mlperfModelPath("kws")).code).toBe(2); // no -o
    expect(edgerun("run", kws, "--input", "x", "--build", "gpu").code).toBe(2);
    expect(edgerun("convert", mlperfModelPath("kws"), "-o", "x.erm", "--max-ram", "lots").code).toBe(2);
    expect(edgerun("frobnicate").code).toBe(2);
  });

  it("a damaged .erm is a typed error", () => {
    const bad = readFileSync(kws);
    bad[bad.length - 100] ^= 0xff;
    const p = join(dir, "bad.erm");
    writeFileSync(p, bad);
    const r = edgerun("inspect", p);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERM_CHECKSUM/);
  });

  it("an input of the wrong size is refused", () => {
    const p = join(dir, "short.bin");
    writeFileSync(p, new Uint8Array(10));
    const r = edgerun("run", kws, "--input", p);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/INFER_BAD_INPUT: input 0 has the wrong size \(.*expected=490, actual=10/);
  });

  it("a TFLite model with an unsupported op names the op and its index", () => {
    const src = readFileSync(mlperfModelPath("kws"));
    const codes = rootTable(src).tables(MODEL.operatorCodes);
    const file = Buffer.from(src);
    // Turn the first operator code into LOGISTIC (14), in both code fields.
    const c: FbTable = codes[0];
    const pos8 = c.fieldPos(OPERATOR_CODE.deprecatedBuiltinCode), pos32 = c.fieldPos(OPERATOR_CODE.builtinCode);
    if (pos8) file[pos8] = 14;
    if (pos32) file.writeInt32LE(14, pos32);
    const p = join(dir, "logistic.tflite");
    writeFileSync(p, file);
    const r = edgerun("convert", p, "-o", join(dir, "l.erm"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CONVERT_UNSUPPORTED: operator LOGISTIC \(op \d+\) is not supported/);
  });

  it("a file that is not a TFLite model is refused", () => {
    const p = join(dir, "junk.tflite");
    writeFileSync(p, Buffer.from("this is not a flatbuffer at all, just text"));
    const r = edgerun("convert", p, "-o", join(dir, "j.erm"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TFLITE_MALFORMED/);
  });
});
