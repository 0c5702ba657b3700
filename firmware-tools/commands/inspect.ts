import type { Command } from "commander";
import { readErm } from "../../host/format/erm-reader.js";
import { inspectModel } from "../lib/model/inspect.js";
import { readBin } from "./convert.js";

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("describe an .erm: ops, tensors, weight bytes, MACs, arena bytes and the memory plan")
    .argument("<model>", ".erm file")
    .option("--json", "print one JSON object (includes arenaBytes, macs, ops)")
    .action((path: string, o: { json?: boolean }) => {
      const bytes = readBin(path);
      const r = inspectModel(readErm(bytes), bytes.length);
      if (o.json) {
        console.log(JSON.stringify(r, null, 2));
        return;
      }
      const fmt = (n: number) => n.toLocaleString("en-US");
      console.log(`${r.name} ${r.version}: ${fmt(r.fileBytes)} bytes, ${r.ops.length} ops, ${fmt(r.macs)} MACs, weights ${fmt(r.weightBytes)} bytes, arena ${fmt(r.arenaBytes)} bytes, ${r.golden} golden vector(s)`);
      for (const x of r.inputs) console.log(`input  ${x.name} ${x.dtype}[${x.shape.join(",")}] scale ${x.scale} zp ${x.zeroPoint}`);
      for (const x of r.outputs) console.log(`output ${x.name} ${x.dtype}[${x.shape.join(",")}] scale ${x.scale} zp ${x.zeroPoint}`);
      console.log("\n  #  op                     output shape      MACs     weights  scratch  encoding");
      for (const op of r.ops) {
        console.log(`${String(op.index).padStart(3)}  ${op.op.padEnd(22)} ${`[${op.outputShape.join(",")}]`.padEnd(16)} ${fmt(op.macs).padStart(10)} ${fmt(op.weightBytes).padStart(10)} ${fmt(op.scratchBytes).padStart(8)}  ${op.encoding}`.trimEnd());
      }
      console.log(`\nmemory plan (arena ${fmt(r.arenaBytes)} bytes): offset, bytes, lifetime over ops, tensors`);
      for (const line of r.plan) console.log(line);
    });
}
