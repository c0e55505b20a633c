import { builder } from "../builder.ts";
import { InvalidStateError, NotFoundError, ValidationError, type FieldError } from "../errors.ts";

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
