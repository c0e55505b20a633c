import { fileURLToPath } from "node:url";
import pg from "pg";
import { runner } from "node-pg-migrate";
import { runMigrations as runWorkerMigrations } from "graphile-worker";
import type { Logger } from "../logger.ts";
import { databaseNameOf, withDatabaseName } from "./pool.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));
const DUPLICATE_DATABASE = "42P04";
const UNIQUE_VIOLATION = "23505";

/** Creates the database named in `connectionString` if it does not exist (safe when two processes race). */
export async function ensureDatabaseExists(connectionString: string, logger: Logger): Promise<void> {
  const name = databaseNameOf(connectionString);
  const admin = new pg.Client({ connectionString: withDatabaseName(connectionString, "postgres") });
  await admin.connect();
  try {
    const found = await admin.query("select 1 from pg_database where datname = $1", [name]);
    if (found.rowCount) return;
    await admin.query(`create database ${pg.escapeIdentifier(name)}`);
    logger.info({ database: name }, "created database");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== DUPLICATE_DATABASE && code !== UNIQUE_VIOLATION) throw error;
  } finally {
    await admin.end();
  }
}

/**
 * Applies the project's plain-SQL migrations (each once, in its own transaction, recorded in
 * `pgmigrations`, serialised by an advisory lock so concurrent starters wait), after
 * graphile-worker's own schema migrations.
 */
export async function migrate(connectionString: string, logger: Logger): Promise<void> {
  // The queue's schema first: iepgen's own migrations refer to it (its job_spec type).
  await runWorkerMigrations({ connectionString, logger: undefined });
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: "pgmigrations",
      direction: "up",
      count: Infinity,
      singleTransaction: false,
      advisoryLockMode: "wait",
      checkOrder: true,
      log: () => undefined,
    });
    for (const migration of applied) logger.info({ migration: migration.name }, "applied migration");
  } finally {
    await client.end();
  }
  await grantAppRole(connectionString);
}

/**
 * Lets iepgen_app (the role API requests run as; see migrations/0009_row_level_security.sql) use
 * every table, sequence and function of the app and of the queue, including those created by
 * migrations since. Idempotent; run after every migration.
 */
async function grantAppRole(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    // Concurrent GRANTs on one table can fail ("tuple concurrently updated"): one starter at a time.
    await client.query("select pg_advisory_lock(hashtextextended('iepgen:grants', 0))");
    for (const schema of ["public", "graphile_worker"]) {
      await client.query(`grant usage on schema ${schema} to iepgen_app`);
      await client.query(`grant select, insert, update, delete on all tables in schema ${schema} to iepgen_app`);
      await client.query(`grant usage, select on all sequences in schema ${schema} to iepgen_app`);
      await client.query(`grant execute on all functions in schema ${schema} to iepgen_app`);
    }
  } finally {
    await client.end();
  }
}

/** Everything a fresh machine needs before serving: the database, its extensions, all migrations. */
export async function prepareDatabase(connectionString: string, logger: Logger): Promise<void> {
  await ensureDatabaseExists(connectionString, logger);
  await migrate(connectionString, logger);
}
