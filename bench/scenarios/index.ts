/** Every scenario of `npm run bench`, in the order they run. */
import type { Scenario } from "../harness/types.js";
import { idleMemory } from "./idle-memory.js";
import { sseFanout } from "./sse-fanout.js";
import { wsFanout } from "./ws-fanout.js";

export const scenarios: readonly Scenario[] = [wsFanout, sseFanout, idleMemory];
