import type { DescMessage, Registry } from "@bufbuild/protobuf";
import type { StoredEvent } from "../backbone/stored-event.js";
import type { Envelope, WireEvent } from "@streamgate/protocol/envelope";
import { encodeEventMessage } from "@streamgate/protocol/proto-codec";
import type { Schemas } from "../schema/registry.js";
import { binaryToJsonText } from "../schema/json-writer.js";
import { binaryToJson } from "../schema/transcode.js";
import { isoString } from "../schema/utc-time.js";

export interface EventFilter {
  types?: ReadonlySet<string>;
  key?: string | undefined;
}

/** The filter of a read or a webhook (PROTOCOL.md section 3): no types or no key filters nothing. */
export function eventFilter(filters: { types?: readonly string[] | undefined; key?: string | undefined }): EventFilter {
  return {
    ...(filters.types && { types: new Set(filters.types) }),
    ...(filters.key !== undefined && { key: filters.key }),
  };
}

/**
 * A stored event with its encodings, each made at most once however many readers share it:
 * the live feed hands one instance to every reader.
 */
export class EncodedEvent implements WireEvent {
  #json?: string;
  #proto?: Uint8Array;
  /** Frames built around the encodings, by what they are for (e.g. a WebSocket sub): see framed(). */
  #frames?: Map<string, Buffer>;

  constructor(
    readonly stored: StoredEvent,
    private readonly schemas: Schemas,
  ) {}

  get offset(): number {
    return this.stored.offset;
  }

  matches(filter: EventFilter): boolean {
    if (filter.types && !filter.types.has(this.stored.type)) return false;
    return filter.key === undefined || filter.key === this.stored.key;
  }

  envelope(): Envelope {
    const { stream, offset, id, type, key, time } = this.stored;
    const head = { stream, offset, id, type, ...(key !== undefined && { key }), time: time.toISOString() };
    return { ...head, ...this.#data((message, data, registry) => binaryToJson(message, data, registry)) };
  }

  get json(): string {
    return (this.#json ??= this.#jsonText());
  }

  /**
   * The envelope's JSON, written as text in the Envelope's member order rather than built as an
   * Envelope and stringified: the same bytes, without the tree in between.
   */
  #jsonText(): string {
    const { stream, offset, id, type, key, time } = this.stored;
    const keyMember = key === undefined ? "" : `,"key":${JSON.stringify(key)}`;
    const head = `{"stream":${JSON.stringify(stream)},"offset":${offset},"id":${JSON.stringify(id)},"type":${JSON.stringify(type)}${keyMember}`;
    return `${head},"time":"${isoString(time)}",${jsonMembers(this.#data(binaryToJsonText))}}`;
  }

  /** The data as its type's JSON, or raw when it has no type this gateway knows or does not decode as it. */
  #data<T>(transcode: (message: DescMessage, bytes: Uint8Array, registry: Registry) => T): { data: T } | RawData {
    const { type, data } = this.stored;
    const message = type ? this.schemas.registry.getMessage(type) : undefined;
    if (message) {
      try {
        return { data: transcode(message, data, this.schemas.registry) };
      } catch {
        // Undecodable bytes fall through: delivered raw, never dropped.
      }
    }
    return { data: null, dataBase64: Buffer.from(data).toString("base64") };
  }

  get proto(): Uint8Array {
    return (this.#proto ??= encodeEventMessage(this.stored));
  }

  /**
   * A frame of this event made once for everyone who sends it the same way (the same protocol,
   * codec and sub), since every subscriber of the live feed shares this instance.
   */
  framed(key: string, make: () => Buffer): Buffer {
    const frames = (this.#frames ??= new Map());
    let frame = frames.get(key);
    if (!frame) frames.set(key, (frame = make()));
    return frame;
  }

  /**
   * Memory the event may come to hold with every encoding made, for bounding buffers. Fixed
   * at creation, so what a buffer adds on append is exactly what it removes on eviction.
   */
  get size(): number {
    return this.stored.data.byteLength * 4 + 512;
  }
}

interface RawData {
  data: null;
  dataBase64: string;
}

/** The envelope's data members as JSON text: the data is JSON text already, the raw form is not. */
function jsonMembers(members: { data: string } | RawData): string {
  return members.data === null ? `"data":null,"dataBase64":"${members.dataBase64}"` : `"data":${members.data}`;
}
