// Types only: what tests hold the gateway to are their assertions on the JSON itself.
import type { Envelope } from "@streamgate/protocol/envelope";
import type { GapNotice } from "@streamgate/protocol/position";

export type { Envelope };
export type GapNoticeJson = GapNotice;

/** What a reader saw, in order: the union the SSE and poll readers return. */
export type ReadItem = { kind: "gap"; gap: GapNoticeJson } | { kind: "event"; event: Envelope };
