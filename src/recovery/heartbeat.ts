import { hostname } from "node:os";
import type pg from "pg";
import { beat, removeHeartbeat, type ProcessIdentity, type ProcessState } from "../db/workers.ts";
import type { Logger } from "../logger.ts";

/** A process beating in worker_heartbeats until stopped. */
export interface Heartbeat {
  readonly identity: ProcessIdentity;
  /** Beats once now (the first beat is awaited at start-up). */
  beatNow(): Promise<void>;
  /**
   * How long this process has been beating without a failure (since start, or since the database
   * came back). Until it exceeds the dead-after threshold, other processes may not have beaten
   * since an outage either, so this process must not judge them dead.
   */
  healthyForMs(): number;
  /** Stops beating and removes the row: a process that stops cleanly leaves nothing to recover. */
  stop(): Promise<void>;
}

/**
 * Announces this process every `intervalMs` with what it runs. A failed beat (the database
 * restarting) is logged and tried again at the next tick; it never ends the process.
 */
export async function startHeartbeat(options: {
  pool: pg.Pool;
  logger: Logger;
  id: string;
  role: ProcessIdentity["role"];
  concurrency: number;
  intervalMs: number;
  state: () => ProcessState;
}): Promise<Heartbeat> {
  const identity: ProcessIdentity = { id: options.id, role: options.role, host: hostname(), pid: process.pid, concurrency: options.concurrency };
  const log = options.logger.child({ component: "heartbeat", runnerId: identity.id });
  let failing = false;
  let healthySince = Date.now();
  const beatNow = async () => {
    try {
      await beat(options.pool, identity, options.state());
      if (failing) {
        log.info("heartbeat restored");
        healthySince = Date.now();
      }
      failing = false;
    } catch (error) {
      if (!failing) log.warn({ err: error }, "heartbeat failed; retrying at the next tick");
      failing = true;
    }
  };
  await beat(options.pool, identity, options.state());
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = beatNow();
  }, options.intervalMs);
  timer.unref();
  return {
    identity,
    beatNow,
    healthyForMs: () => (failing ? 0 : Date.now() - healthySince),
    async stop() {
      clearInterval(timer);
      await inFlight;
      await removeHeartbeat(options.pool, identity.id).catch((error: unknown) => log.warn({ err: error }, "could not remove heartbeat"));
    },
  };
}
