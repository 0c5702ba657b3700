// The broker dies in the middle of a download (Aedes: its sockets drop like a crashed process,
// retained messages kept in its data dir; Mosquitto: SIGKILL) and comes back on the same port:
// the agent resumes where it stopped and finishes, and the pusher's --wait sees it through.

import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { startBroker, RunningBroker } from "../../firmware-tools/lib/fleet/broker.js";
import { startMosquitto } from "../../firmware-tools/lib/fleet/mosquitto.js";
import { createRelease, openRelease } from "../../firmware-tools/lib/fleet/release.js";
import { pushRelease } from "../../firmware-tools/lib/fleet/push.js";
import { syntheticErm } from "../../firmware-tools/lib/fleet/synthetic-model.js";
import { brokerKinds, endAsync, makeKeys, operatorClient, startAgent, tempDir, waitUntil } from "../helpers/fleet.js";

const tmp = tempDir("edgerun-restart-");
afterAll(() => tmp.cleanup());

describe.each(brokerKinds())("broker %s killed mid-download", (kind) => {
  it("resumes the download after the broker restarts and installs", async () => {
    const dataDir = join(tmp.dir, `${kind}-broker`);
    let aedes: RunningBroker | undefined = kind === "aedes" ? await startBroker({ port: 0, dataDir }) : undefined;
    const mosq = kind === "mosquitto" ? await startMosquitto(dataDir) : undefined;
    const url = aedes?.url ?? mosq!.url;
    const port = aedes?.port ?? mosq!.port;
    const keys = makeKeys(tmp.dir, `ops-${kind}`);
    const events: Record<string, unknown>[] = [];
    // One chunk in flight at a time, about 80 chunks: the download lasts long enough to be interrupted.
    const agent = await startAgent({ deviceId: `restart-${kind}`, brokerUrl: url, publicKeyPath: keys.publicPath, dataDir: join(tmp.dir, `agent-${kind}`), extra: { update: { inflightChunks: 1, chunkTimeoutMs: 1500, maxChunkAttempts: 30, confirmAfterMs: 300 } } }, events);
    const op = await operatorClient(url);
    try {
      await waitUntil(() => agent.status().mqttVersion !== null, 5000, "agent connected");
      await new Promise((r) => setTimeout(r, 300));
      const rel = openRelease(createRelease(syntheticErm({ inFeatures: 256, outFeatures: 300 }), { version: "1.0.0", privateKey: keys.privateKey, chunkBytes: 1024 }).bytes);
      const pushing = pushRelease(op, rel, { group: "lab", wait: true, waitTimeoutMs: 60_000 });
      await waitUntil(() => (agent.updater.progress()?.chunksDone ?? 0) >= 20, 20_000, "the download under way");
      const doneAtKill = agent.updater.progress()!.chunksDone;
      expect(doneAtKill).toBeLessThan(agent.updater.progress()!.chunksTotal);
      if (aedes) await aedes.close();
      else await mosq!.stop("SIGKILL");
      await new Promise((r) => setTimeout(r, 700));
      expect(agent.status().active).toBeNull(); // nothing installed yet, nothing broken either
      if (aedes) aedes = await startBroker({ port, dataDir });
      else await mosq!.restart();
      const r = await pushing;
      expect(r.rows.map((x) => x.progress)).toEqual(["installed"]);
      const dl = events.find((e) => e.event === "downloaded")!;
      expect((dl.fetchedChunks as number) + (dl.reusedChunks as number)).toBe(dl.chunksTotal); // each chunk stored once: resumed, not restarted
      expect(agent.status().active?.version).toBe("1.0.0");
      expect(events.filter((e) => e.event === "connected").length).toBeGreaterThanOrEqual(2);
    } finally {
      await agent.stop();
      await endAsync(op, true);
      await aedes?.close();
      await mosq?.stop();
    }
  });
});
