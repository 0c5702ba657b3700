// Handler for edgerun/v1/devices/<id>/infer: inference over MQTT. MQTT 5: the reply goes to the
// request's response topic with its correlation data; a raw-bytes request says so with content
// type application/octet-stream. MQTT 3.1.1 (no properties): the JSON request carries
// "responseTopic" and "correlationId" itself.

import type { IPublishPacket } from "mqtt";
import { EdgerunError } from "../../format/errors.js";
import type { AgentContext } from "./context.js";
import { errorJson, MAX_REQUEST_BYTES, parseJsonRequest, parseJsonText, replyJson } from "./infer-codec.js";

export function handleInfer(ctx: AgentContext, payload: Buffer, packet: IPublishPacket): void {
  const props = packet.properties ?? {};
  let responseTopic = props.responseTopic;
  let correlationId: unknown;
  let reply: Record<string, unknown>;
  try {
    if (payload.length > MAX_REQUEST_BYTES) throw new EdgerunError("INFER_TOO_LARGE", `request of ${payload.length} bytes above ${MAX_REQUEST_BYTES}`);
    let req;
    if (props.contentType === "application/octet-stream") req = { input: payload, top: false };
    else {
      const body = parseJsonText(payload.toString("utf8")) as { responseTopic?: unknown; correlationId?: unknown };
      if (!responseTopic && typeof body?.responseTopic === "string") responseTopic = body.responseTopic;
      correlationId = body?.correlationId;
      req = parseJsonRequest(body);
    }
    reply = replyJson(ctx.service.infer(req.input, req.top));
  } catch (e) {
    reply = errorJson(e);
  }
  if (!responseTopic || /[+#]/.test(responseTopic)) {
    ctx.warn("INFER_NO_RESPONSE_TOPIC", "an inference request came without a usable response topic; no reply sent");
    return;
  }
  if (correlationId !== undefined) reply.correlationId = correlationId;
  const properties = props.correlationData ? { correlationData: props.correlationData } : undefined;
  ctx.client()?.publish(responseTopic, JSON.stringify(reply), { qos: 0, ...(properties ? { properties } : {}) });
}
