import { randomUUID } from "node:crypto";
import { GraphQLError, Kind, parse } from "graphql";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createFetch } from "@whatwg-node/fetch";
import { createYoga, maskError, type GraphiQLOptions, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { bearerToken, checkJwtConfig, connectionAuthorization, TokenError, verifyBearer, type AuthFailure, type Session, type Viewer } from "./auth.ts";
import type { AppDeps, GraphQLContext } from "./context.ts";
import { findUser } from "./db/schools.ts";
import { asSchool } from "./db/tenant.ts";
import { originPolicy, yogaCors, type OriginPolicy } from "./http/cors.ts";
import { inputHygienePlugin } from "./http/hygiene.ts";
import { requestLimitPlugins } from "./http/limits.ts";
import { currentRequestId } from "./http/request-id.ts";
import { graphiqlOptions, graphiqlPlugin, introspectionAccess, introspectionPlugin } from "./http/graphiql.ts";
import { printPlugin } from "./http/print.ts";
import { downloadPlugin } from "./http/download.ts";
import { observabilityPlugins } from "./http/observability.ts";
import { tenantPlugin } from "./http/tenant.ts";
import { sharedWatchers, type Watchers } from "./http/watchers.ts";
import { DEFAULT_RECHECK_MS, revocationPlugin, type RevocableContext, type SessionGuard } from "./http/revocation.ts";
import type { Logger } from "./logger.ts";
import { schema } from "./schema/index.ts";
import { formatBytes } from "./services/evidence.ts";

/** What /healthz reports. `ok` decides 200 vs 503. */
export interface HealthReport {
  ok: boolean;
  database: "up" | "down";
  worker: "running" | "stopped" | "not-in-this-process";
  /** Times graphile-worker was restarted after stopping on its own (a database outage mid-job). */
  workerRestarts: number;
  /** Event-loop delay over the last few seconds (perf_hooks); blocks over 100 ms are also logged. */
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number };
  gemini: { mode: "google" | "simulator" | "custom-endpoint"; breaker: "closed" | "open" | "half-open" };
}

/** The context a transport passes in: HTTP gives `request`; graphql-ws gives `connectionParams`. */
export interface ServerContext {
  connectionParams?: Record<string, unknown>;
  /** graphql-ws only: the socket's guard, which ends its subscriptions when its session is revoked. */
  connectionGuard?: SessionGuard;
}

export interface AppOptions {
  health: () => Promise<HealthReport>;
  production: boolean;
  /** How often open subscriptions re-check their user (default DEFAULT_RECHECK_MS, 5 s). */
  recheckMs?: number;
}

/** What the listener (src/server.ts) applies to WebSocket upgrades and open sockets. */
export interface ConnectionPolicy {
  origins: OriginPolicy;
  recheckMs: number;
  logger: Logger;
  /** The process's shared re-check ticker at `recheckMs` (src/http/watchers.ts). */
  watchers: Watchers;
}

export type App = YogaServerInstance<ServerContext, GraphQLContext> & { readonly connectionPolicy: ConnectionPolicy };

/** GraphiQL's walk-through document (src/http/graphiql.ts), exported here for the tests that check it. */
export { GRAPHIQL_DEFAULT_QUERY } from "./http/graphiql.ts";

/**
 * Creates the GraphQL app (schema, auth, subscription revocation, CORS, error masking, /healthz).
 * Listening is src/server.ts's job; the app carries the origin policy and re-check interval it
 * applies to WebSockets. Throws on security settings that cannot be safe (see checkJwtConfig).
 */
