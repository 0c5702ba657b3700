// What a topic handler may touch: the updater, the inference service, the client, warnings.

import type { MqttClient } from "mqtt";
import type { InferenceService } from "../serving.js";
import type { Updater } from "../update/machine.js";

export interface AgentContext {
  updater: Updater;
  service: InferenceService;
  client(): MqttClient | null;
  warn(code: string, message: string): void;
  counters: { unexpectedChunks: number; unknownTopics: number };
}
