/** The parts of AsyncAPI 3.0.0 (and its HTTP and WebSocket bindings) the gateway's document uses. */

/** A JSON Schema (draft-07, which AsyncAPI's Schema Object extends), limited to the keywords used here. */
export interface JsonSchema {
  $ref?: string;
  title?: string;
  description?: string;
  deprecated?: boolean;
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean" | "null";
  const?: string | number | boolean;
  enum?: readonly (string | number)[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  contentEncoding?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  not?: JsonSchema;
}

export interface Ref {
  $ref: string;
}

export interface AsyncApiDocument {
  asyncapi: "3.0.0";
  info: { title: string; version: string; description: string };
  defaultContentType: string;
  servers: Record<string, Server>;
  channels: Record<string, Channel>;
  operations: Record<string, Operation>;
  components: {
    schemas: Record<string, JsonSchema>;
    messages: Record<string, Message>;
    securitySchemes?: Record<string, SecurityScheme>;
  };
}

export interface Server {
  host: string;
  protocol: string;
  title?: string;
  description?: string;
  variables?: Record<string, { description: string; examples?: string[] }>;
  security?: Ref[];
}

export interface Channel {
  /** null: the address is not known in advance (a webhook's URL). */
  address: string | null;
  title: string;
  description?: string;
  servers: Ref[];
  messages: Record<string, Message | Ref>;
  bindings?: { ws: { method: "GET"; headers?: JsonSchema; bindingVersion: "0.1.0" } };
}

export interface Message {
  name: string;
  title?: string;
  summary?: string;
  description?: string;
  contentType?: string;
  headers?: JsonSchema;
  payload: JsonSchema;
  bindings?: { http: { statusCode: number; bindingVersion: "0.3.0" } };
}

export interface Operation {
  action: "send" | "receive";
  channel: Ref;
  title: string;
  description?: string;
  messages: Ref[];
  reply?: { channel: Ref; messages: Ref[] };
  bindings?: { http: { method: "GET" | "POST"; query?: JsonSchema; bindingVersion: "0.3.0" } };
}

export type SecurityScheme =
  | { type: "http"; scheme: "bearer"; description: string }
  | { type: "httpApiKey"; name: string; in: "query" | "cookie"; description: string };

/** The HTTP binding of an operation: its method and, for reads, the query it takes. */
export function httpBinding(method: "GET" | "POST", query?: JsonSchema): NonNullable<Operation["bindings"]> {
  return { http: { method, ...(query && { query }), bindingVersion: "0.3.0" } };
}

export const schemaRef = (name: string): Ref => ({ $ref: `#/components/schemas/${name}` });
export const messageRef = (name: string): Ref => ({ $ref: `#/components/messages/${name}` });
export const channelRef = (id: string): Ref => ({ $ref: `#/channels/${id}` });
export const channelMessageRef = (channel: string, message: string): Ref => ({ $ref: `#/channels/${channel}/messages/${message}` });
export const serverRef = (name: string): Ref => ({ $ref: `#/servers/${name}` });
export const securitySchemeRef = (name: string): Ref => ({ $ref: `#/components/securitySchemes/${name}` });

/** An object with exactly these properties: the gateway writes (and takes) nothing else. */
export function objectSchema(properties: Record<string, JsonSchema>, required: readonly string[], description?: string): JsonSchema {
  return { type: "object", ...(description && { description }), properties, ...(required.length > 0 && { required }), additionalProperties: false };
}

/** At most one of these properties is present: a protobuf oneof, or the position of a read. */
export function atMostOne(names: readonly string[], description: string): JsonSchema {
  const present = names.map((name): JsonSchema => ({ required: [name] }));
  return { description, oneOf: [...present, { not: { anyOf: present } }] };
}
