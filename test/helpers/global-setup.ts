import type { TestProject } from "vitest/node";
import { buildWebIfStale } from "../../scripts/build-web.ts";
import { withDatabaseName } from "../../src/db/pool.ts";
import { prepareDatabase } from "../../src/db/setup.ts";
import { createLogger } from "../../src/logger.ts";
import { adminQuery, serverUrl, testDatabaseName } from "./database.ts";

const LEFTOVER_AGE_SECONDS = 2 * 60 * 60;

/**
 * Builds this run's migrated template database once; drops test databases left by old killed runs;
 * builds the web page (served by every test stack at `/`) when web/ is newer than web/dist.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildWebIfStale({ quiet: true }).catch((error: unknown) => console.warn("could not build the web page (only test/web needs it):", error));
  await dropLeftoverTestDatabases();
  const template = testDatabaseName("template");
  await prepareDatabase(withDatabaseName(serverUrl(), template), createLogger("warn", "stderr"));
  project.provide("templateDatabase", template);
  return async () => void (await adminQuery(`drop database if exists ${template} with (force)`));
}

async function dropLeftoverTestDatabases(): Promise<void> {
  const rows = await adminQuery<{ datname: string }>("select datname from pg_database where datname like 'iepgen\\_test\\_%'");
  const cutoff = Date.now() / 1000 - LEFTOVER_AGE_SECONDS;
  for (const { datname } of rows) {
    const createdAt = Number(/^iepgen_test_(\d+)_/.exec(datname)?.[1] ?? Number.NaN);
    if (createdAt < cutoff) await adminQuery(`drop database if exists "${datname}" with (force)`);
  }
}
