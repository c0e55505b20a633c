/**
 * Security settings of one process (from env.ts in main.ts; tests pass their own). Every field
 * has a safe default, so a runtime built without them is as strict as production's defaults.
 */
export interface SecurityConfig {
  /** Bearer tokens: the longest lifetime accepted (`exp - iat`), and an optional identity provider. */
  jwt: { maxTtlSeconds: number; jwksUrl?: string; issuer?: string; audience?: string };
  /** Origins allowed by CORS and on WebSocket upgrades; undefined = same origin only in production, any outside it. */
  corsOrigins?: string[];
  /**
   * Who may introspect the schema: `public` (no token needed for a document that only asks for the
   * schema), `authenticated`, or `off` (nobody). Undefined: public outside production, authenticated in it.
   */
  introspection?: "public" | "authenticated" | "off";
  /** Bounded work per GraphQL request (graphql-armor), enforced before execution in every mode. */
  requestLimits: RequestLimits;
  /** Generation mutations per rolling minute, shared by every API process (kept in Postgres). */
  rateLimits: { userPerMinute: number; schoolPerMinute: number };
  /** Longest an API statement may run; the worker's pool has none. */
  apiStatementTimeoutMs: number;
  /** How often open subscriptions re-check their user (removed, moved school): at most 10 s. */
  sessionRecheckMs?: number;
}

export interface RequestLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
}

export const DEFAULT_SECURITY: SecurityConfig = {
  jwt: { maxTtlSeconds: 12 * 60 * 60 },
  requestLimits: { maxDepth: 8, maxCost: 5000, maxAliases: 15, maxTokens: 2000, maxDirectives: 10 },
  rateLimits: { userPerMinute: 30, schoolPerMinute: 300 },
  apiStatementTimeoutMs: 10_000,
};
