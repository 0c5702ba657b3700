// Serial test fixtures: socat pty pairs (Debian package socat), the virtual MCU on one end,
// temporary directories, and the skip rule (outside CI a missing socat skips with its name;
// under CI=true it fails).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasSocat, makePtyPair, PtyPair } from "../../firmware-tools/lib/serial/pty-pair.js";
import { SimulatedDevice, SimPortOptions } from "../../firmware-tools/lib/mcu-sim/sim-port.js";

export function socatOrSkip(ctx: { skip: (note?: string) => void }): void {
  if (hasSocat()) return;
  if (process.env.CI === "true") throw new Error("socat (Debian package socat) is required under CI");
  ctx.skip("socat missing: install Debian package socat");
}

export class SerialFixture {
  readonly dir = mkdtempSync(join(tmpdir(), "edgerun-serial-"));
  private pairs: PtyPair[] = [];
  private sims: SimulatedDevice[] = [];
  private n = 0;

  async pair(): Promise<PtyPair> {
    const k = this.n++;
    const p = await makePtyPair(join(this.dir, `op${k}`), join(this.dir, `dev${k}`));
    this.pairs.push(p);
    return p;
  }

  async sim(opts: Omit<SimPortOptions, "flashPath"> & { flashPath?: string }): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ flashPath: join(this.dir, `flash-${this.n++}.bin`), ...opts });
    this.sims.push(d);
    return d;
  }

  /** A pty pair with a virtual MCU on its device end; returns the operator end. */
  async device(opts: Partial<SimPortOptions> = {}): Promise<{ port: string; sim: SimulatedDevice; flashPath: string }> {
    const p = await this.pair();
    const flashPath = opts.flashPath ?? join(this.dir, `flash-${this.n++}.bin`);
    const sim = await this.sim({ ...opts, pty: p.b, flashPath });
    return { port: p.a, sim, flashPath };
  }

  async close(): Promise<void> {
    for (const s of this.sims) await s.stop();
    for (const p of this.pairs) await p.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
