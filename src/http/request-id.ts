import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Plugin } from "graphql-yoga";
import type { Logger } from "../logger.ts";

/** The header a request id arrives in and is echoed back in. */
export const REQUEST_ID_HEADER = "x-request-id";
const MAX_LENGTH = 200;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** Probes and scrapes: their access lines are debug, not info. */
const QUIET_PATHS = new Set(["/healthz", "/metrics"]);

const ids = new WeakMap<Request, string>();

/** A client-sent id is kept when it is 1–200 printable ASCII characters (no spaces); else undefined. */
export function validRequestId(value: string | null | undefined): string | undefined {
  return value && value.length <= MAX_LENGTH && PRINTABLE.test(value) ? value : undefined;
}

const current = new AsyncLocalStorage<string>();

/**
 * Decides an HTTP request's id where Node receives it (the client's valid `X-Request-Id`, or a
 * new UUID, written back into the header for yoga to read) and handles the request inside it, so
 * every line logged while serving it, yoga's own included, can carry it (`currentRequestId`).
 */
export function withRequestId(req: IncomingMessage, handle: () => void): void {
  const id = validRequestId(req.headers[REQUEST_ID_HEADER] as string | undefined) ?? randomUUID();
  req.headers[REQUEST_ID_HEADER] = id;
  current.run(id, handle);
}

/** The id of the HTTP request being served in this async context, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore();
}

/**
 * The request's id, decided once per Request: the client's valid `X-Request-Id`, or a new UUID.
 * The context factory's logger and the response header both use it.
 */
export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (!id) {
    id = validRequestId(request.headers.get(REQUEST_ID_HEADER)) ?? randomUUID();
    ids.set(request, id);
  }
  return id;
}

/**
 * Gives every HTTP request an id and echoes it in `X-Request-Id` on every response (GraphQL,
 * GraphiQL, /healthz, errors). The request's own header is rewritten to the decided id, so code
 * that reads the header (the context factory) sees the same value. Logs one access line per
 * request (debug for /healthz and /metrics): requestId, method, path (never the query string:
 * GET variables may identify a student), status and time to the response's headers.
 */
export function requestIdPlugin(logger: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
      const id = requestIdOf(request);
      if (request.headers.get(REQUEST_ID_HEADER) !== id) request.headers.set(REQUEST_ID_HEADER, id);
    },
    onResponse({ request, response }) {
      const requestId = requestIdOf(request);
      response.headers.set(REQUEST_ID_HEADER, requestId);
      const durationMs = Math.round(performance.now() - (started.get(request) ?? performance.now()));
      const path = new URL(request.url, "http://localhost").pathname;
      const level = QUIET_PATHS.has(path) ? "debug" : "info";
      logger[level]({ requestId, method: request.method, path, status: response.status, durationMs }, "request");
    },
  };
}
