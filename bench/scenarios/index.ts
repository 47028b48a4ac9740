/** Every scenario of `npm run bench`, in the order they run. */
import type { Scenario } from "../harness/types.js";
import { batchPublish } from "./batch-publish.js";
import { catchUp } from "./catch-up.js";
import { httpPublish } from "./http-publish.js";
import { idleMemory } from "./idle-memory.js";
import { sseFanout } from "./sse-fanout.js";
import { webhooks } from "./webhooks.js";
import { wsFanout } from "./ws-fanout.js";
import { wsOverload } from "./ws-overload.js";

export const scenarios: readonly Scenario[] = [wsFanout, wsOverload, sseFanout, idleMemory, catchUp, httpPublish, batchPublish, webhooks];
