import type { Plugin } from "graphql-yoga";
import type { AppDeps } from "../context.ts";
import { compressionPlugin } from "./compression.ts";
import { metricsPlugin } from "./metrics.ts";
import { requestIdPlugin } from "./request-id.ts";

/**
 * Operations plumbing on every request: the request id (echoed in `X-Request-Id`), response
 * compression, and /metrics (src/http/metrics.ts).
 */
export function observabilityPlugins(deps: AppDeps): Plugin[] {
  return [
    requestIdPlugin(deps.logger),
    metricsPlugin(deps),
    compressionPlugin(),
  ];
}
