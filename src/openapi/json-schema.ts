import { z } from "zod";

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1), as route schemas carry it. */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * What a zod schema accepts, as JSON Schema: zod stays the validator (its messages are the
 * protocol's), this only describes it. Refinements JSON Schema cannot say are left out.
 */
export function jsonSchemaOf(schema: z.ZodType, description?: string): JsonSchema {
  // The dialect is the document's: a nested $schema would only repeat it.
  const { $schema: _dialect, ...described } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return description === undefined ? described : { ...described, description };
}

export const text: JsonSchema = { type: "string" };
export const time: JsonSchema = { type: "string", format: "date-time" };
export const count: JsonSchema = { type: "integer", minimum: 0 };
export const offset: JsonSchema = { type: "integer", minimum: 1 };

/** A shape several routes share: a component of the document, under its name. */
export interface Component extends JsonSchema {
  $id: string;
}

export function component(name: string, schema: JsonSchema): Component {
  return { $id: name, ...schema };
}

/** Where a route's schema uses a component. */
export function ref(shared: Component, description?: string): JsonSchema {
  return { ...(description !== undefined && { description }), $ref: `${shared.$id}#` };
}

/** A property a response may leave out. */
export class Optional {
  // Nominal: a plain object with a `schema` key is not taken for one.
  readonly #optional = true;
  constructor(readonly schema: JsonSchema) {}
}

export const optional = (schema: JsonSchema) => new Optional(schema);

type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];

/** One schema per field of T, wrapped in optional() exactly where T's field is optional. */
export type PropertiesOf<T> = { [K in keyof T]-?: K extends OptionalKeys<T> ? Optional : JsonSchema };

/**
 * The schema of an object the gateway answers with, whose shape is a TypeScript type and not
 * a zod schema: tsc holds the description to the type, so a field added to one and not the
 * other fails the build.
 */
export function objectSchema<T>(properties: PropertiesOf<T>, description?: string): JsonSchema {
  const entries = Object.entries<Optional | JsonSchema>(properties);
  return {
    type: "object",
    ...(description !== undefined && { description }),
    properties: Object.fromEntries(entries.map(([name, schema]) => [name, schema instanceof Optional ? schema.schema : schema])),
    required: entries.filter(([, schema]) => !(schema instanceof Optional)).map(([name]) => name),
  };
}
