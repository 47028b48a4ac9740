/**
 * JSON Schema validation of values against the schemas of an AsyncAPI document, with ajv in
 * strict mode (a keyword it does not know is an error, not ignored). The document is added
 * whole, so the payloads' `#/components/...` references resolve inside it as they are written.
 */
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";
import { Ajv, type ValidateFunction } from "ajv";
import formats from "ajv-formats";
import type { AsyncApiDocument, Message, Ref } from "../../src/asyncapi/spec.js";

const DOCUMENT_ID = "urn:streamgate:asyncapi";
const parser = new Parser();

/** What @asyncapi/parser finds wrong with a document (errors and warnings), one line each. */
export async function asyncApiProblems(doc: unknown): Promise<string[]> {
  const found = await parser.validate(doc as never);
  return found.filter((d) => d.severity <= DiagnosticSeverity.Warning).map((d) => `${d.code} at ${d.path.join("/")}: ${d.message}`);
}

export class DocumentValidator {
  // strictRequired off: a oneof's "this field is present" branches name properties defined beside them, as JSON Schema allows.
  readonly #ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: AsyncApiDocument) {
    formats.default(this.#ajv);
    // The document's own sections are not schema keywords: named, so strict mode lets them be.
    this.#ajv.addVocabulary(Object.keys(doc));
    this.#ajv.addSchema({ ...doc, $id: DOCUMENT_ID });
  }

  /** What is wrong with `value` under the schema at this JSON pointer into the document (none: it is valid). */
  problems(pointer: string, value: unknown): string[] {
    let validate = this.#compiled.get(pointer);
    if (!validate) this.#compiled.set(pointer, (validate = this.#ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` })));
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
  }

  /** The ids of the channel's messages whose payload (and, given, headers) `value` fits. */
  matchingMessages(channel: string, payload: unknown, headers?: Record<string, string>): string[] {
    return Object.keys(this.#channel(channel).messages).filter((id) => {
      const pointer = this.messagePointer(channel, id);
      const message = this.message(channel, id);
      if (this.problems(`${pointer}/payload`, payload).length > 0) return false;
      return !headers || !message.headers || this.problems(`${pointer}/headers`, headers).length === 0;
    });
  }

  /** Problems of a payload under one message of a channel. */
  payloadProblems(channel: string, message: string, payload: unknown): string[] {
    return this.problems(`${this.messagePointer(channel, message)}/payload`, payload);
  }

  headerProblems(channel: string, message: string, headers: Record<string, string>): string[] {
    return this.problems(`${this.messagePointer(channel, message)}/headers`, headers);
  }

  /** The pointer of a channel's message, through its reference into components when it is one. */
  messagePointer(channel: string, message: string): string {
    const entry = this.#channel(channel).messages[message];
    if (!entry) throw new Error(`channel ${channel} has no message ${message}: ${Object.keys(this.#channel(channel).messages).join(", ")}`);
    return isRef(entry) ? entry.$ref.slice(1) : `/channels/${channel}/messages/${message}`;
  }

  message(channel: string, message: string): Message {
    const entry = this.#channel(channel).messages[message]!;
    return isRef(entry) ? this.doc.components.messages[entry.$ref.slice("#/components/messages/".length)]! : entry;
  }

  #channel(id: string) {
    const channel = this.doc.channels[id];
    if (!channel) throw new Error(`no channel ${id}: ${Object.keys(this.doc.channels).join(", ")}`);
    return channel;
  }
}

function isRef(entry: Message | Ref): entry is Ref {
  return "$ref" in entry;
}
