import { parseArgs } from "node:util";

/** Parses `--name value` / `--flag` CLI options, exiting with usage text on anything unknown. */
export function parseCliOptions<const T extends Record<string, { type: "string" | "boolean" }>>(options: T, usage: string) {
  try {
    return parseArgs({ options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\nusage: ${usage}\n`);
    process.exit(2);
  }
}
