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

/**
 * Passes `source` through until `allowed()` answers false (checked every `everyMs`), then ends the
 * stream with `refusal` as its error. A check that throws (database down) is tried again later.
 * A plain iterator rather than a Repeater: it sits on every delivery of every subscription.
 */
export function whileAllowed<T>(source: AsyncIterable<T>, allowed: () => Promise<boolean>, everyMs: number, refusal: () => Error): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const DONE: IteratorResult<T> = { done: true, value: undefined };
  let ended = false;
  let failure: unknown;
  let waiting: { resolve(step: IteratorResult<T>): void; reject(error: unknown): void } | undefined;
  let checking = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (error === undefined) return waiting?.resolve(DONE);
    if (waiting) waiting.reject(error);
    else failure = error;
  };
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    allowed().then((ok) => ok || end(refusal()), () => undefined).finally(() => (checking = false));
  }, everyMs);
  timer.unref();
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
        }, (error) => {
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
