import { env } from "../env.ts";
import { prepareDatabase } from "../db/setup.ts";
import { createLogger } from "../logger.ts";

/** `npm run migrate`: creates the database if missing and applies all migrations. */
const settings = env();
await prepareDatabase(settings.DATABASE_URL, createLogger(settings.LOG_LEVEL, "stderr"));
process.stderr.write("database is up to date\n");
