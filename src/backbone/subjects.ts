/**
 * How events map onto NATS subjects and headers.
 *
 * Subject: streamgate.<stream>.<type token>.<key token>, so a consumer can filter one type or
 * one key on the server with a single filter subject (all nats-server 2.9 allows). The tokens
 * only serve filtering: type and key are read back from headers, never parsed from subjects.
 */
export const SUBJECT_ROOT = "streamgate";

export const HEADER_TYPE = "Streamgate-Type";
export const HEADER_KEY = "Streamgate-Key";
/** JetStream's dedupe header: the event id. */
export const HEADER_ID = "Nats-Msg-Id";

const PLAIN_TOKEN = /^[A-Za-z0-9_-]+$/;

export function streamSubjects(stream: string): string {
  return `${SUBJECT_ROOT}.${stream}.>`;
}

export function eventSubject(stream: string, type: string, key: string | undefined): string {
  return `${SUBJECT_ROOT}.${stream}.${typeToken(type)}.${keyToken(key)}`;
}

/**
 * The narrowest single filter subject for a read; `types` of two or more are filtered by the
 * reader. An unfiltered read takes the whole stream, as stored, whoever stored it.
 */
export function filterSubject(stream: string, filter: { types?: readonly string[]; key?: string | undefined }): string {
  if (filter.types?.length !== 1 && filter.key === undefined) return streamSubjects(stream);
  const type = filter.types?.length === 1 ? typeToken(filter.types[0]!) : "*";
  const key = filter.key !== undefined ? keyToken(filter.key) : "*";
  return `${SUBJECT_ROOT}.${stream}.${type}.${key}`;
}

/** Protobuf full names hold only [A-Za-z0-9_.]; ':' keeps them one token and stays injective. */
function typeToken(type: string): string {
  return type.replaceAll(".", ":");
}

/**
 * Keys made of [A-Za-z0-9_-] stand as they are, so subjects stay readable; any other key is
 * "~" + base64url(utf-8), which no plain key can equal. No key (or "") is "~".
 */
export function keyToken(key: string | undefined): string {
  if (key === undefined || key === "") return "~";
  if (PLAIN_TOKEN.test(key)) return key;
  return "~" + Buffer.from(key, "utf8").toString("base64url");
}
