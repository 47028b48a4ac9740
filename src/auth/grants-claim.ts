import { z } from "zod";
import type { Grant } from "./principal.js";

/** A stream name, or a prefix ending in `*`: a `*` anywhere else would be read as a name. */
const streamPattern = z
  .string()
  .min(1)
  .refine((entry) => !entry.slice(0, -1).includes("*"), "`*` may only end a stream prefix");

/**
 * One grant of PROTOCOL.md section 9.2. Strict: a field this gateway does not know could be
 * meant to narrow the grant, and ignoring it would grant more than its author meant.
 */
export const grantSchema = z
  .object({
    streams: z.array(streamPattern),
    actions: z.array(z.enum(["subscribe", "publish", "admin"])),
    keys: z.array(z.string()).optional(),
    types: z.array(z.string()).optional(),
  })
  .strict() satisfies z.ZodType<Grant>;

const grantsClaimSchema = z.object({ grants: z.array(grantSchema) });

/**
 * The grants a verified token's claim holds. A token without the claim, or with one of another
 * shape, still authenticates but may do nothing: its requests get 403 naming what they lack.
 */
export function grantsOfClaim(payload: Record<string, unknown>, claimName: string): Grant[] {
  const parsed = grantsClaimSchema.safeParse(Object.hasOwn(payload, claimName) ? payload[claimName] : undefined);
  return parsed.success ? parsed.data.grants : [];
}
