import { env as readEnv, evidenceFileLimits, securityConfig } from "./env.ts";
import { prepareDatabase } from "./db/setup.ts";
import { resolveGemini } from "./gemini/config.ts";
import { createLogger } from "./logger.ts";
import { startRuntime } from "./runtime.ts";
import { listenHealth } from "./server.ts";

/** Entry point: `node src/main.ts all|api|worker` (npm start / npm run api / npm run worker). */
const MODES = ["all", "api", "worker"] as const;
type Mode = (typeof MODES)[number];

async function main(mode: Mode): Promise<void> {
  const env = readEnv();
  const logger = createLogger(env.LOG_LEVEL);
  if (env.usingDevJwtSecret) logger.warn("JWT_SECRET is not set: using the built-in development secret (never in production)");
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason, mode }, "unhandled promise rejection (a bug: logged, and the process keeps running)");
  });
  const gemini = await resolveGemini(env, logger);
  await prepareDatabase(env.DATABASE_URL, logger);
  let closeProbe: (() => Promise<void>) | undefined;
  const runtime = await startRuntime({
    databaseUrl: env.DATABASE_URL,
    poolMax: env.DATABASE_POOL_MAX,
    jwtSecret: env.JWT_SECRET,
    evidenceMaxChars: env.EVIDENCE_MAX_CHARS,
    evidenceFiles: evidenceFileLimits(env),
    production: env.NODE_ENV === "production",
    gemini: gemini.config,
    logger,
    worker: mode === "api" ? undefined : { concurrency: env.WORKER_CONCURRENCY, retentionDays: env.GENERATION_RETENTION_DAYS },
    workerConcurrencyHint: env.WORKER_CONCURRENCY,
    retry: { outageDelayMs: env.OUTAGE_RETRY_DELAY_MS, databaseDelayMs: 2000, backoffBaseMs: env.RETRY_BASE_DELAY_MS },
    recovery: { heartbeatMs: env.WORKER_HEARTBEAT_MS, deadAfterMs: env.WORKER_DEAD_AFTER_MS },
    security: securityConfig(env),
    api: mode === "worker" ? undefined : { host: env.HOST, port: env.PORT },
  });
  if (runtime.server) {
    logger.info({ url: `${runtime.server.url}/graphql`, mode }, "iepgen is serving GraphQL (GraphiQL in a browser)");
    process.stderr.write(
      `\niepgen ready: the web page at ${runtime.server.url}/, GraphiQL at ${runtime.server.url}/graphql — get a token with: npm run seed -- --demo\n\n`,
    );
  } else {
    const probe = env.WORKER_HEALTH_PORT === undefined ? undefined : await listenHealth(runtime.health, { host: env.HOST, port: env.WORKER_HEALTH_PORT });
    closeProbe = probe?.close;
    logger.info({ mode, concurrency: env.WORKER_CONCURRENCY, healthz: probe && `${probe.url}/healthz` }, "iepgen worker is running");
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing running jobs and open requests");
    const forced = setTimeout(() => {
      logger.error("shutdown took longer than 30 s; exiting");
      process.exit(1);
    }, 30_000).unref();
    await closeProbe?.();
    await runtime.close();
    await gemini.simulator?.close();
    clearTimeout(forced);
    logger.info("stopped");
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

const mode = (process.argv[2] ?? "all") as Mode;
if (!MODES.includes(mode)) {
  process.stderr.write(`usage: node src/main.ts ${MODES.join("|")}\n`);
  process.exit(2);
}
main(mode).catch((error: unknown) => {
  process.stderr.write(`iepgen failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
