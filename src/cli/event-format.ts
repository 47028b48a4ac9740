import type { Envelope } from "@streamgate/protocol/envelope";
import type { GapNotice } from "@streamgate/protocol/position";

/** An event for people: offset, time, type and key on one line, then its data as indented JSON. */
export function formatEvent(event: Envelope): string {
  const head = [`#${event.offset}`, event.time, event.type, ...(event.key !== undefined ? [`key=${event.key}`] : [])].join("  ");
  const body = event.data === null ? `(the gateway could not decode it; dataBase64: ${event.dataBase64 ?? ""})` : JSON.stringify(event.data, null, 2);
  return `${head}\n${indent(body)}`;
}

/** A gap notice for people (PROTOCOL.md section 3): what was asked for is no longer held. */
export function formatGap(gap: GapNotice): string {
  return (
    `gap in ${gap.stream}: offset ${gap.requested} was asked for, but the oldest event held is ${gap.first} ` +
    `(retention removed events, or the stream was re-created; epoch ${gap.epoch}); reading on from ${gap.first}`
  );
}

function indent(text: string): string {
  return text.replace(/^/gm, "  ");
}
