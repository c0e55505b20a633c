import { existsSync } from "node:fs";
import { z } from "zod";
import { DEFAULT_EVIDENCE_FILE_LIMITS, type EvidenceFileLimits } from "./evidence-limits.ts";
import type { SecurityConfig } from "./security.ts";

const DEV_JWT_SECRET = "iepgen-development-secret-do-not-use-in-production";

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

/** "3600", "90s", "90m", "12h" or "2d" in seconds; undefined when it is none of those. */
export function durationSeconds(value: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) return undefined;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

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
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(4),
    WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5000),
    WORKER_DEAD_AFTER_MS: z.coerce.number().int().min(1000).default(20_000),
    WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    RETRY_BASE_DELAY_MS: z.coerce.number().int().min(10).default(2000),
    OUTAGE_RETRY_DELAY_MS: z.coerce.number().int().min(100).default(30_000),
    JWT_MAX_TTL: z.string().default("12h").transform((value, ctx) => {
      const seconds = durationSeconds(value);
      if (seconds === undefined) ctx.addIssue({ code: "custom", message: "JWT_MAX_TTL must be a duration like 3600, 90m or 12h" });
      return seconds ?? 0;
    }),
    JWT_JWKS_URL: optionalString.refine((value) => value === undefined || URL.canParse(value), { message: "JWT_JWKS_URL must be a URL" }),
    JWT_ISSUER: optionalString,
    JWT_AUDIENCE: optionalString,
    CORS_ORIGINS: optionalString.transform((value) => value?.split(",").map((origin) => origin.trim()).filter(Boolean)),
    /** Who may read the schema: public (no token), authenticated, off. Default public outside production, authenticated in it. */
    INTROSPECTION: z.enum(["public", "authenticated", "off"]).optional(),
    GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).default(8),
    GRAPHQL_MAX_COST: z.coerce.number().int().min(10).default(5000),
    GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(1).default(15),
    GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(50).default(2000),
    GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(1).default(10),
    SESSION_RECHECK_MS: z.coerce.number().int().min(100).max(10_000).default(5000),
    API_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    RATE_LIMIT_USER_PER_MINUTE: z.coerce.number().int().min(1).default(30),
    RATE_LIMIT_SCHOOL_PER_MINUTE: z.coerce.number().int().min(1).default(300),
    GENERATION_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
    EVIDENCE_MAX_CHARS: z.coerce.number().int().min(1000).default(200_000),
    EVIDENCE_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(DEFAULT_EVIDENCE_FILE_LIMITS.maxBytes),
    EVIDENCE_MAX_PAGES: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_EVIDENCE_FILE_LIMITS.maxPages),
    EXTRACTION_THREADS: z.coerce.number().int().min(1).max(32).default(DEFAULT_EVIDENCE_FILE_LIMITS.extractionThreads),
    EXTRACTION_BUDGET_MS: z.coerce.number().int().min(100).default(DEFAULT_EVIDENCE_FILE_LIMITS.extractionBudgetMs),
    EVIDENCE_MAX_IMAGE_PIXELS: z.coerce.number().int().min(10_000).default(DEFAULT_EVIDENCE_FILE_LIMITS.maxImagePixels),
    EVIDENCE_MAX_UNCOMPRESSED_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_EVIDENCE_FILE_LIMITS.maxUncompressedBytes),
    GEMINI_API_KEY: optionalString,
    GEMINI_BASE_URL: optionalString,
    GEMINI_MODEL: z.string().default("gemini-2.5-flash"),
    GEMINI_EMBEDDING_MODEL: z.string().default("gemini-embedding-001"),
    GEMINI_TIMEOUT_MS: z.coerce.number().int().min(100).default(120_000),
    GEMINI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
    GEMINI_RPM: z.coerce.number().int().min(1).optional(),
    GEMINI_TPM: z.coerce.number().int().min(1).optional(),
    GEMINI_QUOTA_WAIT_MS: z.coerce.number().int().min(0).default(60_000),
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
  .refine((raw) => !raw.JWT_JWKS_URL || Boolean(raw.JWT_ISSUER && raw.JWT_AUDIENCE), {
    path: ["JWT_JWKS_URL"],
    message: "JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE too (tokens of another issuer or audience must be refused)",
    when: () => true,
  })
  .refine((raw) => !(raw.NODE_ENV === "production" && raw.JWT_SECRET === DEV_JWT_SECRET), {
    path: ["JWT_SECRET"],
    message: "JWT_SECRET is the public development secret: production needs a secret of its own",
    when: () => true,
  })
  .transform((raw) => ({
    ...raw,
    JWT_SECRET: raw.JWT_SECRET ?? DEV_JWT_SECRET,
    usingDevJwtSecret: !raw.JWT_SECRET || raw.JWT_SECRET === DEV_JWT_SECRET,
  }));

/** The security settings a process runs with, from the parsed environment. */
export function securityConfig(env: Env): SecurityConfig {
  return {
    jwt: { maxTtlSeconds: env.JWT_MAX_TTL, jwksUrl: env.JWT_JWKS_URL, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
    corsOrigins: env.CORS_ORIGINS,
    introspection: env.INTROSPECTION,
    requestLimits: {
      maxDepth: env.GRAPHQL_MAX_DEPTH, maxCost: env.GRAPHQL_MAX_COST, maxAliases: env.GRAPHQL_MAX_ALIASES,
      maxTokens: env.GRAPHQL_MAX_TOKENS, maxDirectives: env.GRAPHQL_MAX_DIRECTIVES,
    },
    rateLimits: { userPerMinute: env.RATE_LIMIT_USER_PER_MINUTE, schoolPerMinute: env.RATE_LIMIT_SCHOOL_PER_MINUTE },
    apiStatementTimeoutMs: env.API_STATEMENT_TIMEOUT_MS,
    sessionRecheckMs: env.SESSION_RECHECK_MS,
  };
}

/** The limits on evidence files and their extraction, from the parsed environment. */
export function evidenceFileLimits(env: Env): EvidenceFileLimits {
  return {
    maxBytes: env.EVIDENCE_MAX_BYTES, maxPages: env.EVIDENCE_MAX_PAGES, extractionThreads: env.EXTRACTION_THREADS,
    extractionBudgetMs: env.EXTRACTION_BUDGET_MS, maxImagePixels: env.EVIDENCE_MAX_IMAGE_PIXELS,
    maxUncompressedBytes: env.EVIDENCE_MAX_UNCOMPRESSED_BYTES,
  };
}

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
