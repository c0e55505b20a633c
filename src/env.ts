import { existsSync } from "node:fs";
import { z } from "zod";

const DEV_JWT_SECRET = "iepgen-development-secret-do-not-use-in-production";

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    HOST: z.string().default("0.0.0.0"),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    DATABASE_URL: z.string().default("postgresql://postgres@127.0.0.1:5432/iepgen"),
    DATABASE_POOL_MAX: z.coerce.number().int().min(2).default(10),
    // Checked on the field (not in the transform below) so it is reported alongside other bad variables.
    JWT_SECRET: optionalString.refine((value) => value === undefined || value.length >= 32, {
      message: "JWT_SECRET must be at least 32 characters",
    }),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
    WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5000),
    WORKER_DEAD_AFTER_MS: z.coerce.number().int().min(1000).default(20_000),
    WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    RETRY_BASE_DELAY_MS: z.coerce.number().int().min(10).default(2000),
    OUTAGE_RETRY_DELAY_MS: z.coerce.number().int().min(100).default(30_000),
    EVIDENCE_MAX_CHARS: z.coerce.number().int().min(1000).default(200_000),
    GEMINI_API_KEY: optionalString,
    GEMINI_BASE_URL: optionalString,
    GEMINI_MODEL: z.string().default("gemini-2.5-flash"),
    GEMINI_EMBEDDING_MODEL: z.string().default("gemini-embedding-001"),
    GEMINI_TIMEOUT_MS: z.coerce.number().int().min(100).default(120_000),
    GEMINI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
    GEMINI_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
    GEMINI_SIMULATOR_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  })
  .refine((raw) => raw.WORKER_DEAD_AFTER_MS >= 2 * raw.WORKER_HEARTBEAT_MS, {
    path: ["WORKER_DEAD_AFTER_MS"],
    message: "WORKER_DEAD_AFTER_MS must be at least twice WORKER_HEARTBEAT_MS (a live worker must not look dead)",
    when: () => true,
  })
  // `when` makes this run even when other variables failed, so one error lists every problem.
  .refine((raw) => !(raw.NODE_ENV === "production" && !raw.JWT_SECRET), {
    path: ["JWT_SECRET"],
    message: "JWT_SECRET is required when NODE_ENV=production",
    when: () => true,
  })
  .transform((raw) => ({ ...raw, JWT_SECRET: raw.JWT_SECRET ?? DEV_JWT_SECRET, usingDevJwtSecret: !raw.JWT_SECRET }));

/** Every setting iepgen reads from the environment, parsed and defaulted. See README "Configuration". */
export type Env = z.infer<typeof EnvSchema>;

/** Parses an environment (process.env by default); throws one readable error listing every bad variable. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join(".") || "(env)"}: ${issue.message}`);
    throw new Error(`Invalid environment:\n${lines.join("\n")}`);
  }
  return result.data;
}

let cached: Env | undefined;

/**
 * The process environment, parsed once; a `.env` file in the working directory fills in variables
 * the environment does not set. The only place in iepgen that reads process.env.
 */
export function env(): Env {
  if (!cached) {
    if (existsSync(".env")) process.loadEnvFile(".env");
    cached = parseEnv();
  }
  return cached;
}
