import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GraphQLError, execute, subscribe } from "graphql";
import { CloseCode, type Context as WsContext } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { connectionAuthorization, type AuthFailure, type Session } from "./auth.ts";
import { guardSession, type Revocation, type SessionGuard } from "./http/revocation.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./monitoring/metrics.ts";
import type { App } from "./yoga.ts";
import { withRequestId } from "./http/request-id.ts";
import { webPage } from "./http/web.ts";

/** An app listening on one port: GraphQL over HTTP and SSE, graphql-ws on the same path, /healthz, the web page at `/`. */
export interface ListeningServer {
  readonly url: string;
  readonly httpServer: Server;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  port: number;
  production: boolean;
  /**
   * Checks graphql-ws connectionParams (their `authorization` under that lower-case key, whatever
   * case the client used) once, at connect time: a rejection with an UNAUTHENTICATED error refuses
   * the socket (4403). Afterwards the socket is closed (4401) at the token's expiry, or when the
   * shared re-check ticker (`app.connectionPolicy.watchers`, every `recheckMs`) finds its user
   * removed from its school: no signature is verified again.
   */
  authorizeConnection: (connectionParams: Record<string, unknown>) => Promise<Session>;
}

/** Close code of a socket whose session ended (token expired, user removed): the client must authenticate again. */
export const SESSION_ENDED_CLOSE_CODE = 4401;
/** Longest wait for a revoked socket's subscriptions to send their UNAUTHENTICATED result before it closes. */
const DRAIN_TIMEOUT_MS = 1000;

const CLOSE_REASONS: Record<AuthFailure, string> = {
  "missing-token": "missing token",
  "invalid-token": "invalid token",
  "token-expired": "token expired",
  "user-removed": "user removed",
};

/**
 * Starts listening (port 0 = any free port) and wires graphql-ws onto the app's GraphQL path.
 * Upgrades from an Origin the app's policy refuses get HTTP 403 before the handshake; a socket is
 * closed with 4401 when its token expires or its user is removed.
 */
export async function listen(app: App, options: ListenOptions): Promise<ListeningServer> {
  const web = webPage();
  const httpServer = createServer((req, res) => withRequestId(req, () => void (web(req, res) || app(req, res))));
  const { origins, watchers, logger } = app.connectionPolicy;
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: app.graphqlEndpoint,
    verifyClient: ({ origin, req }, done) =>
      origins.allows(origin, req.headers.host) ? done(true) : done(false, 403, "Origin not allowed"),
  });
  const guards = new WeakMap<WsContext, SessionGuard>();
  const authorize = (ctx: WsContext) => options.authorizeConnection(withAuthorization(ctx.connectionParams));
  const wsDisposable = useServer(
    {
      isProd: options.production,
      onConnect: async (ctx) => {
        const socket = (ctx.extra as { socket: WebSocket }).socket;
        let session: Session;
        try {
          session = await authorize(ctx);
        } catch (error) {
          const reason = failureOf(error);
          if (!reason) logger.error({ err: error }, "could not authorise a graphql-ws connection");
          socket.close(reason ? CloseCode.Forbidden : CloseCode.InternalServerError, reason ? CLOSE_REASONS[reason] : "Internal server error");
          return false;
        }
        const guard = guardSession({ expiresAt: session.expiresAt, viewer: session.viewer, watchers });
        guards.set(ctx, guard);
        void guard.revoked.then((reason) => closeWhenDrained(socket, guard, reason));
        return true;
      },
      onClose: (ctx) => guards.get(ctx)?.stop(),
      execute: (args) => (args.rootValue as { execute: typeof execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof subscribe }).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = app.getEnveloped({
          connectionParams: withAuthorization(ctx.connectionParams),
          connectionGuard: guards.get(ctx),
          params,
        });
        let document: ReturnType<typeof enveloped.parse>;
        try {
          document = enveloped.parse(params.query);
        } catch (error) {
          // Over-limit or malformed documents (request limits run at parse time): a typed error, not a closed socket.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const args = {
          schema: enveloped.schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        const errors = enveloped.validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
    },
    wsServer,
  );

  await new Promise<void>((resolve) => httpServer.listen(options.port, options.host, resolve));
  const address = httpServer.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const displayHost = host === "0.0.0.0" || host === "[::]" ? "localhost" : host;

  return {
    url: `http://${displayHost}:${address.port}`,
    httpServer,
    async close() {
      for (const client of wsServer.clients) client.close(1001, "server shutting down");
      await wsDisposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      setTimeout(() => httpServer.closeAllConnections(), 2000).unref();
      await closed;
    },
  };
}

/** connectionParams with the token under `authorization`, whichever case the client wrote it in. */
function withAuthorization(params: Record<string, unknown> | undefined): Record<string, unknown> {
  return { ...params, authorization: connectionAuthorization(params) };
}

/** The AuthFailure of an UNAUTHENTICATED error; undefined for anything else (e.g. the database is down). */
function failureOf(error: unknown): AuthFailure | undefined {
  if (!(error instanceof GraphQLError) || error.extensions.code !== "UNAUTHENTICATED") return undefined;
  return (error.extensions.reason as AuthFailure | undefined) ?? "invalid-token";
}

/** Lets every subscription send its UNAUTHENTICATED result and `complete`, then closes the socket with 4401. */
async function closeWhenDrained(socket: WebSocket, guard: SessionGuard, reason: Revocation): Promise<void> {
  await Promise.race([guard.drained(), new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref())]);
  setImmediate(() => socket.close(SESSION_ENDED_CLOSE_CODE, CLOSE_REASONS[reason]));
}

/**
 * A bare /healthz and /metrics listener for a worker-only process (`npm run worker` with
 * WORKER_HEALTH_PORT), so an orchestrator can probe it (200 with the health JSON when healthy, else
 * 503) and Prometheus can scrape it.
 */
export async function listenHealth(
  health: () => Promise<{ ok: boolean }>,
  options: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://worker").pathname;
    if (req.method === "GET" && pathname === "/metrics") {
      renderMetrics().then(
        (body) => res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE }).end(body),
        (error: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(error)),
      );
      return;
    }
    if (req.method !== "GET" || pathname !== "/healthz") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found: try /healthz or /metrics" }));
      return;
    }
    health().then(
      (report) => res.writeHead(report.ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(report)),
      (error: unknown) => res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, error: String(error) })),
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const address = server.address() as AddressInfo;
  const host = address.address === "0.0.0.0" || address.address === "::" ? "localhost" : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
