// Disk persistence of the embedded broker's retained messages: one file per topic (named by the
// topic's sha256), written temp + fsync + rename, loaded back into Aedes at start. An empty
// retained payload deletes the file, as MQTT deletes the retained message.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Aedes, AedesPublishPacket } from "aedes";
import { EdgerunError } from "../../../host/format/errors.js";
import { writeFileAtomic } from "../../../host/fs/atomic.js";

export class RetainedStore {
  private loading = false;
  private listener?: (p: AedesPublishPacket) => void;
  private aedes?: Aedes;

  constructor(private readonly dir: string) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new EdgerunError("BROKER_DATA_DIR", `cannot create ${dir}: ${(e as NodeJS.ErrnoException).code}`, { path: dir });
    }
  }

  private file(topic: string): string {
    return join(this.dir, createHash("sha256").update(topic).digest("hex") + ".retained");
  }

  async attach(aedes: Aedes): Promise<void> {
    this.aedes = aedes;
    this.loading = true;
    for (const name of readdirSync(this.dir).filter((n) => n.endsWith(".retained"))) {
      const rec = decode(readFileSync(join(this.dir, name)));
      if (!rec) continue; // a damaged record (cannot happen with atomic writes, but never crash the broker)
      await new Promise<void>((r) => aedes.publish({ cmd: "publish", topic: rec.topic, payload: rec.payload, qos: 1, retain: true, dup: false } as never, () => r()));
    }
    this.loading = false;
    this.listener = (p) => {
      if (this.loading || !p.retain || p.topic.startsWith("$SYS")) return;
      const path = this.file(p.topic);
      const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload as string);
      if (payload.length === 0) {
        try { unlinkSync(path); } catch { /* nothing retained on this topic */ }
      } else writeFileAtomic(path, encode(p.topic, payload));
    };
    aedes.on("publish", this.listener);
  }

  close(): void {
    if (this.listener) this.aedes?.removeListener("publish", this.listener);
  }
}

function encode(topic: string, payload: Buffer): Buffer {
  const t = Buffer.from(topic, "utf8");
  const head = Buffer.alloc(4);
  head.writeUInt32LE(t.length);
  return Buffer.concat([head, t, payload]);
}

function decode(b: Buffer): { topic: string; payload: Buffer } | undefined {
  if (b.length < 4) return undefined;
  const n = b.readUInt32LE(0);
  if (4 + n > b.length) return undefined;
  return { topic: b.subarray(4, 4 + n).toString("utf8"), payload: b.subarray(4 + n) };
}
