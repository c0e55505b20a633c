import { forbidden } from "../builder.ts";
import type { GraphQLContext } from "../context.ts";
import { whileAllowed } from "../events/listen.ts";
import { DEFAULT_RECHECK_MS } from "../http/revocation.ts";
import { stillAllowed, type WatchedRecord } from "../services/assignments.ts";

/**
 * An open subscription re-checks, every SESSION_RECHECK_MS (5 s), that its caller may still see
 * what it is about (role and caseload read again); when not, it ends with FORBIDDEN. The field's
 * authScopes decide at subscribe time; this keeps deciding while the stream is open.
 */
export function watchAccess<T>(ctx: GraphQLContext, source: AsyncIterable<T>, record: WatchedRecord): AsyncIterable<T> {
  const everyMs = ctx.deps.security.sessionRecheckMs ?? DEFAULT_RECHECK_MS;
  return whileAllowed(source, () => stillAllowed(ctx.deps.pool, ctx.viewer, record), everyMs, forbidden);
}
