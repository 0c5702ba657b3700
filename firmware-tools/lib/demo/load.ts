// Inference load for the demo: every agent gets held-out digits over its HTTP API, one request
// at a time per agent, for a fixed time; answers are checked against the labels.

import type { Agent } from "../../../host/agent/agent.js";
import { EdgerunError } from "../../../host/format/errors.js";

export interface LoadResult { deviceId: string; requests: number; correct: number; errors: number }

export async function runLoad(agents: Agent[], samples: { input: Uint8Array; label: number }[], durationMs: number): Promise<LoadResult[]> {
  const bodies = samples.map((s) => JSON.stringify({ input: Buffer.from(s.input).toString("base64"), top: true }));
  const end = Date.now() + durationMs;
  return Promise.all(agents.map(async (a, k) => {
    const r: LoadResult = { deviceId: a.config.deviceId, requests: 0, correct: 0, errors: 0 };
    if (!a.apiUrl) throw new EdgerunError("DEMO_NO_API", `agent ${a.config.deviceId} has no HTTP API`);
    for (let i = k * 97; Date.now() < end; i++) {
      const s = i % samples.length;
      try {
        const res = await fetch(`${a.apiUrl}/v1/infer`, { method: "POST", headers: { "content-type": "application/json" }, body: bodies[s], signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as { ok?: boolean; top?: { index: number } };
        r.requests++;
        if (body.top?.index === samples[s].label) r.correct++;
        if (!res.ok) r.errors++;
      } catch {
        r.errors++;
      }
    }
    return r;
  }));
}
