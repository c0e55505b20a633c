import { Client, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from "@urql/core";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";

/** The page's connection to the API: urql over HTTP, subscriptions over graphql-ws (same origin). */
export interface Api {
  urql: Client;
  ws: WsClient;
  /** Called with "live", "reconnecting" or "offline" as the socket comes and goes. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** Called when the server refuses the token (expired, revoked, user removed), over HTTP or the socket. */
  onUnauthenticated(listener: (message: string) => void): void;
  dispose(): void;
}

export type ConnectionState = "live" | "reconnecting" | "idle";

/** Retry delays: 0.5 s, 1 s, 2 s … up to 8 s, with a little jitter; forever. */
function retryWait(retries: number): Promise<void> {
  const ms = Math.min(500 * 2 ** retries, 8000) + Math.random() * 300;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates the page's clients for one token. */
export function createApi(token: string): Api {
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let unauthenticated: (message: string) => void = () => undefined;
  const emit = (state: ConnectionState) => connectionListeners.forEach((listener) => listener(state));
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const ws = createWsClient({
    url,
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait,
    keepAlive: 10_000,
  });
  ws.on("connected", () => emit("live"));
  ws.on("closed", (event) => {
    const code = (event as CloseEvent | undefined)?.code;
    if (code === 4401 || code === 4403) unauthenticated("Your session has ended (the token expired or was revoked). Sign in again.");
    else emit(code === 1000 ? "idle" : "reconnecting");
  });
  const urql = new Client({
    url: "/graphql",
    exchanges: [
      mapExchange({
        onError: (error) => {
          if (isUnauthenticated(error)) unauthenticated("Your session has ended (the token expired or was revoked). Sign in again.");
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
    ],
    requestPolicy: "network-only",
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
  });
  return {
    urql,
    ws,
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    onUnauthenticated(listener) {
      unauthenticated = listener;
    },
    dispose() {
      connectionListeners.clear();
      void ws.dispose();
    },
  };
}

/** Whether an urql error says the token was refused (HTTP 401 / UNAUTHENTICATED). */
export function isUnauthenticated(error: CombinedError | undefined): boolean {
  if (!error) return false;
  const status = (error.response as Response | undefined)?.status;
  return status === 401 || error.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
}

/** A person-readable message from an urql error. */
export function errorMessage(error: CombinedError): string {
  if (error.networkError) return `Could not reach the server: ${error.networkError.message}`;
  return error.graphQLErrors.map((e) => e.message).join("; ") || error.message;
}
