import { GraphQLError } from "graphql";
import type { z } from "zod";

/** One invalid input field: its path in the input and what is wrong with it. */
export interface FieldError {
  path: string[];
  message: string;
}

/** Every iepgen id is a UUID (36 characters); an argument longer than this cannot be one and is refused unread. */
export const MAX_ID_LENGTH = 64;
/** At most this many characters of a caller's id are ever echoed back in an error. */
export const MAX_ECHOED_ID_LENGTH = 100;

/** Expected failure: the input is invalid. Surfaces as the GraphQL `ValidationError` type. */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
  readonly fieldErrors: FieldError[];

  constructor(message: string, fieldErrors: FieldError[] = [], options?: ErrorOptions) {
    super(message, options);
    this.fieldErrors = fieldErrors;
  }

  static fromZod(error: z.ZodError): ValidationError {
    return ValidationError.fromFieldErrors(error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })));
  }

  static fromFieldErrors(fieldErrors: FieldError[], options?: ErrorOptions): ValidationError {
    const summary = fieldErrors.map((f) => `${f.path.join(".") || "input"}: ${f.message}`).join("; ");
    return new ValidationError(`Invalid input: ${summary}`, fieldErrors, options);
  }
}

/** Expected failure: the thing asked for does not exist in the caller's school. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
  readonly resourceType: string;
  /** The id as given, cut to MAX_ECHOED_ID_LENGTH characters, with unstorable characters replaced. */
  readonly resourceId: string;

  constructor(resourceType: string, resourceId: string, options?: ErrorOptions) {
    const echoed = echoId(resourceId);
    super(`${resourceType} ${echoed} was not found`, options);
    this.resourceType = resourceType;
    this.resourceId = echoed;
  }
}

/** Expected failure: the operation does not apply in the record's current state (e.g. cancelling a finished job). */
export class InvalidStateError extends Error {
  override readonly name = "InvalidStateError";
  readonly currentState: string;

  constructor(message: string, currentState: string, options?: ErrorOptions) {
    super(message, options);
    this.currentState = currentState;
  }
}

/** Which budget a refused request exceeded. */
export type RateLimitScope = "USER" | "SCHOOL";

/** Expected failure: too many generation requests this minute; nothing was written. */
export class RateLimitedError extends Error {
  override readonly name = "RateLimitedError";
  /** Whole seconds until the same request would be accepted (at least 1). */
  readonly retryAfter: number;
  /** Requests allowed per rolling minute in this scope. */
  readonly limit: number;
  readonly scope: RateLimitScope;

  constructor(scope: RateLimitScope, limit: number, retryAfter: number) {
    const who = scope === "USER" ? "you" : "your school";
    super(`Too many generation requests: ${who} may make ${limit} per minute. Try again in ${retryAfter} s.`);
    this.scope = scope;
    this.limit = limit;
    this.retryAfter = retryAfter;
  }
}

/**
 * Parses input with a zod schema, turning failure into a typed ValidationError. Every string in
 * the input is checked first (see `findUnsafeText`), so no schema can let a NUL byte or an unpaired
 * surrogate through to SQL.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const unsafe = findUnsafeText(input);
  if (unsafe.length > 0) throw ValidationError.fromFieldErrors(unsafe);
  const result = schema.safeParse(input);
  if (!result.success) throw ValidationError.fromZod(result.error);
  return result.data;
}

/**
 * Why a string cannot be stored as text, or undefined. Postgres text cannot hold NUL, and an
 * unpaired UTF-16 surrogate would be silently replaced when encoded as UTF-8.
 */
export function unsafeTextProblem(value: string): string | undefined {
  if (value.includes("\0")) return "must not contain NUL characters";
  if (!value.isWellFormed()) return "must not contain unpaired surrogate characters";
  return undefined;
}

/** Every string within `value` (objects and arrays walked) that cannot be stored, with its path. */
export function findUnsafeText(value: unknown, path: string[] = []): FieldError[] {
  if (typeof value === "string") {
    const message = unsafeTextProblem(value);
    return message ? [{ path, message }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => findUnsafeText(item, [...path, String(index)]));
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.entries(value).flatMap(([key, item]) => findUnsafeText(item, [...path, key]));
  }
  return [];
}

/** An id safe to echo in an error: at most MAX_ECHOED_ID_LENGTH characters, unstorable characters replaced by U+FFFD. */
export function echoId(id: string): string {
  const cut = id.length > MAX_ECHOED_ID_LENGTH ? `${id.slice(0, MAX_ECHOED_ID_LENGTH)}…` : id;
  return cut.replaceAll("\0", "\uFFFD").toWellFormed();
}

/**
 * Bad arguments on a query field whose type has no error union: a GraphQL error with
 * `extensions.code = "BAD_USER_INPUT"` and the offending argument path (never masked).
 * `at` is the response path of the field, for errors raised before execution.
 */
export function badUserInput(message: string, path: string[], at?: ReadonlyArray<string | number>): GraphQLError {
  return new GraphQLError(message, { path: at, extensions: { code: "BAD_USER_INPUT", fieldErrors: [{ path, message }] } });
}
