// Handler for edgerun/v1/devices/<id>/release and edgerun/v1/groups/<g>/release: a signed
// manifest envelope, retained. The updater verifies and decides; this only checks the size.

import type { AgentContext } from "./context.js";
import { MANIFEST_LIMITS } from "../../format/release-manifest.js";

export function handleRelease(ctx: AgentContext, topic: string, payload: Buffer): void {
  if (payload.length > MANIFEST_LIMITS.maxEnvelopeBytes) {
    ctx.warn("RELEASE_TOO_LARGE", `release message on ${topic} has ${payload.length} bytes (limit ${MANIFEST_LIMITS.maxEnvelopeBytes}); ignored`);
    return;
  }
  ctx.updater.offer(payload, topic);
}
