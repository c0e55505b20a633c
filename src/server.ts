import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { execute, subscribe } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { App } from "./yoga.ts";

/** An app listening on one port: GraphQL over HTTP and SSE, graphql-ws on the same path, /healthz. */
export interface ListeningServer {
  readonly url: string;
  readonly httpServer: Server;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  port: number;
  production: boolean;
  /** Checks graphql-ws connectionParams at connect time; a rejection closes the socket with 4403. */
  authorizeConnection: (connectionParams: Record<string, unknown>) => Promise<unknown>;
}

/** Starts listening (port 0 = any free port) and wires graphql-ws onto the app's GraphQL path. */
export async function listen(app: App, options: ListenOptions): Promise<ListeningServer> {
  const httpServer = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: app.graphqlEndpoint });
  const wsDisposable = useServer(
    {
      isProd: options.production,
      onConnect: async (ctx) =>
        options.authorizeConnection(ctx.connectionParams ?? {}).then(
          () => true,
          () => false,
        ),
      execute: (args) => (args.rootValue as { execute: typeof execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof subscribe }).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = app.getEnveloped({ connectionParams: ctx.connectionParams ?? {}, params });
        const args = {
          schema: enveloped.schema,
          operationName: params.operationName,
          document: enveloped.parse(params.query),
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

/**
 * A bare /healthz listener for a worker-only process (`npm run worker` with WORKER_HEALTH_PORT), so
 * an orchestrator can probe it: 200 with the health JSON when healthy, else 503.
 */
export async function listenHealth(
  health: () => Promise<{ ok: boolean }>,
  options: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || new URL(req.url ?? "/", "http://worker").pathname !== "/healthz") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found: try /healthz" }));
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