export function createApp(deps: AppDeps, options: AppOptions): App {
  checkJwtConfig(deps.security.jwt);
  const recheckMs = options.recheckMs ?? deps.security.sessionRecheckMs ?? DEFAULT_RECHECK_MS;
  const connectionPolicy: ConnectionPolicy = {
    origins: originPolicy(deps.security.corsOrigins, options.production),
    recheckMs,
    logger: deps.logger,
    watchers: sharedWatchers(deps.pool, recheckMs, deps.logger),
  };
  const graphiql: GraphiQLOptions = graphiqlOptions();
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql,
    renderGraphiQL: renderGraphiQLOnce,
    logging: {
      debug: (...args) => deps.logger.debug(yogaLine(args), "yoga"),
      info: (...args) => deps.logger.info(yogaLine(args), "yoga"),
      warn: (...args) => deps.logger.warn(yogaLine(args), "yoga"),
      error: (...args) => deps.logger.error(yogaLine(args), "yoga"),
    },
    maskedErrors: {
      isDev: !options.production,
      maskError: (error, message, isDev) => {
        const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
        if (!(original instanceof GraphQLError)) deps.logger.error({ err: original }, "unexpected error in a resolver");
        return maskError(error, message, isDev);
      },
    },
    cors: yogaCors(connectionPolicy.origins),
    ...uploadLimits(deps.limits.evidenceFiles.maxBytes),
    context: (initial) => buildContext(deps, initial, options.production),
    plugins: [
      ...observabilityPlugins(deps),
      healthzPlugin(options.health),
      printPlugin(deps, authenticate),
      downloadPlugin(deps, authenticate),
      tooLargeMessagePlugin(deps.limits.evidenceFiles.maxBytes),
      graphiqlPlugin("/graphql", () => renderGraphiQLOnce(graphiql)),
      introspectionPlugin(introspectionAccess(deps.security.introspection, options.production)),
      ...requestLimitPlugins(deps.security.requestLimits, options.production),
      inputHygienePlugin(),
      tenantPlugin(),
      revocationPlugin(deps, connectionPolicy.recheckMs),
    ],
  });
  return Object.assign(yoga, { connectionPolicy });
}

/** yoga's own request-body limit (25 MB): JSON bodies keep it; a multipart upload may carry a file of EVIDENCE_MAX_BYTES. */
const YOGA_DEFAULT_BODY_LIMIT = 25_000_000;
/**
 * How far a file may go over EVIDENCE_MAX_BYTES and still be read whole: such a file is refused by
 * addEvidence with a ValidationError that names its size; a larger one is cut off while streaming.
 */
export const UPLOAD_SLACK_BYTES = 1024 * 1024;

/**
 * Multipart uploads (GraphQL multipart request spec): one file per request, cut off while it
 * streams once it passes EVIDENCE_MAX_BYTES + UPLOAD_SLACK_BYTES (HTTP 413, nothing more is
 * buffered), and a request body refused unread (413) when its Content-Length is over the limit.
 */
function uploadLimits(maxBytes: number): { fetchAPI: ReturnType<typeof createFetch>; maxRequestBodySize: number } {
  return {
    fetchAPI: createFetch({ formDataLimits: { fileSize: maxBytes + UPLOAD_SLACK_BYTES, files: 1, fields: 4, fieldSize: 1024 * 1024 } }),
    maxRequestBodySize: Math.max(YOGA_DEFAULT_BODY_LIMIT, maxBytes + 2 * UPLOAD_SLACK_BYTES),
  };
}

/** yoga's 413 answers (body or file too large) say what the limit is and which setting sets it. */
function tooLargeMessagePlugin(maxBytes: number): Plugin {
  const message = `The request is too large: an evidence file may be at most ${formatBytes(maxBytes, "down")} (EVIDENCE_MAX_BYTES)`;
  return {
    onResultProcess({ result }) {
      if (Array.isArray(result) || !("errors" in result)) return;
      for (const error of result.errors ?? []) {
        if (error.extensions?.code === "REQUEST_ENTITY_TOO_LARGE") error.message = message;
      }
    },
  };
}

/** A line yoga logs, with the id of the request it logs it for. */
function yogaLine(args: unknown[]): Record<string, unknown> {
  const requestId = currentRequestId();
  return requestId ? { args, requestId } : { args };
}

let graphiqlPage: string | undefined;

