/** What a Node backend imports from streamgate: typed producers and consumers, and the gateway itself. */
export { connectBackbone, type Backbone } from "./backbone/connection.js";
export { createProducer, UnknownEventTypeError, type Producer, type PublishOptions } from "./typed/producer.js";
export { consume, type ConsumeOptions } from "./typed/consumer.js";
export { runGateway, type RunningGateway } from "./app.js";
export { loadConfig, ConfigError, type GatewayConfig } from "./config/config.js";
