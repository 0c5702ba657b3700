// Serial port discovery: serialport's list (which runs udevadm), else a scan of sysfs, so that
// machines without udev (containers, this CI image) still see their USB serial adapters.

import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { SerialPort } from "serialport";

export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  /** Where the entry came from: "udev" (serialport's list) or "sysfs" (the fallback). */
  source: "udev" | "sysfs";
}

export interface ListResult {
  ports: PortInfo[];
  /** Why the udev listing was not used, when it was not. */
  fallbackReason?: string;
}

export async function listPorts(sysClassTty = "/sys/class/tty"): Promise<ListResult> {
  try {
    const ports = await SerialPort.list();
    return { ports: ports.map((p) => ({ path: p.path, manufacturer: p.manufacturer, serialNumber: p.serialNumber, vendorId: p.vendorId, productId: p.productId, source: "udev" as const })) };
  } catch (e) {
    return { ports: scanSysfs(sysClassTty), fallbackReason: (e as Error).message.split("\n")[0] };
  }
}

const SERIAL_NAME = /^tty(USB|ACM|AMA|S|XRUSB|SC|MFD)\d+$/;

/** Ports with a device behind them; legacy ttyS* entries without a UART (type 0) are skipped. */
export function scanSysfs(root: string): PortInfo[] {
  if (!existsSync(root)) return [];
  const out: PortInfo[] = [];
  for (const name of readdirSync(root).sort()) {
    if (!SERIAL_NAME.test(name) || !existsSync(join(root, name, "device"))) continue;
    if (name.startsWith("ttyS") && readText(join(root, name, "type")) === "0") continue;
    out.push({ path: `/dev/${name}`, source: "sysfs", ...usbAttributes(join(root, name, "device")) });
  }
  return out;
}

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Walks up from the tty's device (at most 6 levels) to the USB device holding idVendor. */
function usbAttributes(deviceLink: string): Partial<PortInfo> {
  let dir: string;
  try {
    dir = realpathSync(deviceLink);
  } catch {
    return {};
  }
  for (let i = 0; i < 6 && dir !== "/"; i++, dir = join(dir, "..")) {
    const vendorId = readText(join(dir, "idVendor"));
    if (vendorId) {
      return { vendorId, productId: readText(join(dir, "idProduct")), manufacturer: readText(join(dir, "manufacturer")), serialNumber: readText(join(dir, "serial")) };
    }
  }
  return {};
}
