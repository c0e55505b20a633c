/**
 * Starts consuming an async iterable now. yoga's pubsub (a Repeater) only attaches its listener
 * on the first `next()`, so "subscribe first, then replay from the database" needs the first
 * `next()` issued before the replay; values published meanwhile are queued.
 */
export function listenNow<T>(source: AsyncIterable<T>) {
  const iterator = source[Symbol.asyncIterator]();
  let pending = iterator.next();
  return {
    async next(): Promise<IteratorResult<T>> {
      const result = await pending;
      if (!result.done) pending = iterator.next();
      return result;
    },
    async close(): Promise<void> {
      await iterator.return?.();
    },
  };
}
