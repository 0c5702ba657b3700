import type { Command } from "commander";
import { listPorts } from "../lib/serial/discover.js";

export function registerDevices(program: Command): void {
  program
    .command("devices")
    .description("list serial ports (udev when available, else sysfs)")
    .option("--json", "print one JSON object")
    .action(async (o: { json?: boolean }) => {
      const r = await listPorts();
      if (o.json) {
        console.log(JSON.stringify(r, null, 2));
        return;
      }
      if (r.fallbackReason) console.log(`(udev listing unavailable: ${r.fallbackReason}; scanned /sys/class/tty)`);
      if (!r.ports.length) console.log("no serial ports found");
      for (const p of r.ports) {
        const usb = p.vendorId ? ` usb ${p.vendorId}:${p.productId ?? "?"}` : "";
        console.log(`${p.path}${usb}${p.manufacturer ? ` ${p.manufacturer}` : ""}${p.serialNumber ? ` serial ${p.serialNumber}` : ""}`);
      }
    });
}
