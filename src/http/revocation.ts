import { GraphQLError, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { AuthFailure, Session, Viewer } from "../auth.ts";
import type { AppDeps } from "../context.ts";
import { sharedWatchers, type Watchers } from "./watchers.ts";

/** How often an open subscription (or graphql-ws socket) checks that its user still exists in its school. */
export const DEFAULT_RECHECK_MS = 5_000;
/** setTimeout's longest delay; a later expiry is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why an open session ended. */
export type Revocation = Extract<AuthFailure, "token-expired" | "user-removed">;

/** What a transport adds to the GraphQL context so subscriptions can be cut off (see revocationPlugin). */
export interface RevocableContext {
  /** The caller's token expiry; set by the app's context factory for every authenticated request. */
  session?: Session;
  /** A graphql-ws socket's guard: its subscriptions end with the socket's session instead of their own. */
  connectionGuard?: SessionGuard;
}

/** Watches one session: resolves `revoked` at token expiry, or when a re-check finds the user gone. */
export interface SessionGuard {
  /** Resolves once, with the reason; never rejects. */
  readonly revoked: Promise<Revocation>;
  /**
   * Registers an open stream: `onRevoked` is called (once) if the session is revoked while the
   * stream is registered. Call the returned function when the stream has ended.
   */
  track(onRevoked: (reason: Revocation) => void): () => void;
  /** Resolves when every registered stream has ended (at once if none is open). */
  drained(): Promise<void>;
  stop(): void;
}

export interface GuardOptions {
  expiresAt: number;
  /** The session's user, checked on every tick of `watchers` (still exists, still in its school). */
  viewer: Viewer;
  watchers: Watchers;
}

/**
 * Starts a guard: a timer at `expiresAt` (a timestamp compare: the token was verified once, when
 * the session began) and a watch on the shared re-check ticker for the user's removal.
 */
export function guardSession(options: GuardOptions): SessionGuard {
  let reason: Revocation | undefined;
  let resolveRevoked!: (reason: Revocation) => void;
  const revoked = new Promise<Revocation>((resolve) => (resolveRevoked = resolve));
  const streams = new Set<(reason: Revocation) => void>();
  const idle: (() => void)[] = [];
  let expiryTimer: NodeJS.Timeout | undefined;
  const revoke = (why: Revocation) => {
    if (reason) return;
    reason = why;
    stop();
    resolveRevoked(why);
    for (const onRevoked of streams) onRevoked(why);
  };
  const armExpiry = () => {
    const remaining = options.expiresAt - Date.now();
    if (remaining <= 0) return revoke("token-expired");
    expiryTimer = setTimeout(armExpiry, Math.min(remaining, MAX_TIMER_MS));
    expiryTimer.unref();
  };
  const unwatch = options.watchers.watchUser(options.viewer, () => revoke("user-removed"));
  const stop = () => {
    clearTimeout(expiryTimer);
    unwatch();
  };
  armExpiry();
  return {
    revoked,
    track(onRevoked) {
      const entry = (why: Revocation) => onRevoked(why);
      streams.add(entry);
      if (reason) queueMicrotask(() => streams.has(entry) && onRevoked(reason!));
      return () => {
        if (streams.delete(entry) && streams.size === 0) for (const resolve of idle.splice(0)) resolve();
      };
    },
    drained: () => (streams.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
    stop,
  };
}

const MESSAGES: Record<Revocation, string> = {
  "token-expired": "The token has expired: subscribe again with a fresh token",
  "user-removed": "The token's user no longer exists in its school",
};

/** The error a revoked subscription ends with: extensions.code UNAUTHENTICATED, extensions.reason. */
export function revokedError(reason: Revocation): GraphQLError {
  return new GraphQLError(MESSAGES[reason], { extensions: { code: "UNAUTHENTICATED", reason } });
}

/**
 * Ends every subscription (whatever its field or transport) when its session is revoked: the
 * stream delivers one result whose only error is UNAUTHENTICATED, then completes. Over graphql-ws
 * the socket's guard decides (src/server.ts); over SSE each subscription gets a guard of its own.
 * Every guard's user check rides the process's shared ticker (src/http/watchers.ts).
 */
export function revocationPlugin(deps: AppDeps, recheckMs: number): Plugin {
  const watchers = sharedWatchers(deps.pool, recheckMs, deps.logger);
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ args, result, setResult }) {
          if (!isAsyncIterable(result)) return;
          const context = args.contextValue as RevocableContext;
          const shared = context.connectionGuard;
          const session = context.session;
          if (!shared && !session) return;
          const guard = shared ?? guardSession({ expiresAt: session!.expiresAt, viewer: session!.viewer, watchers });
          setResult(revocable(result, guard, () => {
            if (!shared) guard.stop();
          }));
        },
      };
    },
  };
}

type Step<T> = IteratorResult<T | ExecutionResult, undefined>;

/**
 * Wraps a stream so it ends on revocation: one UNAUTHENTICATED result, then done. Not an async
 * generator, and no Promise.race per step: `return()` and revocation answer a waiting `next()` at
 * once, and a long stream leaves nothing behind on the guard.
 */
export function revocable<T>(source: AsyncIterable<T>, guard: Pick<SessionGuard, "track">, onEnd: () => void): AsyncIterableIterator<T | ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let sourceStopped = false;
  let finished = false;
  let undelivered: Revocation | undefined;
  let waiter: ((step: Step<T>) => void) | undefined;
  // Not awaited: an async-generator source only returns once its pending step settles.
  const stopSource = () => {
    if (sourceStopped) return;
    sourceStopped = true;
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  };
  const finish = (): Step<T> => {
    if (!finished) {
      finished = true;
      untrack();
      onEnd();
    }
    return { done: true, value: undefined };
  };
  const answer = (step: Step<T>) => {
    const resolve = waiter;
    waiter = undefined;
    resolve?.(step);
    return resolve !== undefined;
  };
  const untrack = guard.track((reason) => {
    if (sourceStopped) return;
    stopSource();
    if (!answer({ done: false, value: { errors: [revokedError(reason)] } })) undelivered = reason;
  });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (undelivered) {
        const reason = undelivered;
        undelivered = undefined;
        return Promise.resolve({ done: false, value: { errors: [revokedError(reason)] } });
      }
      if (sourceStopped) return Promise.resolve(finish());
      return new Promise<Step<T>>((resolve, reject) => {
        waiter = resolve;
        iterator.next().then(
          (step) => {
            if (waiter !== resolve) return;
            if (step.done) sourceStopped = true;
            answer(step.done ? finish() : step);
          },
          (error: unknown) => {
            if (waiter !== resolve) return;
            waiter = undefined;
            sourceStopped = true;
            finish();
            reject(error);
          },
        );
      });
    },
    return() {
      stopSource();
      undelivered = undefined;
      answer(finish());
      return Promise.resolve(finish());
    },
    throw(error: unknown) {
      stopSource();
      answer(finish());
      return Promise.reject(error);
    },
  };
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
