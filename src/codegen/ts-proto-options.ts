/**
 * ts-proto's options for every message type streamgate generates, here and in users' projects.
 * int64 is bigint so nothing is lost; Timestamp stays {seconds, nanos} because Date drops
 * nanoseconds; oneofs are typed unions. The runtime (MessageCodec) calls encode, decode,
 * fromPartial, fromJSON and toJSON; services are left out.
 */
export const TS_PROTO_OPTIONS: readonly string[] = [
  "forceLong=bigint",
  "importSuffix=.js",
  "esModuleInterop=true",
  "useDate=false",
  "oneof=unions-value",
  "outputServices=false",
  "useExactTypes=false",
];
