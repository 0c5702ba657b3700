// sim-mcu: a virtual microcontroller on a pty until stopped. With makePty, socat first makes
// the pair (device end at `pty`, operator end at `makePty`).

import { SimulatedDevice, SimPortOptions } from "./sim-port.js";
import { makePtyPair, PtyPair } from "../serial/pty-pair.js";

export interface RunningSim {
  device: SimulatedDevice;
  operatorEnd?: string;
  stop(): Promise<void>;
}

export async function startSim(opts: SimPortOptions & { makePty?: string }): Promise<RunningSim> {
  let pair: PtyPair | undefined;
  if (opts.makePty) pair = await makePtyPair(opts.pty, opts.makePty);
  try {
    const device = await SimulatedDevice.start(opts);
    return {
      device,
      operatorEnd: pair?.b,
      stop: async () => {
        await device.stop();
        await pair?.close();
      },
    };
  } catch (e) {
    await pair?.close();
    throw e;
  }
}
