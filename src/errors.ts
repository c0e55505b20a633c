import { GraphQLError } from "graphql";
import type { z } from "zod";

/** One invalid input field: its path in the input and what is wrong with it. */
export interface FieldError {
  path: string[];
  message: string;
}

/** Expected failure: the input is invalid. Surfaces as the GraphQL `ValidationError` type. */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
  readonly fieldErrors: FieldError[];

  constructor(message: string, fieldErrors: FieldError[] = []) {
    super(message);
    this.fieldErrors = fieldErrors;
  }

  static fromZod(error: z.ZodError): ValidationError {
    const fieldErrors = error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message }));
    const summary = fieldErrors.map((f) => `${f.path.join(".") || "input"}: ${f.message}`).join("; ");
    return new ValidationError(`Invalid input: ${summary}`, fieldErrors);
  }
}

/** Expected failure: the thing asked for does not exist in the caller's school. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
  readonly resourceType: string;
  readonly resourceId: string;

  constructor(resourceType: string, resourceId: string) {
    super(`${resourceType} ${resourceId} was not found`);
    this.resourceType = resourceType;
    this.resourceId = resourceId;
  }
}

/** Parses input with a zod schema, turning failure into a typed ValidationError. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw ValidationError.fromZod(result.error);
  return result.data;
}

/**
 * Bad arguments on a query field whose type has no error union: a GraphQL error with
 * `extensions.code = "BAD_USER_INPUT"` and the offending argument path (never masked).
 */
export function badUserInput(message: string, path: string[]): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", fieldErrors: [{ path, message }] } });
}

/** Expected failure: the operation does not apply in the record's current state (e.g. cancelling a finished job). */
export class InvalidStateError extends Error {
  override readonly name = "InvalidStateError";
  readonly currentState: string;

  constructor(message: string, currentState: string) {
    super(message);
    this.currentState = currentState;
  }
}
