import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { withDatabaseName } from "../../src/db/pool.ts";
import { parseEnv } from "../../src/env.ts";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/** Test database names carry their creation time so leftovers of killed runs can be dropped later. */
export function testDatabaseName(kind: string): string {
  return `iepgen_test_${Math.floor(Date.now() / 1000)}_${kind}_${randomBytes(4).toString("hex")}`;
}

/** The server tests run against: DATABASE_URL's server (default the local one). */
export function serverUrl(): string {
  return parseEnv().DATABASE_URL;
}

export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: withDatabaseName(serverUrl(), "postgres") });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A database for one test file. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function describeDatabase(name: string): TestDatabase {
  return {
    name,
    url: withDatabaseName(serverUrl(), name),
    drop: async () => void (await adminQuery(`drop database if exists ${name} with (force)`)),
  };
}

/** A fresh database cloned from this run's migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = testDatabaseName("db");
  await adminQuery(`create database ${name} template ${inject("templateDatabase")}`);
  return describeDatabase(name);
}

/** A name for a database that does not exist yet, for tests of setup and migrations themselves. */
export function emptyTestDatabase(): TestDatabase {
  return describeDatabase(testDatabaseName("empty"));
}

/** Runs one query against any database URL on a short-lived connection. */
export async function queryDatabase<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
