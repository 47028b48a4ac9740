/** See ts-proto-fixups.mjs. */
export declare function keepNegativeZero(dir: string): void;
