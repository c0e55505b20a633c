import type { YogaServerOptions } from "graphql-yoga";

/**
 * Which browser origins may call the API: CORS on HTTP and SSE, and the Origin check on WebSocket
 * upgrades (src/server.ts), so both transports answer the same question the same way.
 *
 * - `list`: the same origin, plus every origin in `security.corsOrigins` (CORS_ORIGINS);
 * - `same-origin`: production without a list; no cross-origin browser access at all;
 * - `any`: outside production without a list (local development), or a list containing `*`.
 *
 * A request without an Origin header does not come from a browser page and is not limited here.
 */
export interface OriginPolicy {
  readonly mode: "any" | "list" | "same-origin";
  /** Whether a browser page on `origin` may call the API served at `host` (the request's Host header). */
  allows(origin: string | null | undefined, host: string | null | undefined): boolean;
}

/** Builds the policy; throws (at startup) on an entry of CORS_ORIGINS that is not an origin. */
export function originPolicy(corsOrigins: string[] | undefined, production: boolean): OriginPolicy {
  if (corsOrigins === undefined ? !production : corsOrigins.includes("*")) {
    return { mode: "any", allows: () => true };
  }
  const allowed = new Set((corsOrigins ?? []).map(normalizeListed));
  return {
    mode: corsOrigins === undefined ? "same-origin" : "list",
    allows(origin, host) {
      if (origin === null || origin === undefined) return true;
      const normalized = normalizeOrigin(origin);
      if (normalized === undefined) return false;
      return allowed.has(normalized) || isSameOrigin(normalized, host);
    },
  };
}

/**
 * yoga's `cors` option for a policy: an allowed origin is echoed with
 * `Access-Control-Allow-Credentials: true` (and `Vary: Origin`); any other origin gets no CORS
 * headers, so the browser keeps the response from the page.
 */
export function yogaCors(policy: OriginPolicy): NonNullable<YogaServerOptions<object, object>["cors"]> {
  return (request: Request) =>
    policy.allows(request.headers.get("origin"), request.headers.get("host")) ? { credentials: true } : false;
}

function isSameOrigin(origin: string, host: string | null | undefined): boolean {
  return !!host && new URL(origin).host === host.toLowerCase();
}

/** `scheme://host[:port]` of an Origin header value, or undefined ("null", garbage). */
function normalizeOrigin(origin: string): string | undefined {
  if (!URL.canParse(origin)) return undefined;
  const parsed = new URL(origin);
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : undefined;
}

function normalizeListed(entry: string): string {
  const normalized = normalizeOrigin(entry);
  if (!normalized || new URL(entry).pathname.replace(/\/$/, "") !== "") {
    throw new Error(`CORS_ORIGINS: "${entry}" is not an origin like https://app.example.org`);
  }
  return normalized;
}
