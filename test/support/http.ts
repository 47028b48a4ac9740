import { expect } from "vitest";

/** One HTTP request of a black-box test: a JSON value (sent as application/json), raw text or raw bytes. */
export interface HttpRequest {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  headers?: Record<string, string>;
  /** Serialized with JSON.stringify, Content-Type application/json unless headers say otherwise. */
  json?: unknown;
  /** Sent as it is; give the Content-Type in headers. */
  body?: string | Uint8Array;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: any;
  text: string;
  /** The body as it came. */
  bytes: Uint8Array;
  /** Milliseconds from sending the request to having read the whole answer. */
  ms: number;
}

/**
 * Sends one request and reads the whole answer. A 200 text/event-stream answer is not read to
 * its end (it never ends): its body is cancelled, and `text` and `bytes` are empty.
 */
export async function send(baseUrl: string, req: HttpRequest, timeoutMs = 20_000): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...req.headers };
  let body: string | Uint8Array | undefined = req.body;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  try {
    const res = await fetch(baseUrl + req.path, {
      method: req.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      // A copy, so the body is a Uint8Array over a plain ArrayBuffer, as fetch wants it.
      ...(body !== undefined && { body: typeof body === "string" ? body : new Uint8Array(body) }),
      signal: controller.signal,
    });
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
      await res.body?.cancel();
      return { status: res.status, headers: res.headers, body: undefined, text: "", bytes: new Uint8Array(), ms: performance.now() - started };
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const ms = performance.now() - started;
    const text = new TextDecoder().decode(bytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text, bytes, ms };
  } finally {
    clearTimeout(timer);
  }
}

/** A client bound to one gateway. */
export function client(baseUrl: string) {
  return {
    send: (req: HttpRequest, timeoutMs?: number) => send(baseUrl, req, timeoutMs),
    get: (path: string, headers?: Record<string, string>) => send(baseUrl, { path, ...(headers && { headers }) }),
    postJson: (path: string, json: unknown, headers?: Record<string, string>) =>
      send(baseUrl, { method: "POST", path, json, ...(headers && { headers }) }),
  };
}

export type Client = ReturnType<typeof client>;

/** Asserts the protocol's error shape: {"error":{"code","message","details"?:[{"path","message"}]}}. */
export function expectError(res: HttpResponse, status: number, code: string, context = ""): void {
  const where = `${context} -> ${res.status} ${res.text.slice(0, 500)}`;
  expect(res.status, where).toBe(status);
  expect(res.headers.get("content-type") ?? "", where).toMatch(/^application\/json/);
  expect(res.body, where).toBeTypeOf("object");
  expect(Object.keys(res.body), where).toEqual(["error"]);
  const error = res.body.error;
  expect(error.code, where).toBe(code);
  expect(typeof error.message === "string" && error.message.length > 0, `${where}: message must be a non-empty string`).toBe(true);
  if (error.details !== undefined) {
    expect(Array.isArray(error.details), `${where}: details must be an array`).toBe(true);
    for (const d of error.details) {
      expect(typeof d.path === "string", `${where}: detail path must be a string`).toBe(true);
      expect(typeof d.message === "string" && d.message.length > 0, `${where}: detail message must be a non-empty string`).toBe(true);
    }
  }
}

/** The paths named in an error's details. */
export function detailPaths(res: HttpResponse): string[] {
  const details = res.body?.error?.details;
  return Array.isArray(details) ? details.map((d: { path: unknown }) => String(d.path)) : [];
}
