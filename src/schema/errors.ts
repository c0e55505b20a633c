import { builder } from "../builder.ts";
import { InvalidStateError, NotFoundError, RateLimitedError, ValidationError, type FieldError } from "../errors.ts";

/** Every expected failure in a payload union implements Error. */
export const ErrorInterface = builder.interfaceRef<Error>("Error").implement({
  fields: (t) => ({ message: t.exposeString("message") }),
});

const FieldErrorRef = builder.objectRef<FieldError>("FieldError").implement({
  description: "One invalid input field.",
  fields: (t) => ({
    path: t.exposeStringList("path", { description: "Path of the field within the input, e.g. [\"body\"]." }),
    message: t.exposeString("message"),
  }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  description: "The input was invalid; nothing was written.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ fieldErrors: t.field({ type: [FieldErrorRef], resolve: (error) => error.fieldErrors }) }),
});

builder.objectType(NotFoundError, {
  name: "NotFoundError",
  description: "The referenced record does not exist in the caller's school; nothing was written.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    resourceType: t.exposeString("resourceType"),
    resourceId: t.exposeString("resourceId"),
  }),
});

builder.objectType(InvalidStateError, {
  name: "InvalidStateError",
  description: "The operation does not apply in the record's current state; nothing was changed.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ currentState: t.exposeString("currentState") }),
});

const RateLimitScopeEnum = builder.enumType("RateLimitScope", {
  values: {
    USER: { description: "The caller's own budget (RATE_LIMIT_USER_PER_MINUTE)." },
    SCHOOL: { description: "The budget shared by everyone in the caller's school (RATE_LIMIT_SCHOOL_PER_MINUTE)." },
  },
});

builder.objectType(RateLimitedError, {
  name: "RateLimitedError",
  description: "Too many generation requests in the last minute (a batch counts as its size); nothing was written.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    retryAfter: t.exposeInt("retryAfter", { description: "Whole seconds until the same request would be accepted." }),
    limit: t.exposeInt("limit", { description: "Requests allowed per rolling minute in this scope." }),
    scope: t.field({ type: RateLimitScopeEnum, resolve: (error) => error.scope }),
  }),
});
