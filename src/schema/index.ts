import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "../builder.ts";
import "./scalars.ts";
import "./errors.ts";
import "./viewer.ts";
import "./students.ts";
import "./guardians.ts";
import "./evidence.ts";
import "./ieps.ts";
import "./review.ts";
import "./generations.ts";
import "./generation-mutations.ts";
import "./batches.ts";
import "./templates.ts";
import "./assignments.ts";
import "./audit.ts";
import "./operations.ts";

/** The executable schema, built once from every domain module. */
export const schema = builder.toSchema();

/** The SDL checked in as schema.graphql (sorted, so diffs stay stable). */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
