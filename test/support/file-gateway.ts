import { afterAll, beforeAll } from "vitest";
import { startTestGateway, type TestGateway } from "./gateway.js";
import type { TestNats } from "./nats.js";
import { client, type Client } from "./http.js";

/**
 * One gateway for the tests of a file: started before them, closed after them. Its parts are
 * read inside tests (they exist once beforeAll has run).
 */
export function gatewayForFile(env: NodeJS.ProcessEnv = {}): { readonly api: Client; readonly nats: TestNats } {
  let gw: TestGateway | undefined;
  let api: Client | undefined;
  beforeAll(async () => {
    gw = await startTestGateway(env);
    api = client(gw.url);
  });
  afterAll(async () => gw?.close());
  const started = <T>(part: T | undefined): T => {
    if (part === undefined) throw new Error("the file's gateway has not started");
    return part;
  };
  return {
    get api() {
      return started(api);
    },
    get nats() {
      return started(gw).nats;
    },
  };
}
