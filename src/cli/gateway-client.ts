import { InvalidArgumentError, Option, type Command } from "commander";
import type { ErrorBody } from "@streamgate/protocol/errors";

export const DEFAULT_GATEWAY_URL = "http://127.0.0.1:8080";

/** The gateway answered with an error (PROTOCOL.md section 4): the CLI prints it and exits 1. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Retry-After of a temporary failure (429, 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "GatewayError";
  }

  static from(response: Response, text: string): GatewayError {
    const body = parseJson(text) as Partial<ErrorBody> | undefined;
    const error = body?.error;
    if (typeof error?.code !== "string") {
      // Not the gateway's JSON (a proxy's page, say): its first line is the best there is.
      return new GatewayError(response.status, `http_${response.status}`, `HTTP ${response.status}: ${firstLine(text)}`);
    }
    // The message often is the first detail already.
    const details = (error.details ?? [])
      .map((d) => `${d.path}: ${d.message}`)
      .filter((line) => line !== error.message)
      .map((line) => `\n  ${line}`)
      .join("");
    const retryAfter = Number(response.headers.get("retry-after") ?? NaN);
    const retry = Number.isFinite(retryAfter) ? ` (retry after ${retryAfter} s)` : "";
    const message = `${error.code} (HTTP ${response.status}): ${error.message}${retry}${details}`;
    return new GatewayError(response.status, error.code, message, Number.isFinite(retryAfter) ? retryAfter : undefined);
  }
}

/** No answer from the gateway at all: refused, unresolvable, cut off. */
export class GatewayUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot reach the gateway at ${url}: ${reason(cause)}`);
    this.name = "GatewayUnreachableError";
  }
}

export interface GatewayOptions {
  url: URL;
  token?: string;
}

export interface RequestOptions {
  query?: URLSearchParams;
  json?: unknown;
  signal?: AbortSignal;
}

/** The gateway's HTTP API as the CLI calls it: JSON in and out, a bearer credential, errors mapped. */
export class GatewayClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor({ url, token }: GatewayOptions) {
    this.#base = url.href.replace(/\/+$/, "");
    this.#headers = token ? { authorization: `Bearer ${token}` } : {};
  }

  get<T>(path: string, options: Omit<RequestOptions, "json"> = {}): Promise<T> {
    return this.request<T>("GET", path, options);
  }

  post<T>(path: string, json: unknown = {}): Promise<T> {
    return this.request<T>("POST", path, { json });
  }

  /** The answer's JSON; a non-2xx answer is a GatewayError, no answer a GatewayUnreachableError. */
  async request<T>(method: string, path: string, { query, json, signal }: RequestOptions = {}): Promise<T> {
    const url = `${this.#base}${path}${query?.size ? `?${query}` : ""}`;
    const headers = { ...this.#headers, accept: "application/json", ...(json !== undefined && { "content-type": "application/json" }) };
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method, headers, signal: signal ?? null, ...(json !== undefined && { body: JSON.stringify(json) }) });
      text = await response.text();
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new GatewayUnreachableError(this.#base, err);
    }
    if (!response.ok) throw GatewayError.from(response, text);
    if (text === "") return undefined as T;
    const body = parseJson(text);
    if (body === undefined) throw new GatewayError(response.status, "not_json", `HTTP ${response.status}: not JSON, so not the gateway: ${firstLine(text)}`);
    return body as T;
  }
}

/** Adds --url (or `urlFlag`) and --token, with their defaults from the environment, to a command that calls the gateway. */
export function withGatewayOptions(command: Command, urlFlag = "--url"): Command {
  return command
    .addOption(
      new Option(`${urlFlag} <url>`, "the gateway")
        .env("STREAMGATE_URL")
        .default(new URL(DEFAULT_GATEWAY_URL), DEFAULT_GATEWAY_URL)
        .argParser(gatewayUrl),
    )
    .option("--token <token>", "the bearer token or API key (default: STREAMGATE_TOKEN, else STREAMGATE_API_KEY)");
}

/** The client for what withGatewayOptions parsed. */
export function gatewayClient(url: URL, token: string | undefined): GatewayClient {
  const credential = token || process.env.STREAMGATE_TOKEN || process.env.STREAMGATE_API_KEY;
  return new GatewayClient({ url, ...(credential && { token: credential }) });
}

function gatewayUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`not a URL such as ${DEFAULT_GATEWAY_URL}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError("the gateway's URL is http: or https:");
  return url;
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.slice(0, 200);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What went wrong below fetch's "fetch failed": the system's error code, when there is one. */
function reason(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ECONNREFUSED") return "connection refused (is the gateway running?)";
    return code ? `${cause.message} (${code})` : cause.message;
  }
  return err instanceof Error ? err.message : String(err);
}
