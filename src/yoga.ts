import { randomUUID } from "node:crypto";
import { GraphQLError } from "graphql";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createYoga, maskError, type GraphiQLOptions, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { bearerToken, verifyToken, type Viewer } from "./auth.ts";
import type { AppDeps, GraphQLContext } from "./context.ts";
import { findUser } from "./db/schools.ts";
import { schema } from "./schema/index.ts";

/** What /healthz reports. `ok` decides 200 vs 503. */
export interface HealthReport {
  ok: boolean;
  database: "up" | "down";
  worker: "running" | "stopped" | "not-in-this-process";
  gemini: { mode: "google" | "simulator" | "custom-endpoint"; breaker: "closed" | "open" | "half-open" };
}

/** The context a transport passes in: HTTP gives `request`; graphql-ws gives `connectionParams`. */
export interface ServerContext {
  connectionParams?: Record<string, unknown>;
}

export interface AppOptions {
  health: () => Promise<HealthReport>;
  production: boolean;
}

export type App = YogaServerInstance<ServerContext, GraphQLContext>;

const GRAPHIQL_DEFAULT_QUERY = `# Paste the token printed by \`npm run seed -- --demo\` into Headers below, then:
query Students {
  students(first: 10) {
    totalCount
    edges { node { id fullName age grade disabilityCategories evidence { title status } } }
  }
}
`;

/** Creates the GraphQL app (schema, auth, error masking, /healthz). Listening is src/server.ts's job. */
export function createApp(deps: AppDeps, options: AppOptions): App {
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: {
      title: "iepgen",
      defaultQuery: GRAPHIQL_DEFAULT_QUERY,
      headers: JSON.stringify({ Authorization: "Bearer <token from npm run seed -- --demo>" }, null, 2),
      subscriptionsProtocol: "SSE",
    },
    renderGraphiQL: renderGraphiQLOnce,
    logging: {
      debug: (...args) => deps.logger.debug({ args }, "yoga"),
      info: (...args) => deps.logger.info({ args }, "yoga"),
      warn: (...args) => deps.logger.warn({ args }, "yoga"),
      error: (...args) => deps.logger.error({ args }, "yoga"),
    },
    maskedErrors: {
      isDev: !options.production,
      maskError: (error, message, isDev) => {
        const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
        if (!(original instanceof GraphQLError)) deps.logger.error({ err: original }, "unexpected error in a resolver");
        return maskError(error, message, isDev);
      },
    },
    context: (initial) => buildContext(deps, initial),
    plugins: [healthzPlugin(options.health)],
  });
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

async function buildContext(
  deps: AppDeps,
  initial: ServerContext & { request?: Request },
): Promise<GraphQLContext> {
  const authorization =
    typeof initial.connectionParams?.authorization === "string"
      ? initial.connectionParams.authorization
      : initial.request?.headers.get("authorization");
  const viewer = await authenticate(deps, authorization);
  const requestId = initial.request?.headers.get("x-request-id") ?? randomUUID();
  return { viewer, deps, logger: deps.logger.child({ requestId, userId: viewer.userId, schoolId: viewer.schoolId }) };
}

/** Verifies a bearer token and that its user still exists in its school; throws UNAUTHENTICATED (401). */
export async function authenticate(deps: AppDeps, authorization: string | null | undefined): Promise<Viewer> {
  const token = bearerToken(authorization);
  if (!token) throw unauthenticated("Authentication required: send Authorization: Bearer <token>");
  let viewer: Viewer;
  try {
    viewer = await verifyToken(token, deps.jwtSecret);
  } catch {
    throw unauthenticated("Invalid or expired token");
  }
  const user = await findUser(deps.pool, viewer.userId);
  if (!user || user.school_id !== viewer.schoolId) throw unauthenticated("The token's user no longer exists");
  return viewer;
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
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
