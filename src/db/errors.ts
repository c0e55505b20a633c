import pg from "pg";
import { InvalidStateError, NotFoundError, ValidationError, type FieldError } from "../errors.ts";

/** SQLSTATEs that say a value was wrong (class 22 data exceptions we expect from user input). */
const BAD_VALUE: Record<string, string> = {
  "22P02": "has the wrong format",
  "22001": "is too long",
  "22003": "is out of range",
  "22007": "is not a valid date or time",
  "22008": "is not a valid date or time",
  "22021": "must not contain NUL characters",
  "22P05": "must not contain NUL characters",
};

/**
 * The one place Postgres errors become typed errors (used by `withTransaction`):
 *
 * | SQLSTATE | meaning | becomes |
 * |---|---|---|
 * | 23505 | unique violation | InvalidStateError `ALREADY_EXISTS` |
 * | 23503 | foreign key: referenced row missing / still referenced | NotFoundError / InvalidStateError `IN_USE` |
 * | 23502, 23514 | not null, check | ValidationError (the column when Postgres names it) |
 * | 22P02, 22001, 22003, 22007, 22008 | bad text representation, too long, out of range, bad date | ValidationError |
 * | 22021, 22P05 | NUL or untranslatable character | ValidationError |
 *
 * Messages are iepgen's own: neither SQL nor the server's message (which may quote values) is
 * passed on; the original error stays as `cause` for logs. Anything else is returned unchanged
 * (and masked as unexpected if it reaches a client).
 */
export function mapDatabaseError(error: unknown): unknown {
  if (!(error instanceof pg.DatabaseError) || !error.code) return error;
  const options = { cause: error };
  const code = error.code;
  if (code === "23505") return new InvalidStateError("A record like this already exists", "ALREADY_EXISTS", options);
  if (code === "23503") return foreignKeyError(error, options);
  if (code === "23502" || code === "23514") {
    return ValidationError.fromFieldErrors([{ path: fieldPath(error), message: code === "23502" ? "is required" : "is not allowed" }], options);
  }
  const problem = BAD_VALUE[code];
  if (problem) return ValidationError.fromFieldErrors([{ path: fieldPath(error), message: problem }], options);
  return error;
}

function foreignKeyError(error: pg.DatabaseError, options: ErrorOptions): Error {
  const stillReferenced = /is still referenced from table/.exec(error.detail ?? "");
  if (stillReferenced) return new InvalidStateError("This record is still in use", "IN_USE", options);
  const missing = /^Key \((.+)\)=\((.*)\) is not present in table "([^"]+)"/.exec(error.detail ?? "");
  return new NotFoundError(recordName(missing?.[3]), missing?.[2]?.split(", ")[0] ?? "unknown", options);
}

/** The input field a column stands for (first_name → firstName), when Postgres names one. */
function fieldPath(error: pg.DatabaseError): FieldError["path"] {
  const column = error.column ?? checkColumn(error);
  return column ? [column.replace(/_([a-z])/g, (_m, letter: string) => letter.toUpperCase())] : [];
}

/** Postgres names column check constraints `<table>_<column>_check`. */
function checkColumn(error: pg.DatabaseError): string | undefined {
  if (!error.constraint || !error.table) return undefined;
  const match = new RegExp(`^${error.table}_(.+)_check$`).exec(error.constraint);
  return match?.[1];
}

/** "students" → "Student", "generation_batches" → "GenerationBatch": the resourceType NotFoundError uses elsewhere. */
function recordName(table: string | undefined): string {
  if (!table) return "record";
  const singular = table.replace(/ies$/, "y").replace(/(ch|sh|x)es$/, "$1").replace(/s$/, "");
  return singular.charAt(0).toUpperCase() + singular.slice(1).replace(/_([a-z])/g, (_m, letter: string) => letter.toUpperCase());
}
