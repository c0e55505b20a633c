/**
 * Tenant scoping in depth: every statement the API runs on behalf of a request runs as the role
 * iepgen_app (no BYPASSRLS, not the owner) with the request's school in `iepgen.school_id`, so
 * Postgres row-level security (migrations/0009) shows and accepts only that school's rows, even to
 * a query that forgets its school condition. The school travels with the request's async context
 * (AsyncLocalStorage). Statements outside any request (heartbeats, health, system work) run as
 * the connecting role.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";

const school = new AsyncLocalStorage<string>();
const SYSTEM = "";
const SCHOOL_OF = Symbol("iepgen.school_id");

/** Runs `work` (and everything it starts) as `schoolId`: its statements on a tenant pool see that school only. */
export function asSchool<T>(schoolId: string, work: () => T): T {
  return school.run(schoolId, work);
}

/** The school the current async context runs as, if any. */
export function currentSchool(): string | undefined {
  return school.getStore();
}

/** Binds an async iterable to a school: each step runs as that school (subscriptions outlive their request). */
export function iterateAsSchool<T>(schoolId: string, source: AsyncIterable<T>): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: (...args) => asSchool(schoolId, () => iterator.next(...args)),
    return: (value?: unknown) => asSchool(schoolId, () => iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined })),
    throw: (error?: unknown) => asSchool(schoolId, () => iterator.throw?.(error) ?? Promise.reject(error)),
  } as AsyncIterableIterator<T>;
}

type ScopedClient = pg.PoolClient & { [SCHOOL_OF]?: string };

/**
 * A pool whose every statement (and transaction) runs as the current async context's school:
 * as iepgen_app with `iepgen.school_id` set inside a request, as the connecting role outside one.
 * A connection is switched only when the school it last ran as changes.
 */
export class TenantPool extends pg.Pool {
  override async connect(): Promise<pg.PoolClient>;
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  override connect(callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): Promise<pg.PoolClient> | void {
    if (callback) return super.connect(callback);
    return super.connect().then(async (client: ScopedClient) => {
      const wanted = currentSchool() ?? SYSTEM;
      if (client[SCHOOL_OF] !== wanted) {
        try {
          await client.query("select set_config('role', $1, false), set_config('iepgen.school_id', $2, false)",
            [wanted === SYSTEM ? "none" : "iepgen_app", wanted]);
        } catch (error) {
          client.release(error as Error);
          throw error;
        }
        client[SCHOOL_OF] = wanted;
      }
      return client;
    });
  }

  /** One statement on a scoped connection (promise form: the only one iepgen uses). */
  override query = ((text: string | pg.QueryConfig, values?: unknown[]) =>
    this.connect().then(async (client) => {
      try {
        return await client.query(text as string, values);
      } finally {
        client.release();
      }
    })) as pg.Pool["query"];
}
