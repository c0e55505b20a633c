import type { Plugin } from "graphql-yoga";
import type { AppDeps } from "../context.ts";

/**
 * Operations plumbing on every request: the request id (echoed in `X-Request-Id`), response
 * compression, and /metrics. Filled in by the operations work (issue 8).
 */
export function observabilityPlugins(_deps: AppDeps): Plugin[] {
  return [];
}
