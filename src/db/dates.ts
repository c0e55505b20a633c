import { z } from "zod";

/** "YYYY-MM-DD" of a Date's local calendar day: how node-postgres parses a `date` column (local midnight). */
function localDay(value: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
}

/** A nullable Postgres `date` column as "YYYY-MM-DD" (absent: null). */
export const LocalDateColumn = z.preprocess((value) => (value instanceof Date ? localDay(value) : value ?? null), z.string().nullable());
