import { getOperationAST, type DocumentNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { AppDeps } from "../context.ts";
import { METRICS_CONTENT_TYPE, observeGraphql, observeHttp, renderMetrics, trackSubscription } from "../monitoring/metrics.ts";

const ROUTES = new Set(["/graphql", "/healthz", "/metrics"]);

/**
 * Serves GET /metrics (Prometheus text format) and times what passes through yoga: HTTP requests by
 * route and status, GraphQL queries and mutations by operation name, and open subscription streams
 * by transport (graphql-ws when the context came from a socket's connectionParams, else SSE).
 */
export function metricsPlugin(_deps: AppDeps): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      started.set(request, performance.now());
      if (url.pathname !== "/metrics" || request.method !== "GET") return;
      const body = await renderMetrics();
      endResponse(new fetchAPI.Response(body, { status: 200, headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" } }));
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      if (start === undefined) return;
      const pathname = new URL(request.url, "http://api").pathname;
      observeHttp(request.method, ROUTES.has(pathname) ? pathname : "other", response.status, performance.now() - start);
    },
    onExecute({ args }) {
      const start = performance.now();
      const { name, type } = operationOf(args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          const failed = "errors" in result && Array.isArray(result.errors) && result.errors.length > 0;
          observeGraphql(name, type, failed ? "error" : "ok", performance.now() - start);
        },
      };
    },
    onSubscribe({ args }) {
      const transport = (args.contextValue as { connectionParams?: unknown }).connectionParams ? "graphql-ws" : "sse";
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in (result as object))) return;
          const end = trackSubscription(transport);
          return { onEnd: end };
        },
      };
    },
  };
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): { name: string; type: string } {
  const operation = getOperationAST(document, operationName);
  return { name: operation?.name?.value ?? "anonymous", type: operation?.operation ?? "unknown" };
}
