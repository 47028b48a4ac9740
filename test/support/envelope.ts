// Written from PROTOCOL.md, not imported from src/ or clients/: black-box tests hold those to it.

/** The JSON envelope of one event, as every protocol delivers it (PROTOCOL.md section 2). */
export interface Envelope {
  stream: string;
  offset: number;
  id: string;
  type: string;
  key?: string;
  time: string;
  data: unknown;
  dataBase64?: string;
}

export interface GapNoticeJson {
  stream: string;
  requested: number;
  first: number;
  epoch: string;
}

/** What a reader saw, in order: the union the SSE and poll readers return. */
export type ReadItem = { kind: "gap"; gap: GapNoticeJson } | { kind: "event"; event: Envelope };
