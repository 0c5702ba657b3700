// Power lost at every single flash program/erase of a transfer and its commit (including the
// commit record itself): after the reboot the previous model is active and gives its golden
// outputs, and a re-flash of the new model succeeds.

import { afterAll, describe, expect, it } from "vitest";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { COMMAND } from "../../../host/format/serial-frame.js";
import { DEVICE_STATUS as D, decodeHello } from "../../../host/format/device-protocol.js";
import { deviceImage } from "../../../host/format/erm-device.js";
import { convertFile } from "../../../firmware-tools/lib/model/convert.js";
import { goldenCases, mlperfModelPath } from "../../helpers/mlperf.js";
import { DirectDevice, tempDir } from "./harness.js";

const tmp = tempDir("edgerun-power-");
afterAll(() => tmp.remove());

describe("power loss", () => {
  const oldImage = deviceImage(convertFile(mlperfModelPath("kws")).bytes);
  const newImage = deviceImage(convertFile(mlperfModelPath("ic")).bytes);
  const base = join(tmp.dir, "base.bin");
  const first = new DirectDevice({ flashPath: base });
  expect(first.flash(oldImage, "kws", "1").status).toBe(D.DEV_OK);
  first.mcu.close();

  it("at every flash operation of a transfer and commit leaves the old model active; a re-flash succeeds", () => {
    const probe = join(tmp.dir, "probe.bin");
    copyFileSync(base, probe);
    const counting = new DirectDevice({ flashPath: probe });
    const before = counting.mcu.flash.mutations;
    expect(counting.flash(newImage, "ic", "1").status).toBe(D.DEV_OK);
    const ops = counting.mcu.flash.mutations - before;
    counting.mcu.close();
    expect(ops).toBeGreaterThan(100);
    const kws = goldenCases("kws")[0], ic = goldenCases("ic")[0];
    for (let cut = 1; cut <= ops; cut++) {
      const path = join(tmp.dir, `cut-${cut}.bin`);
      copyFileSync(base, path);
      const dying = new DirectDevice({ flashPath: path, power: { cutAtFlashOp: cut } });
      dying.flash(newImage, "ic", "1");
      expect(dying.mcu.dead, `power cut at flash op ${cut}`).toBe(true);
      const rebooted = new DirectDevice({ flashPath: path });
      const info = decodeHello(rebooted.req(COMMAND.HELLO).payload);
      expect(info.model?.name, `cut at op ${cut} of ${ops}`).toBe("kws");
      expect(Buffer.compare(rebooted.req(COMMAND.RUN, kws.input).payload.subarray(4), kws.output), `cut ${cut}`).toBe(0);
      if (cut % 7 === 0 || cut >= ops - 3) {
        expect(rebooted.flash(newImage, "ic", "1").status, `re-flash after cut ${cut}`).toBe(D.DEV_OK);
        expect(Buffer.compare(rebooted.req(COMMAND.RUN, ic.input).payload.subarray(4), ic.output)).toBe(0);
      }
      rebooted.mcu.close();
    }
  });
});
