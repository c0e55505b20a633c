import pg from "pg";
import { TenantPool } from "./tenant.ts";
import { mapDatabaseError } from "./errors.ts";
import { countStatement } from "../monitoring/metrics.ts";

/** Anything that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, "query"> | pg.PoolClient;

/**
 * Creates a connection pool (`statementTimeoutMs` bounds every statement on it; `tenant` makes it a
 * TenantPool, whose statements inside a request run under row-level security). Errors on idle
 * or checked-out clients (the database restarting, a terminated backend) are reported, never
 * fatal: the pool replaces the client. Its statements are counted under its name without the
 * "iepgen-" prefix ("api", "worker", "queue").
 */
export function createPool(
  connectionString: string,
  max = 10,
  onError?: (error: Error) => void,
  options: { statementTimeoutMs?: number; name?: string; tenant?: boolean } = {},
): pg.Pool {
  const pool = new (options.tenant ? TenantPool : pg.Pool)({
    connectionString, max, application_name: options.name ?? "iepgen",
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  pool.on("error", (error) => onError?.(error));
  const counted = (options.name ?? "iepgen").replace(/^iepgen-/, "");
  pool.on("connect", (client) => {
    client.on("error", (error) => onError?.(error));
    countStatements(client, counted);
  });
  return pool;
}

/**
 * Counts every statement a client sends (iepgen's and graphile-worker's alike: both go through
 * the pool's clients) in `iepgen_db_statements_total{pool}`.
 */
function countStatements(client: pg.PoolClient, pool: string): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    countStatement(pool);
    return query(...args);
  }) as pg.PoolClient["query"];
}

/**
 * Runs `work` inside one transaction on one client; commits on success, rolls back on any throw.
 * Postgres errors from bad values (unique, foreign key, check, NUL, too long, …) are rethrown as
 * typed errors by `mapDatabaseError` (src/db/errors.ts); anything else is rethrown as it was.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw mapDatabaseError(error);
  } finally {
    client.release();
  }
}

/** Replaces the database name in a postgres URL (used to reach the maintenance database). */
export function withDatabaseName(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** The database name a postgres URL points at. */
export function databaseNameOf(connectionString: string): string {
  const name = decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, ""));
  if (!name) throw new Error(`DATABASE_URL names no database: ${connectionString}`);
  return name;
}
