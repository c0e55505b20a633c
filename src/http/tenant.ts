import type { ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { GraphQLContext } from "../context.ts";
import { asSchool, iterateAsSchool } from "../db/tenant.ts";

/**
 * Runs every operation as its caller's school (src/db/tenant.ts): queries and mutations while they
 * execute, subscriptions for every step of their stream, so each of their statements runs under
 * row-level security for that school.
 */
export function tenantPlugin(): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const schoolId = (args.contextValue as Partial<GraphQLContext>).viewer?.schoolId;
      if (schoolId) setExecuteFn((executeArgs) => asSchool(schoolId, () => executeFn(executeArgs)));
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const schoolId = (args.contextValue as Partial<GraphQLContext>).viewer?.schoolId;
      if (!schoolId) return;
      setSubscribeFn(async (subscribeArgs) => {
        const result = await asSchool(schoolId, () => subscribeFn(subscribeArgs));
        return isAsyncIterable(result) ? iterateAsSchool(schoolId, result) : result;
      });
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
