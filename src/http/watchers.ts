/**
 * Batched re-checks for open sessions and subscriptions: one ticker per pool and interval (so per
 * process) reads, on each tick, every watched user in ONE statement and every watched (user,
 * record) access pair in ONE more, then tells the affected watches. The cost of a tick grows with
 * the distinct users and records watched, not with the number of sockets and subscriptions.
 */
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import type pg from "pg";
import type { Viewer } from "../auth.ts";
import { findUserStandings, type UserStanding } from "../db/schools.ts";
import type { Logger } from "../logger.ts";
import { lostAccess, type WatchedRecord } from "../services/assignments.ts";

/** Registrations on a shared ticker; each returns the function that ends the watch. */
export interface Watchers {
  /** Calls `onGone` when a tick finds the user deleted or no longer in `viewer.schoolId`. */
  watchUser(viewer: Viewer, onGone: () => void): () => void;
  /** Calls `onDenied` when a tick finds the viewer (current role and caseload) may no longer see `record`. */
  watchRecord(viewer: Viewer, record: WatchedRecord, onDenied: () => void): () => void;
}

interface Watch {
  viewer: Viewer;
  record?: WatchedRecord;
  notify: () => void;
}

/** Ticks run outside any request (system context: every school's rows), whoever started the ticker. */
const outsideRequests = AsyncLocalStorage.snapshot();
const tickers = new WeakMap<pg.Pool, Map<number, Watchers>>();

/** The process's ticker for `pool` every `everyMs` (created on first use). */
export function sharedWatchers(pool: pg.Pool, everyMs: number, logger: Logger): Watchers {
  const byInterval = tickers.get(pool) ?? new Map<number, Watchers>();
  tickers.set(pool, byInterval);
  const existing = byInterval.get(everyMs);
  if (existing) return existing;
  const created = startWatchers(pool, everyMs, logger);
  byInterval.set(everyMs, created);
  return created;
}

/**
 * A ticker that runs only while something is watched; ticks never overlap, and a tick that fails
 * (database down) is logged and tried again on the next. A watch is told in the async context it
 * was registered in, at most once per tick, and never after it has ended.
 */
export function startWatchers(pool: pg.Pool, everyMs: number, logger: Logger): Watchers {
  const watches = new Set<Watch>();
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  const tick = async () => {
    const current = [...watches];
    const standings = new Map<string, UserStanding>();
    const userIds = [...new Set(current.map((watch) => watch.viewer.userId))];
    for (const user of await findUserStandings(pool, userIds)) standings.set(user.id, user);
    const gone = current.filter(({ viewer, record }) => !record && standings.get(viewer.userId)?.school_id !== viewer.schoolId);
    const denied = await lostAccess(pool, standings, current.filter((watch) => watch.record) as Required<Watch>[]);
    for (const watch of [...gone, ...denied]) if (watches.has(watch)) watch.notify();
  };
  const onTimer = () => {
    if (ticking) return;
    ticking = true;
    tick().catch((error: unknown) => logger.warn({ err: error }, "could not re-check open sessions; will try again"))
      .finally(() => (ticking = false));
  };
  const watch = (entry: Watch) => {
    watches.add(entry);
    timer ??= outsideRequests(() => setInterval(onTimer, everyMs).unref());
    return () => {
      if (!watches.delete(entry) || watches.size > 0) return;
      clearInterval(timer);
      timer = undefined;
    };
  };
  return {
    watchUser: (viewer, onGone) => watch({ viewer, notify: AsyncResource.bind(onGone) }),
    watchRecord: (viewer, record, onDenied) => watch({ viewer, record, notify: AsyncResource.bind(onDenied) }),
  };
}
