import { forbidden } from "../builder.ts";
import type { GraphQLContext } from "../context.ts";
import { DEFAULT_RECHECK_MS } from "../http/revocation.ts";
import { sharedWatchers } from "../http/watchers.ts";
import type { WatchedRecord } from "../services/assignments.ts";

/**
 * An open subscription re-checks, every SESSION_RECHECK_MS (5 s), that its caller may still see
 * what it is about (role and caseload read again); when not, it ends with FORBIDDEN. The field's
 * authScopes decide at subscribe time; this keeps deciding while the stream is open. The checks
 * of every subscription of the process are batched on one ticker (src/http/watchers.ts).
 */
export function watchAccess<T>(ctx: GraphQLContext, source: AsyncIterable<T>, record: WatchedRecord): AsyncIterable<T> {
  const watchers = sharedWatchers(ctx.deps.pool, ctx.deps.security.sessionRecheckMs ?? DEFAULT_RECHECK_MS, ctx.deps.logger);
  return endWhenDenied(source, (deny) => watchers.watchRecord(ctx.viewer, record, deny), forbidden);
}

/**
 * Passes `source` through until the watch registered by `watch` calls its `deny`, then ends the
 * stream with `refusal()` as its error (a waiting `next()` rejects at once). A plain iterator, not
 * an async generator: it sits on every delivery of every subscription.
 */
function endWhenDenied<T>(source: AsyncIterable<T>, watch: (deny: () => void) => () => void, refusal: () => Error): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const DONE: IteratorResult<T> = { done: true, value: undefined };
  let ended = false;
  let failure: unknown;
  let waiting: { resolve(step: IteratorResult<T>): void; reject(error: unknown): void } | undefined;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    unwatch();
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (error === undefined) return waiting?.resolve(DONE);
    if (waiting) waiting.reject(error);
    else failure = error;
  };
  const unwatch = watch(() => end(refusal()));
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (failure !== undefined) {
        const error = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (ended) return Promise.resolve(DONE);
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        waiting = { resolve, reject };
        iterator.next().then((step) => {
          waiting = undefined;
          if (step.done) end();
          resolve(step);
        }, (error: unknown) => {
          waiting = undefined;
          end();
          reject(error);
        });
      });
    },
    return() {
      end();
      return Promise.resolve(DONE);
    },
  };
}
