import { writeFile } from "node:fs/promises";
import { printSortedSchema } from "../schema/index.ts";

/** `npm run schema:print`: rewrites schema.graphql from the Pothos schema. */
const target = new URL("../../schema.graphql", import.meta.url);
await writeFile(target, printSortedSchema());
process.stderr.write(`wrote ${target.pathname}\n`);