/**
 * GraphiQL with its assets inlined (no CDN: works offline and behind strict networks), rendered
 * once. SSE subscriptions carry the Headers pane (the bearer token) like queries do.
 */
function renderGraphiQLOnce(options?: GraphiQLOptions): string {
  graphiqlPage ??= renderGraphiQL(options);
  return graphiqlPage;
}

/** Stands in for a caller when only the schema is asked for (no resolver reads it). */
const SCHEMA_READER: Viewer = { userId: "00000000-0000-0000-0000-000000000000", schoolId: "00000000-0000-0000-0000-000000000000", role: "TEACHER" };

async function buildContext(
  deps: AppDeps,
  initial: ServerContext & { request?: Request; params?: { query?: string } },
  production: boolean,
): Promise<GraphQLContext & RevocableContext> {
  const authorization = initial.connectionParams
    ? connectionAuthorization(initial.connectionParams)
    : initial.request?.headers.get("authorization");
  const publicSchema = introspectionAccess(deps.security.introspection, production) === "public";
  if (!authorization && publicSchema && isIntrospectionOnly(initial.params?.query)) {
    return { viewer: SCHEMA_READER, deps, logger: deps.logger.child({ introspection: true }) };
  }
  const session = await authenticate(deps, authorization);
  const { viewer } = session;
  const requestId = initial.request?.headers.get("x-request-id") ?? randomUUID();
  return { viewer, session, deps, logger: deps.logger.child({ requestId, userId: viewer.userId, schoolId: viewer.schoolId }) };
}

/**
 * Verifies a bearer token (src/auth.ts verifyBearer) and that its user still exists in its school;
 * throws UNAUTHENTICATED (401) with `extensions.reason` (an AuthFailure). The viewer's school and
 * role always come from the user's row, read on every request (a changed role applies to the next
 * request); a token's own school claim must still match that row.
 */
export async function authenticate(deps: AppDeps, authorization: string | null | undefined): Promise<Session> {
  const token = bearerToken(authorization);
  if (!token) throw unauthenticated("Authentication required: send Authorization: Bearer <token>", "missing-token");
  let verified;
  try {
    verified = await verifyBearer(token, deps.jwtSecret, deps.security.jwt);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    throw unauthenticated(error.reason === "token-expired" ? "The token has expired" : `Invalid token: ${error.message}`, error.reason);
  }
  // Looked up as the token's school when it names one: the request's own statements run as that
  // school too, so its connections need no role switch between the two.
  const schoolId = verified.schoolId;
  const user = schoolId === undefined ? await findUser(deps.pool, verified.userId) : await asSchool(schoolId, () => findUser(deps.pool, verified.userId));
  if (!user || (verified.schoolId !== undefined && user.school_id !== verified.schoolId)) {
    throw unauthenticated("The token's user no longer exists in its school", "user-removed");
  }
  const viewer: Viewer = { userId: user.id, schoolId: user.school_id, role: user.role };
  return { viewer, expiresAt: verified.expiresAt };
}

/**
 * Whether a document asks only for the schema (__schema, __type, __typename at the top level).
 * With INTROSPECTION=public (the default outside production) such requests need no token, so
 * GraphiQL's docs and autocomplete work before one is pasted; the schema is public anyway
 * (schema.graphql is checked in). A request that sends a token has it checked as always.
 */
export function isIntrospectionOnly(query: string | undefined): boolean {
  if (!query) return false;
  try {
    const operations = parse(query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    return operations.length > 0 && operations.every((operation) =>
      operation.operation === "query" &&
      operation.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && selection.name.value.startsWith("__")));
  } catch {
    return false;
  }
}

function unauthenticated(message: string, reason: AuthFailure): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", reason, http: { status: 401 } } });
}

function healthzPlugin(health: () => Promise<HealthReport>): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== "/healthz") return;
      const report = await health();
      endResponse(
        new fetchAPI.Response(JSON.stringify(report), {
          status: report.ok ? 200 : 503,
          headers: { "content-type": "application/json", "cache-control": "no-store" },
        }),
      );
    },
  };
}
