import { Repeater } from "graphql-yoga";
import type { PubSub } from "./bus.ts";

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

/** A nudge to re-read stored state: the LISTEN connection came back, or the periodic safety check. */
export interface Resync {
  type: "bus.resync";
  /** The periodic check (no NOTIFY is known to be lost), not a reconnect. */
  periodic?: boolean;
}

/** How often an open subscription re-reads stored state even without a nudge (a NOTIFY can be lost). */
export const RESYNC_EVERY_MS = 10_000;

/**
 * Live events of one topic merged with resync nudges: one when the bus reconnects, and one every
 * `everyMs`. Subscriptions re-read the table on a nudge, so none hangs on a lost NOTIFY.
 */
export function withResync<T>(pubsub: PubSub, live: AsyncIterable<T>, everyMs = RESYNC_EVERY_MS): AsyncIterable<T | Resync> {
  const ticks = new Repeater<Resync>(async (push, stop) => {
    const timer = setInterval(() => void push({ type: "bus.resync", periodic: true }), everyMs);
    await stop;
    clearInterval(timer);
  });
  const sources: AsyncIterable<T | Resync>[] = [live, pubsub.subscribe("bus.resync"), ticks];
  return Repeater.merge(sources) as AsyncIterable<T | Resync>;
}
