import { signToken } from "../auth.ts";
import { createPool } from "../db/pool.ts";
import { findUser } from "../db/schools.ts";
import { env } from "../env.ts";
import { isUuid } from "../ids.ts";
import { parseCliOptions } from "./args.ts";

/** `npm run token -- --user <id> [--expires 12h]`: prints a bearer token for an existing user. */
const usage = "npm run token -- --user <user id> [--expires 12h]";
const options = parseCliOptions({ user: { type: "string" }, expires: { type: "string" } }, usage);
if (!options.user || !isUuid(options.user)) {
  process.stderr.write(`--user must be a user id (a UUID, e.g. the userId printed by npm run seed -- --demo)\nusage: ${usage}\n`);
  process.exit(2);
}
const settings = env();
const pool = createPool(settings.DATABASE_URL, 2);
try {
  const user = await findUser(pool, options.user);
  if (!user) {
    process.stderr.write(`no user ${options.user} in ${settings.DATABASE_URL}\n`);
    process.exitCode = 1;
  } else {
    const token = await signToken({ userId: user.id, schoolId: user.school_id, role: user.role }, settings.JWT_SECRET, options.expires ?? "12h");
    process.stdout.write(`${token}\n`);
  }
} finally {
  await pool.end();
}
