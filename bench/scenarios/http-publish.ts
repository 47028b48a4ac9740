/** Issue 12, "HTTP publish": single events over 64 connections vs raw js.publish, 64 in flight. */
import { publishScenario, RAW_IN_FLIGHT } from "./publishing.js";

export const httpPublish = publishScenario({ name: "http-publish", batchSize: 1, connections: RAW_IN_FLIGHT, targetRatio: 0.7 });
