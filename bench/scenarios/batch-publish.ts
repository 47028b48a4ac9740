/**
 * Issue 12, "batch publish": 100 events per POST .../events:batch vs raw js.publish, 64 in flight.
 * 64 connections as well, so the gateway has as many requests in flight as the baseline has events.
 */
import { publishScenario, RAW_IN_FLIGHT } from "./publishing.js";

export const batchPublish = publishScenario({ name: "batch-publish", batchSize: 100, connections: RAW_IN_FLIGHT, targetRatio: 2.0 });
